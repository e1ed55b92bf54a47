import type { Db } from '../store/database.js';
import type { Readiness, ReadinessReason } from './server.js';

/** Whether Odoo and the gateways answered lately (src/metrics/reachability.ts). */
export interface ReachabilityView {
  reachable(target: string): boolean;
  unreachableGateways(): string[];
}

/**
 * /readyz over every piece: why Odoo work is stopped (the base), then Odoo, the gateways and
 * the store as they are now. Codes only: details are in the log.
 */
export function readinessWithHealth(base: Readiness, reachability: ReachabilityView, db: Db): Readiness {
  const reasons: ReadinessReason[] = base.ok ? [] : [...(base.reasons ?? [base.reason])];
  if (!reachability.reachable('odoo') && !reasons.includes('odoo_unavailable'))
    reasons.push('odoo_unavailable');
  if (reachability.unreachableGateways().length > 0) reasons.push('gateway_unavailable');
  if (!storeAnswers(db)) reasons.push('store_unavailable');
  const [reason] = reasons;
  return reason ? { ok: false, reason, reasons } : { ok: true };
}

function storeAnswers(db: Db): boolean {
  if (!db.open) return false;
  try {
    db.prepare('SELECT 1').get();
    return true;
  } catch {
    return false;
  }
}
