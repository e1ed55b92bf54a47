/**
 * The one pooled SMTP transporter of the process, built from config. Errors leaving it are
 * rewrapped so the SMTP password can never travel into a log line or an outbox row.
 */
import nodemailer from 'nodemailer';
import type SMTPPool from 'nodemailer/lib/smtp-pool/index.js';
import { z } from 'zod';

export const smtpConfigSchema = z.object({
  host: z.string().min(1),
  port: z.number().int().min(1).max(65535),
  /** true = implicit TLS (port 465); false = plain, upgraded by STARTTLS when offered. */
  secure: z.boolean().default(false),
  /** Refuse to send unless STARTTLS succeeded. */
  requireTLS: z.boolean().default(false),
  tls: z.object({ rejectUnauthorized: z.boolean().default(true) }).default({ rejectUnauthorized: true }),
  auth: z.object({ user: z.string().min(1), pass: z.string() }).nullish(),
  /** The From header, e.g. '"Acme billing" <billing@acme.dz>'. */
  from: z.string().min(3),
  maxConnections: z.number().int().min(1).default(3),
  maxMessages: z.number().int().min(1).default(100),
  connectionTimeoutMs: z.number().int().positive().default(30_000),
  greetingTimeoutMs: z.number().int().positive().default(30_000),
  socketTimeoutMs: z.number().int().positive().default(120_000),
});

export type SmtpConfigInput = z.input<typeof smtpConfigSchema>;
export type SmtpConfig = z.output<typeof smtpConfigSchema>;

export interface OutgoingAttachment {
  filename: string;
  content: Buffer;
  contentType: string;
  /** Set for inline images referenced from the HTML as cid:<cid>. */
  cid?: string;
}

export interface OutgoingEmail {
  to: { name: string; address: string }[];
  replyTo?: string;
  subject: string;
  text: string;
  html: string;
  /** Full header value with angle brackets; reused across attempts so retries are recognisable. */
  messageId: string;
  attachments: OutgoingAttachment[];
  headers?: Record<string, string>;
}

export interface SendResult {
  messageId: string;
  response: string;
  accepted: string[];
  rejected: string[];
}

/** What the worker needs from a transport; tests can hand it a fake. */
export interface MailTransport {
  send(email: OutgoingEmail): Promise<SendResult>;
  verify(): Promise<void>;
  close(): void;
}

/** A send failure with nodemailer's fields kept and the password scrubbed from the texts. */
export class SmtpSendError extends Error {
  override name = 'SmtpSendError';
  constructor(
    message: string,
    readonly code: string | undefined,
    readonly responseCode: number | undefined,
    readonly response: string | undefined,
    readonly command: string | undefined,
  ) {
    super(message);
  }
}

function redactor(secrets: string[]): (text: string) => string {
  const present = secrets.filter((s) => s.length > 0);
  const encoded = present.flatMap((s) => [Buffer.from(s).toString('base64')]);
  const all = [...present, ...encoded];
  return (text) => all.reduce((out, secret) => out.split(secret).join('[redacted]'), text);
}

function toSendError(error: unknown, redact: (text: string) => string): SmtpSendError {
  const fields = (typeof error === 'object' && error !== null ? error : {}) as Record<string, unknown>;
  const str = (v: unknown) => (typeof v === 'string' ? redact(v) : undefined);
  const message = error instanceof Error ? error.message : String(error);
  return new SmtpSendError(
    redact(message),
    str(fields.code),
    typeof fields.responseCode === 'number' ? fields.responseCode : undefined,
    str(fields.response),
    str(fields.command),
  );
}

function addressList(value: unknown): string[] {
  if (!Array.isArray(value)) return [];
  return value.map((v) =>
    typeof v === 'string'
      ? v
      : typeof v === 'object' && v
        ? String((v as { address?: unknown }).address)
        : String(v),
  );
}

export function createMailTransport(input: SmtpConfigInput): MailTransport {
  const config = smtpConfigSchema.parse(input);
  const options: SMTPPool.Options = {
    pool: true,
    host: config.host,
    port: config.port,
    secure: config.secure,
    requireTLS: config.requireTLS,
    tls: { rejectUnauthorized: config.tls.rejectUnauthorized },
    maxConnections: config.maxConnections,
    maxMessages: config.maxMessages,
    connectionTimeout: config.connectionTimeoutMs,
    greetingTimeout: config.greetingTimeoutMs,
    socketTimeout: config.socketTimeoutMs,
    // nodemailer's own logger prints the SMTP dialogue, AUTH included: keep it off.
    logger: false,
    debug: false,
    ...(config.auth ? { auth: { user: config.auth.user, pass: config.auth.pass } } : {}),
  };
  const transporter = nodemailer.createTransport(options);
  const redact = redactor(config.auth?.pass ? [config.auth.pass] : []);

  return {
    async send(email) {
      try {
        const info = await transporter.sendMail({
          from: config.from,
          to: email.to,
          ...(email.replyTo ? { replyTo: email.replyTo } : {}),
          subject: email.subject,
          text: email.text,
          html: email.html,
          messageId: email.messageId,
          ...(email.headers ? { headers: email.headers } : {}),
          attachments: email.attachments.map((a) => ({
            filename: a.filename,
            content: a.content,
            contentType: a.contentType,
            ...(a.cid ? { cid: a.cid, contentDisposition: 'inline' as const } : {}),
          })),
        });
        return {
          messageId: info.messageId,
          response: redact(info.response),
          accepted: addressList(info.accepted),
          rejected: addressList(info.rejected),
        };
      } catch (error) {
        throw toSendError(error, redact);
      }
    },
    async verify() {
      try {
        await transporter.verify();
      } catch (error) {
        throw toSendError(error, redact);
      }
    },
    close() {
      transporter.close();
    },
  };
}
