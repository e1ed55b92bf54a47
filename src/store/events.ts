import type { GatewayEvent } from '../gateways/gateway.js';
import type { Db } from './database.js';

export type EventState = 'pending' | 'processed' | 'ignored' | 'unknown_link';

export interface EventRow {
  readonly id: number;
  readonly gateway: string;
  readonly eventId: string;
  readonly type: string;
  readonly linkId: string | null;
  readonly linkReference: string | null;
  readonly transactionId: string | null;
  readonly concernsPayment: boolean;
  readonly state: EventState;
  readonly attempts: number;
  readonly receivedAt: number;
}

interface RawEventRow {
  id: number;
  gateway: string;
  event_id: string;
  type: string;
  link_id: string | null;
  link_reference: string | null;
  transaction_id: string | null;
  concerns_payment: number;
  state: EventState;
  attempts: number;
  received_at: number;
}

const toRow = (raw: RawEventRow): EventRow => ({
  id: raw.id,
  gateway: raw.gateway,
  eventId: raw.event_id,
  type: raw.type,
  linkId: raw.link_id,
  linkReference: raw.link_reference,
  transactionId: raw.transaction_id,
  concernsPayment: raw.concerns_payment === 1,
  state: raw.state,
  attempts: raw.attempts,
  receivedAt: raw.received_at,
});

/** The webhook inbox. An event is stored once (by gateway and event id) before it is acknowledged. */
export class EventRepository {
  private readonly statements;

  constructor(db: Db) {
    this.statements = {
      insert: db.prepare(
        `INSERT INTO events (gateway, event_id, type, link_id, link_reference, transaction_id, concerns_payment, body, state, received_at)
         VALUES (@gateway, @eventId, @type, @linkId, @linkReference, @transactionId, @concernsPayment, @body, @state, @now)
         ON CONFLICT (gateway, event_id) DO NOTHING`,
      ),
      due: db.prepare<[number, number], RawEventRow>(
        `SELECT * FROM events WHERE state = 'pending' AND next_attempt_at <= ? ORDER BY id LIMIT ?`,
      ),
      finish: db.prepare<[EventState, number, number]>(
        `UPDATE events SET state = ?, processed_at = ?, last_error = NULL WHERE id = ? AND state = 'pending'`,
      ),
      postpone: db.prepare<[string, number, number]>(
        `UPDATE events SET attempts = attempts + 1, last_error = ?, next_attempt_at = ? WHERE id = ?`,
      ),
      counts: db.prepare<[], { state: EventState; count: number }>(
        'SELECT state, COUNT(*) AS count FROM events GROUP BY state ORDER BY state',
      ),
      finishByEventId: db.prepare<[number, string, string]>(
        `UPDATE events SET state = 'processed', processed_at = ?, last_error = NULL
         WHERE gateway = ? AND event_id = ? AND state = 'pending'`,
      ),
      transactionIds: db.prepare<[string, string], { transaction_id: string }>(
        `SELECT transaction_id FROM events WHERE gateway = ? AND link_id = ? AND transaction_id IS NOT NULL
         GROUP BY transaction_id ORDER BY MIN(id)`,
      ),
      byState: db.prepare<[EventState, number], RawEventRow>(
        'SELECT * FROM events WHERE state = ? ORDER BY id DESC LIMIT ?',
      ),
    };
  }

  /** Marks an event handled where it arrived (a customer's return confirmed at once). */
  finishByEventId(gateway: string, eventId: string, now: number): void {
    this.statements.finishByEventId.run(now, gateway, eventId);
  }

  /** The transactions the gateway's notices and redirects named for a link, oldest first. */
  transactionIdsOf(gateway: string, linkId: string): string[] {
    return this.statements.transactionIds.all(gateway, linkId).map((row) => row.transaction_id);
  }

  /** Stores the event; false when the same event was stored before (a replay or a retry). */
  record(gateway: string, event: GatewayEvent, body: string, now: number): boolean {
    const result = this.statements.insert.run({
      gateway,
      eventId: event.id,
      type: event.type,
      linkId: event.linkId ?? null,
      linkReference: event.linkReference ?? null,
      transactionId: event.transactionId ?? null,
      concernsPayment: event.concernsPayment ? 1 : 0,
      body,
      state: event.concernsPayment ? 'pending' : 'ignored',
      now,
    });
    return result.changes === 1;
  }

  due(now: number, limit: number): EventRow[] {
    return this.statements.due.all(now, limit).map(toRow);
  }

  finish(id: number, state: Exclude<EventState, 'pending'>, now: number): void {
    this.statements.finish.run(state, now, id);
  }

  postpone(id: number, error: string, nextAttemptAt: number): void {
    this.statements.postpone.run(error, nextAttemptAt, id);
  }

  countsByState(): Array<{ state: EventState; count: number }> {
    return this.statements.counts.all();
  }

  inState(state: EventState, limit: number): EventRow[] {
    return this.statements.byState.all(state, limit).map(toRow);
  }
}
