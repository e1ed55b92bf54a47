/**
 * A loopback SMTP server that accepts everything (no auth, no TLS) and writes each message as
 * an .eml file, so the daemon can run end to end without a real mail server. Recipients at
 * reject.invalid are refused with 550, to exercise the permanent-failure path.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { readdir } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { SMTPServer } from 'smtp-server';
import type { SmtpConfig } from '../../mail/transport.js';

export interface SmtpCaptureOptions {
  /** Where .eml files go (created if missing). */
  dir: string;
  /** 0 (default) picks a free port. */
  port?: number;
  host?: string;
}

/** SMTP settings that deliver to a capture: plain text on loopback, one connection. */
export function captureSmtpConfig(capture: Pick<SmtpCapture, 'host' | 'port'>, from: string): SmtpConfig {
  return {
    host: capture.host,
    port: capture.port,
    secure: false,
    requireTLS: false,
    tls: { rejectUnauthorized: false },
    from,
    maxConnections: 1,
    maxMessages: 100,
    connectionTimeoutMs: 5_000,
    greetingTimeoutMs: 5_000,
    socketTimeoutMs: 10_000,
  };
}

export interface SmtpCapture {
  port: number;
  host: string;
  dir: string;
  /** Paths of the messages written so far, oldest first. */
  messages(): Promise<string[]>;
  close(): Promise<void>;
}

const REJECTED = /@reject\.invalid$/i;

class SmtpReply extends Error {
  constructor(
    message: string,
    readonly responseCode: number,
  ) {
    super(message);
  }
}

async function collect(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

export async function startSmtpCapture(options: SmtpCaptureOptions): Promise<SmtpCapture> {
  const { dir } = options;
  const host = options.host ?? '127.0.0.1';
  mkdirSync(dir, { recursive: true });
  let count = 0;

  const server = new SMTPServer({
    disabledCommands: ['STARTTLS', 'AUTH'],
    authOptional: true,
    logger: false,
    banner: 'odoo-paylink SMTP capture',
    closeTimeout: 1_000,
    onRcptTo(address, _session, callback) {
      if (REJECTED.test(address.address)) {
        callback(new SmtpReply(`5.1.1 <${address.address}>: Recipient address rejected: User unknown`, 550));
        return;
      }
      callback();
    },
    onData(stream, _session, callback) {
      collect(stream).then(
        (message) => {
          count += 1;
          // Padded so a plain name sort is also the arrival order.
          const name = `${String(Date.now()).padStart(15, '0')}-${String(count).padStart(6, '0')}.eml`;
          writeFileSync(join(dir, name), message);
          callback();
        },
        (error: unknown) => callback(error instanceof Error ? error : new Error(String(error))),
      );
    },
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  // smtp-server reports connection-level errors here; without a listener they would crash the process.
  server.on('error', () => undefined);
  const port = (server.server.address() as AddressInfo).port;

  return {
    port,
    host,
    dir,
    async messages() {
      return (await readdir(dir))
        .filter((f) => f.endsWith('.eml'))
        .sort()
        .map((f) => join(dir, f));
    },
    close() {
      return new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
