/** The pooled transport against a real SMTP server that wants a login. */
import type { AddressInfo } from 'node:net';
import { SMTPServer } from 'smtp-server';
import { afterEach, describe, expect, it } from 'vitest';
import { classifySmtpError } from '../../src/mail/smtp-errors.js';
import { createMailTransport, type MailTransport, SmtpSendError } from '../../src/mail/transport.js';

const PASSWORD = 'hunter2-Sup3rSecret';
let server: SMTPServer | undefined;
let transport: MailTransport | undefined;

afterEach(async () => {
  transport?.close();
  await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
  server = undefined;
  transport = undefined;
});

async function authServer(acceptedPassword: string): Promise<number> {
  server = new SMTPServer({
    disabledCommands: ['STARTTLS'],
    allowInsecureAuth: true,
    logger: false,
    closeTimeout: 200,
    onAuth(auth, _session, callback) {
      if (auth.password === acceptedPassword) return callback(null, { user: auth.username });
      // A careless server that echoes the password back: it must not reach our logs or rows.
      return callback(new Error(`Invalid password ${auth.password} for ${auth.username}`));
    },
    onData(stream, _session, callback) {
      stream.resume();
      stream.on('end', () => callback());
    },
  });
  const s = server;
  await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', () => resolve()));
  return (s.server.address() as AddressInfo).port;
}

const message = {
  to: [{ name: 'Karim', address: 'karim@example.dz' }],
  subject: 'Test',
  text: 'hello',
  html: '<p>hello</p>',
  messageId: '<outbox-1.abc@odoo-paylink>',
  attachments: [],
};

describe('createMailTransport', () => {
  it('logs in and sends with the given Message-ID', async () => {
    const port = await authServer(PASSWORD);
    transport = createMailTransport({
      host: '127.0.0.1',
      port,
      auth: { user: 'billing', pass: PASSWORD },
      from: 'billing@atlas.dz',
    });
    const result = await transport.send(message);
    expect(result.messageId).toBe('<outbox-1.abc@odoo-paylink>');
    expect(result.accepted).toEqual(['karim@example.dz']);
  });

  it('reports a refused login as a configuration problem without the password anywhere', async () => {
    const port = await authServer('something-else');
    transport = createMailTransport({
      host: '127.0.0.1',
      port,
      auth: { user: 'billing', pass: PASSWORD },
      from: 'billing@atlas.dz',
    });
    const error = await transport.send(message).then(
      () => null,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(SmtpSendError);
    const sendError = error as SmtpSendError;
    expect(sendError.code).toBe('EAUTH');
    expect(sendError.responseCode).toBe(535);
    expect(classifySmtpError(sendError).kind).toBe('config');
    const everything = JSON.stringify({ ...sendError, message: sendError.message, stack: sendError.stack });
    expect(everything).toContain('[redacted]');
    expect(everything).not.toContain(PASSWORD);
    expect(everything).not.toContain(Buffer.from(PASSWORD).toString('base64'));
  });

  it('validates its config', () => {
    expect(() => createMailTransport({ host: '', port: 25, from: 'a@b.dz' })).toThrow();
    expect(() => createMailTransport({ host: 'smtp', port: 70000, from: 'a@b.dz' })).toThrow();
  });
});
