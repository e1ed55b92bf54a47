import type { LinkRepository } from './store/links.js';
import type { RunRepository } from './store/runs.js';

/** The one-screen status an admin reads: links per state, what failed lately, the last passes. */
export function formatStatus(links: LinkRepository, runs: RunRepository, options: { runs: boolean }): string {
  const lines: string[] = [];
  const counts = links.countsByState();
  lines.push('Links by state');
  if (counts.length === 0) lines.push('  (none yet)');
  for (const { state, count } of counts) lines.push(`  ${state.padEnd(14)} ${String(count).padStart(6)}`);
  const failures = links.recentFailures(10);
  if (failures.length > 0) {
    lines.push('', 'Latest problems');
    for (const row of failures) {
      const when = new Date(row.updatedAt).toISOString().replace('T', ' ').slice(0, 19);
      const retry =
        row.nextAttemptAt > Date.now()
          ? `, next try ${new Date(row.nextAttemptAt).toISOString().slice(11, 19)}`
          : '';
      lines.push(
        `  ${when}  ${row.invoiceName}  [${row.state}, ${row.attempts} attempts${retry}]  ${row.lastError ?? row.stateReason ?? ''}`,
      );
    }
  }
  if (options.runs) {
    lines.push('', 'Latest passes');
    for (const kind of ['publish', 'confirm']) {
      const [run] = runs.latest(kind);
      if (!run) {
        lines.push(`  ${kind.padEnd(8)} never`);
        continue;
      }
      const when = new Date(run.startedAt).toISOString().replace('T', ' ').slice(0, 19);
      lines.push(
        `  ${kind.padEnd(8)} ${when}  ${run.outcome ?? 'running'}  ${run.summary ? JSON.stringify(run.summary) : ''}`,
      );
    }
  }
  return lines.join('\n');
}
