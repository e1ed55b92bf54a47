import { randomUUID } from 'node:crypto';
import { signMyTpePayload } from '../../gateways/mytpe/webhook.js';

/**
 * Sends MyTPE v2 webhooks (spec §5): signed POSTs with the same delivery id on every retry, on
 * non-2xx or network error, up to `maxAttempts` in all.
 */

export interface WebhookDeliveryAttempt {
  readonly deliveryId: string;
  readonly event: string;
  readonly url: string;
  /** 1 for the first try. */
  readonly attempt: number;
  /** HTTP status of the answer, or null when none arrived. */
  readonly status: number | null;
  readonly ok: boolean;
  readonly error?: string | undefined;
  readonly at: Date;
}

export interface WebhookTarget {
  readonly url: string;
  readonly secret: string;
}

export interface WebhookDispatcherOptions {
  readonly retryDelaysMs: readonly number[];
  readonly maxAttempts: number;
  readonly now: () => Date;
  readonly timeoutMs?: number;
}

const RAW_NUMBER = '\u0000raw-number:';

/**
 * Marks a decimal text to be written as a bare JSON number, so the payload carries `5000.00`
 * exactly as MyTPE prints it rather than what JSON.stringify would make of a double.
 */
export function rawJsonNumber(decimalText: string): string {
  return `${RAW_NUMBER}${decimalText}`;
}

export function serializePayload(payload: unknown): string {
  return JSON.stringify(payload).replace(/"\\u0000raw-number:(-?\d+(?:\.\d+)?)"/g, '$1');
}

export class WebhookDispatcher {
  readonly log: WebhookDeliveryAttempt[] = [];
  private readonly pending = new Set<Promise<void>>();
  private readonly timers = new Set<NodeJS.Timeout>();
  private readonly wakers = new Set<() => void>();
  private readonly abort = new AbortController();
  // First attempts go out one at a time, in the order the events happened.
  private firstAttempts: Promise<unknown> = Promise.resolve();
  private closed = false;

  constructor(private readonly options: WebhookDispatcherOptions) {}

  /**
   * Queues one delivery. `buildPayload` receives the delivery id, which the payload repeats as
   * `delivery_id`.
   */
  send(target: WebhookTarget, event: string, buildPayload: (deliveryId: string) => unknown): string {
    const deliveryId = randomUUID();
    const body = serializePayload(buildPayload(deliveryId));
    if (this.closed) return deliveryId;
    const first = this.firstAttempts.then(() => this.attempt(target, event, deliveryId, body, 1));
    this.firstAttempts = first.catch(() => undefined);
    const run = first.then(async (ok) => {
      for (let attempt = 2; !ok && attempt <= this.options.maxAttempts && !this.closed; attempt++) {
        const delays = this.options.retryDelaysMs;
        await this.sleep(delays[attempt - 2] ?? delays[delays.length - 1] ?? 0);
        if (this.closed) return;
        ok = await this.attempt(target, event, deliveryId, body, attempt);
      }
    });
    this.pending.add(run);
    void run.finally(() => this.pending.delete(run));
    return deliveryId;
  }

  /** Resolves when every queued delivery has succeeded or used up its attempts. */
  async flush(): Promise<void> {
    while (this.pending.size > 0) await Promise.allSettled([...this.pending]);
  }

  close(): void {
    this.closed = true;
    this.abort.abort();
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
    for (const wake of this.wakers) wake();
    this.wakers.clear();
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const wake = () => {
        clearTimeout(timer);
        this.timers.delete(timer);
        this.wakers.delete(wake);
        resolve();
      };
      const timer = setTimeout(wake, ms);
      this.timers.add(timer);
      this.wakers.add(wake);
    });
  }

  private async attempt(
    target: WebhookTarget,
    event: string,
    deliveryId: string,
    body: string,
    attempt: number,
  ): Promise<boolean> {
    if (this.closed) return false;
    const timestamp = String(Math.floor(this.options.now().getTime() / 1000));
    let status: number | null = null;
    let error: string | undefined;
    try {
      const response = await fetch(target.url, {
        method: 'POST',
        headers: {
          'Content-Type': 'application/json',
          'User-Agent': 'MytpePay-Webhook/1.0',
          'X-MytpePay-Signature': signMyTpePayload(body, timestamp, target.secret),
          'X-MytpePay-Timestamp': timestamp,
          'X-MytpePay-Event': event,
          'X-MytpePay-Delivery-Id': deliveryId,
        },
        body,
        signal: AbortSignal.any([this.abort.signal, AbortSignal.timeout(this.options.timeoutMs ?? 10_000)]),
      });
      status = response.status;
      // Drain so the connection can be reused.
      await response.arrayBuffer().catch(() => undefined);
    } catch (caught) {
      error =
        caught instanceof Error
          ? caught.cause instanceof Error
            ? caught.cause.message
            : caught.message
          : 'error';
    }
    const ok = status !== null && status >= 200 && status < 300;
    this.log.push({
      deliveryId,
      event,
      url: target.url,
      attempt,
      status,
      ok,
      ...(error === undefined ? {} : { error }),
      at: this.options.now(),
    });
    return ok;
  }
}
