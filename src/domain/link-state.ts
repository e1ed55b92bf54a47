/**
 * The life of one invoice link. Each state names the next side effect to perform, so a restart
 * simply performs it again (every effect is idempotent), and each transition lists the states it
 * may start from: a repeated event is a no-op, an impossible one is refused.
 *
 *   creating ─► writing_back ─► open ─► paid ─► registered
 *                                 │      ├───► mismatch        (amount or currency differs: a person decides)
 *                                 │      └───► refund_needed   (paid, but the invoice was already settled or closed)
 *                                 ├─► closing ─► closed        (invoice cancelled, reset, reversed or paid elsewhere)
 *                                 └─► expired                  (gateway closed it unpaid: replaced by a new link)
 *   closing, closed, expired ─► paid  (paid late, while the invoice still needs that money)
 *   any working state ─► failed   (permanent refusal, last_error says why; `retry` resumes the step)
 */
export const LINK_STATES = [
  'creating',
  'writing_back',
  'open',
  'paid',
  'registered',
  'mismatch',
  'refund_needed',
  'closing',
  'closed',
  'expired',
  'failed',
] as const;
export type LinkState = (typeof LINK_STATES)[number];

/** States the daemon still has work to do in. */
export const WORKING_STATES: readonly LinkState[] = ['creating', 'writing_back', 'open', 'paid', 'closing'];

/**
 * States after which an invoice may get a new link (the partial unique index in the store mirrors
 * this). refund_needed is one: the money is a matter for a person, the invoice may still be paid.
 */
export const REPLACEABLE_STATES: readonly LinkState[] = ['closed', 'expired', 'refund_needed'];

const ALLOWED_FROM: Readonly<Record<LinkState, readonly LinkState[]>> = {
  // 'failed' into a working state is only an admin's retry of the step that failed.
  creating: ['failed'],
  writing_back: ['creating', 'failed'],
  open: ['writing_back', 'failed'],
  // closing, closed, expired too: money that arrived on an earlier link while the invoice still
  // needs it is this customer paying this invoice (the replacement is archived instead).
  paid: ['open', 'writing_back', 'failed', 'closing', 'closed', 'expired'],
  registered: ['paid'],
  mismatch: ['open', 'writing_back', 'paid'],
  refund_needed: ['open', 'writing_back', 'paid', 'closing', 'closed', 'expired'],
  closing: ['creating', 'writing_back', 'open', 'failed'],
  // 'open' too: the merchant closed the link at the gateway, nothing is left to do.
  closed: ['closing', 'open', 'writing_back'],
  expired: ['open', 'writing_back'],
  failed: ['creating', 'writing_back', 'open', 'paid', 'closing'],
};

export function allowedFrom(target: LinkState): readonly LinkState[] {
  return ALLOWED_FROM[target];
}

export function canTransition(from: LinkState, to: LinkState): boolean {
  return ALLOWED_FROM[to].includes(from);
}

export function isLinkState(value: string): value is LinkState {
  return (LINK_STATES as readonly string[]).includes(value);
}
