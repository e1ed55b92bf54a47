import type { z } from 'zod';
import type { Db } from './database.js';

/** Where `setup-gateway` keeps the webhook secret an instance gave us: `gateway.<id>.webhook.<account>`. */
export const WEBHOOK_SECRET_KEY = (gateway: string, account: string) =>
  `gateway.${gateway}.webhook.${account}`;

/** The webhook secrets among settings rows (values already parsed), by gateway and account. */
export function webhookSecretsIn(
  entries: Iterable<{ key: string; value: unknown }>,
): Record<string, Record<string, string>> {
  const secrets: Record<string, Record<string, string>> = {};
  for (const { key, value } of entries) {
    const match = /^gateway\.([^.]+)\.webhook\.(.+)$/.exec(key);
    if (!match?.[1] || !match[2] || typeof value !== 'string') continue;
    secrets[match[1]] = { ...secrets[match[1]], [match[2]]: value };
  }
  return secrets;
}

/**
 * Small facts the daemon keeps between runs, as JSON under a key: the Odoo database's identity,
 * webhook secrets registered through a gateway's API, alerts that pause work. Values are parsed
 * with a schema on the way out, like everything else that crosses a boundary.
 */
export class SettingsRepository {
  private readonly statements;

  constructor(db: Db) {
    this.statements = {
      get: db.prepare<[string], { value: string }>('SELECT value FROM settings WHERE key = ?'),
      set: db.prepare<[string, string, number]>(
        `INSERT INTO settings (key, value, updated_at) VALUES (?, ?, ?)
         ON CONFLICT(key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at`,
      ),
      remove: db.prepare<[string]>('DELETE FROM settings WHERE key = ?'),
      byPrefix: db.prepare<[string], { key: string; value: string }>(
        `SELECT key, value FROM settings WHERE key LIKE ? ESCAPE '\\' ORDER BY key`,
      ),
    };
  }

  /** The value under `key`, or undefined when absent or no longer of the expected shape. */
  get<T>(key: string, schema: z.ZodType<T>): T | undefined {
    const raw = this.statements.get.get(key);
    if (!raw) return undefined;
    try {
      const parsed = schema.safeParse(JSON.parse(raw.value));
      return parsed.success ? parsed.data : undefined;
    } catch {
      return undefined;
    }
  }

  set(key: string, value: unknown, now: number): void {
    this.statements.set.run(key, JSON.stringify(value), now);
  }

  remove(key: string): void {
    this.statements.remove.run(key);
  }

  /** Every key starting with `prefix`, with its value parsed by `schema` (unreadable ones skipped). */
  entries<T>(prefix: string, schema: z.ZodType<T>): Array<{ key: string; value: T }> {
    const escaped = prefix.replace(/[\\%_]/g, (char) => `\\${char}`);
    const out: Array<{ key: string; value: T }> = [];
    for (const raw of this.statements.byPrefix.all(`${escaped}%`)) {
      try {
        const parsed = schema.safeParse(JSON.parse(raw.value));
        if (parsed.success) out.push({ key: raw.key, value: parsed.data });
      } catch {
        // A value written by another version: ignored rather than fatal.
      }
    }
    return out;
  }
}
