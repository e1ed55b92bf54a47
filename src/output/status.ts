import type { App } from '../app.js';

function time(ms: number): string {
  return new Date(ms).toISOString().replace('T', ' ').slice(0, 19);
}

/** The one-screen status an admin reads: links per state, what needs a person, emails, webhooks, passes. */
export function formatStatus(
  app: Pick<App, 'links' | 'runs' | 'events' | 'mail' | 'notes'>,
  options: { runs: boolean },
): string {
  const lines: string[] = [];
  const counts = app.links.countsByState();
  lines.push('Links by state');
  if (counts.length === 0) lines.push('  (none yet)');
  for (const { state, count } of counts) lines.push(`  ${state.padEnd(14)} ${String(count).padStart(6)}`);

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
