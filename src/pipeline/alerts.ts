import { z } from 'zod';
import type { Logger } from '../log.js';
import type { SettingsRepository } from '../store/settings.js';

/**
 * Conditions that pause one kind of work until a person fixes something: a gateway refusing our
 * API key, an Odoo bot that cannot post notes, a company whose journal cannot take payments.
 * Each is logged once as an ALERT with the fix (not once per link, not every pass), kept in the
 * store so `status` shows it, and probed again now and then without hammering the other side.
 */
export interface Alert {
  readonly key: string;
  readonly message: string;
  readonly since: number;
  /** The next time one attempt may go through to see whether the cause is gone. */
  readonly probeAt: number;
}

const alertSchema = z.object({
  key: z.string(),
  message: z.string(),
  since: z.number(),
  probeAt: z.number(),
});

const PREFIX = 'alert.';

export class Alerts {
  private readonly active = new Map<string, Alert>();

  constructor(
    private readonly settings: SettingsRepository,
    private readonly log: Logger,
    private readonly now: () => number,
    private readonly probeEveryMs = 15 * 60_000,
  ) {}

  /**
   * Forgets what an earlier run alerted about (the daemon calls it at start): a restart after a
   * fix starts clean, and what is still wrong is raised again at its first attempt.
   */
  forgetStored(): void {
    for (const { key } of this.settings.entries(PREFIX, alertSchema)) this.settings.remove(key);
  }

  /** Raises (or keeps) the alert; logs only when it is new. */
  raise(key: string, message: string): void {
    const existing = this.active.get(key);
    const at = this.now();
    const alert: Alert = {
      key,
      message,
      since: existing?.since ?? at,
      probeAt: at + this.probeEveryMs,
    };
    this.active.set(key, alert);
    this.settings.set(PREFIX + key, alert, at);
    if (!existing || existing.message !== message) this.log.error(`ALERT: ${message}`, { alert: key });
  }

  clear(key: string): void {
    const existing = this.active.get(key);
    if (!existing) return;
    this.active.delete(key);
    this.settings.remove(PREFIX + key);
    this.log.info(`resolved: ${existing.message}`, { alert: key });
  }

  /** The alert, while work it pauses must wait (false once a probe is due). */
  blocking(key: string): Alert | undefined {
    const alert = this.active.get(key);
    return alert && this.now() < alert.probeAt ? alert : undefined;
  }

  get(key: string): Alert | undefined {
    return this.active.get(key);
  }

  list(): Alert[] {
    return [...this.active.values()];
  }
}

/** The alerts recorded in a store, for `status` in another process. */
export function storedAlerts(settings: SettingsRepository): Alert[] {
  return settings.entries(PREFIX, alertSchema).map((entry) => entry.value);
}
