import type { App } from '../app.js';
import { storedAlerts } from '../pipeline/alerts.js';
import { type Heartbeat, readHeartbeat, STALE_AFTER_MS } from '../store/heartbeat.js';

/** Readiness codes that leave the daemon idle until a person acts (src/main.ts readinessOf). */
const HALTING_REASONS = new Set([
  'odoo_credentials_refused',
  'odoo_unknown_database',
  'odoo_fields_missing',
  'odoo_identity_missing',
]);

/** Link states only a person can move on. */
const PERSON_STATES = new Set(['mismatch', 'refund_needed', 'failed']);

export type DaemonState = 'running' | 'halted' | 'not_running';

/** `status --json`: the facts `status` prints, and the exit code they give. */
export interface StatusReport {
  /** 0 healthy, 1 something needs a person, 2 the daemon is not running or is halted. */
  readonly exitCode: 0 | 1 | 2;
  readonly daemon: {
    readonly state: DaemonState;
    /** The latest heartbeat of `run` (ISO time), its pid and /readyz's reasons then. */
    readonly heartbeatAt: string | null;
    readonly heartbeatAgeSeconds: number | null;
    readonly pid: number | null;
    readonly reasons: readonly string[];
  };
  readonly alerts: ReadonlyArray<{ key: string; message: string; since: string }>;
  readonly links: Readonly<Record<string, number>>;
  /** Links in mismatch, refund_needed or failed. */
  readonly linksNeedingPerson: number;
  /** Invoices whose online-payment status is "attention" (a To-Do for the accountant). */
  readonly invoicesNeedingAttention: number;
  readonly notices: Readonly<Record<string, number>>;
  readonly recentProblems: ReadonlyArray<{
    invoice: string;
    state: string;
    attempts: number;
    updatedAt: string;
    nextAttemptAt: string | null;
    reason: string | null;
  }>;
  readonly emails: {
    readonly byState: Readonly<Record<string, number>>;
    readonly sent: Readonly<Record<string, number>>;
  } | null;
  readonly webhooks: Readonly<Record<string, number>>;
  readonly notesWaiting: number;
  readonly latestPasses: Readonly<
    Record<string, { startedAt: string; outcome: string; summary: Record<string, unknown> } | null>
  >;
}

const iso = (ms: number) => new Date(ms).toISOString();

/** Whether `run` is alive by its heartbeat: stale after a few beats missed, or idle by a refusal. */
export function daemonState(heartbeat: Heartbeat | undefined, now: number): DaemonState {
  if (!heartbeat || now - heartbeat.at > STALE_AFTER_MS) return 'not_running';
  return heartbeat.reasons.some((reason) => HALTING_REASONS.has(reason)) ? 'halted' : 'running';
}

export function statusReport(
  app: Pick<App, 'links' | 'runs' | 'events' | 'mail' | 'notes' | 'notices' | 'statuses' | 'settings'>,
  now: number = Date.now(),
): StatusReport {
  const heartbeat = readHeartbeat(app.settings);
  const state = daemonState(heartbeat, now);
  const alerts = storedAlerts(app.settings);
  const links = Object.fromEntries(app.links.countsByState().map(({ state, count }) => [state, count]));
  const linksNeedingPerson = Object.entries(links)
    .filter(([linkState]) => PERSON_STATES.has(linkState))
    .reduce((sum, [, count]) => sum + count, 0);
  const invoicesNeedingAttention = app.statuses.attentionCount();
  const needsPerson = alerts.length > 0 || linksNeedingPerson > 0 || invoicesNeedingAttention > 0;
  const latestPasses: Record<string, StatusReport['latestPasses'][string]> = {};
  for (const kind of ['publish', 'confirm', 'reconcile']) {
    const [run] = app.runs.latest(kind);
    const { detail: _detail, ...summary } = run?.summary ?? {};
    latestPasses[kind] = run
      ? { startedAt: iso(run.startedAt), outcome: run.outcome ?? 'running', summary }
      : null;
  }
  return {
    exitCode: state !== 'running' ? 2 : needsPerson ? 1 : 0,
    daemon: {
      state,
      heartbeatAt: heartbeat ? iso(heartbeat.at) : null,
      heartbeatAgeSeconds: heartbeat ? Math.round((now - heartbeat.at) / 1000) : null,
      pid: heartbeat?.pid ?? null,
      reasons: heartbeat?.reasons ?? [],
    },
    alerts: alerts.map((alert) => ({ key: alert.key, message: alert.message, since: iso(alert.since) })),
    links,
    linksNeedingPerson,
    invoicesNeedingAttention,
    notices: Object.fromEntries(app.notices.countsByKind().map(({ kind, count }) => [kind, count])),
    recentProblems: app.links.recentFailures(10).map((row) => ({
      invoice: row.invoiceName,
      state: row.state,
      attempts: row.attempts,
      updatedAt: iso(row.updatedAt),
      nextAttemptAt: row.nextAttemptAt > now ? iso(row.nextAttemptAt) : null,
      reason: row.stateReason ?? row.lastError ?? null,
    })),
    emails: app.mail
      ? { byState: app.mail.outbox.countsByState(), sent: app.mail.outbox.sentByKind() }
      : null,
    webhooks: Object.fromEntries(app.events.countsByState().map(({ state, count }) => [state, count])),
    notesWaiting: app.notes.pendingCount(),
    latestPasses,
  };
}

/** The daemon line of the text status. */
export function describeDaemon(report: StatusReport['daemon']): string {
  const beat = report.heartbeatAt
    ? `last heartbeat ${report.heartbeatAt.replace('T', ' ').slice(0, 19)}, ${report.heartbeatAgeSeconds} s ago, pid ${report.pid}`
    : 'no heartbeat of `run` in this store';
  switch (report.state) {
    case 'running':
      return `Daemon  running (${beat})`;
    case 'halted':
      return `Daemon  HALTED: ${report.reasons.join(', ')} (${beat}); see its log, fix, restart`;
    case 'not_running':
      return `Daemon  NOT RUNNING (${beat})`;
  }
}
