import type { App } from '../app.js';
import type { PublishScope } from '../domain/invoice.js';
import { storedAlerts } from '../pipeline/alerts.js';
import type { PublishPreview } from '../pipeline/passes.js';
import { describeDaemon, type StatusReport } from './status-report.js';

function time(ms: number): string {
  return new Date(ms).toISOString().replace('T', ' ').slice(0, 19);
}

/** The one-screen status an admin reads: links per state, what needs a person, emails, webhooks, passes. */
export function formatStatus(
  app: Pick<App, 'links' | 'runs' | 'events' | 'mail' | 'notes' | 'notices' | 'settings'>,
  options: { runs: boolean; daemon?: StatusReport['daemon'] },
): string {
  const lines: string[] = [];
  if (options.daemon) lines.push(describeDaemon(options.daemon), '');
  const alerts = storedAlerts(app.settings);
  if (alerts.length > 0) {
    lines.push('ALERTS (work paused until fixed)');
    for (const alert of alerts) lines.push(`  since ${time(alert.since)}  ${alert.message}`);
    lines.push('');
  }
  const counts = app.links.countsByState();
  lines.push('Links by state');
  if (counts.length === 0) lines.push('  (none yet)');
  for (const { state, count } of counts) lines.push(`  ${state.padEnd(14)} ${String(count).padStart(6)}`);

  const notices = app.notices.countsByKind();
  if (notices.length > 0) {
    lines.push('', 'Invoices without a link of ours');
    const words = {
      foreign_link: 'carry a link another deployment made (left alone)',
      unsupported_currency: 'are in a currency the gateway cannot charge',
    } as const;
    for (const { kind, count } of notices) lines.push(`  ${String(count).padStart(6)} ${words[kind]}`);
  }

  const problems = app.links.recentFailures(10);
  if (problems.length > 0) {
    lines.push('', 'Needs attention (latest first)');
    for (const row of problems) {
      const retry = row.nextAttemptAt > Date.now() ? `, next try ${time(row.nextAttemptAt).slice(11)}` : '';
      lines.push(
        `  ${time(row.updatedAt)}  ${row.invoiceName}  [${row.state}, ${row.attempts} attempts${retry}]  ${row.stateReason ?? row.lastError ?? ''}`,
      );
    }
  }

  if (app.mail) {
    const mail = app.mail.outbox.countsByState();
    const parts = Object.entries(mail).filter(([, count]) => count > 0);
    lines.push(
      '',
      `Emails  ${parts.length > 0 ? parts.map(([state, count]) => `${state} ${count}`).join(', ') : 'none yet'}`,
    );
    const byKind = app.mail.outbox.sentByKind();
    if (byKind.invoice + byKind.reminder + byKind.resend > 0)
      lines.push(
        `  sent: ${byKind.invoice} first emails, ${byKind.reminder} reminders, ${byKind.resend} on request`,
      );
    for (const row of app.mail.outbox.recentFailures(5)) {
      lines.push(`  invoice ${row.invoiceId}  [${row.state}]  ${row.lastError ?? 'no valid email address'}`);
    }
  }

  const events = app.events.countsByState();
  if (events.length > 0) {
    lines.push('', `Webhooks  ${events.map(({ state, count }) => `${state} ${count}`).join(', ')}`);
  }
  const pendingNotes = app.notes.pendingCount();
  if (pendingNotes > 0) lines.push(`Chatter notes waiting for Odoo: ${pendingNotes}`);

  if (options.runs) {
    lines.push('', 'Latest passes');
    for (const kind of ['publish', 'confirm', 'reconcile']) {
      const [run] = app.runs.latest(kind);
      if (!run) {
        lines.push(`  ${kind.padEnd(9)} never`);
        continue;
      }
      const { detail: _detail, ...summary } = run.summary ?? {};
      lines.push(
        `  ${kind.padEnd(9)} ${time(run.startedAt)}  ${run.outcome ?? 'running'}  ${JSON.stringify(summary)}`,
      );
    }
  }
  return lines.join('\n');
}

/** What `sync --dry-run` prints: the effect a publish pass would have now. */
export function formatPublishPreview(preview: PublishPreview, scope: PublishScope): string {
  const lines = [
    `dry run: nothing was created, emailed or written`,
    `open invoices            ${preview.open}`,
    `would get a link         ${preview.wouldLink}${preview.oldest ? ` (oldest dated ${preview.oldest})` : ''}`,
    `would be emailed         ${preview.wouldEmail}`,
    `already linked           ${preview.linked}`,
    `dated before ${scope.since ?? 'publish.since'}  ${preview.beforeSince}`,
    `excluded                 ${preview.excluded}`,
    `currency not supported   ${preview.unsupportedCurrency}`,
  ];
  return lines.join('\n');
}
