import type { MailTransport, OutgoingEmail } from '../../src/mail/transport.js';

/**
 * A mail transport that keeps every email handed to it, shared by the apps of a test the way one
 * SMTP server is shared by a daemon's restarts: what a customer received, whichever process sent it.
 */
export class Mailbox implements MailTransport {
  readonly sent: OutgoingEmail[] = [];

  async send(email: OutgoingEmail) {
    this.sent.push(email);
    return {
      messageId: email.messageId,
      response: '250 OK',
      accepted: email.to.map((to) => to.address),
      rejected: [],
    };
  }

  async verify(): Promise<void> {}

  close(): void {}

  /** How many emails name this invoice in their subject. */
  countFor(invoiceName: string): number {
    return this.sent.filter((email) => email.subject.includes(invoiceName)).length;
  }
}
