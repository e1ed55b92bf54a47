/**
 * TendoPay notifications (spec §6): a POST of the signed transaction object to the app's
 * notification_url whenever a transaction becomes PAID, FAILED or CANCELED. Anything but HTTP 200
 * (exactly) is resent, up to 10 more times, 1 minute apart (the delay is configurable for tests).
 */

export type NotificationEncoding = 'json' | 'form';

export interface NotificationAttempt {
  /** Stable across resends of one notification (ours, for the log; TendoPay sends no id). */
  readonly notificationId: number;
  readonly transactionId: number;
  readonly status: string;
  readonly url: string;
  /** 1 for the first try. */
  readonly attempt: number;
  /** HTTP status of the answer, or null when none arrived. */
  readonly httpStatus: number | null;
  readonly ok: boolean;
  readonly error?: string | undefined;
  /** The exact body sent. */
  readonly body: string;
  readonly at: Date;
}

export interface NotifierOptions {
  readonly retryDelayMs: number;
  /** Attempts in all, the first included. Spec: 1 + 10 resends. */
  readonly maxAttempts: number;
  readonly now: () => Date;
  readonly timeoutMs?: number | undefined;
}

export function encodeNotification(
  payload: Readonly<Record<string, string | number>>,
  encoding: NotificationEncoding,
): { body: string; contentType: string } {
  if (encoding === 'json') return { body: JSON.stringify(payload), contentType: 'application/json' };
  const form = new URLSearchParams();
  for (const [key, value] of Object.entries(payload)) form.append(key, String(value));
  return { body: form.toString(), contentType: 'application/x-www-form-urlencoded' };
}

export class Notifier {
  readonly log: NotificationAttempt[] = [];
  private readonly pending = new Set<Promise<void>>();
  private readonly timers = new Set<NodeJS.Timeout>();
  private readonly wakers = new Set<() => void>();
  private readonly abort = new AbortController();
  // First attempts go out one at a time, in the order the transactions changed.
  private firstAttempts: Promise<unknown> = Promise.resolve();
  private closed = false;
  private nextId = 1;

  constructor(private readonly options: NotifierOptions) {}

  send(
    url: string,
    transaction: { readonly id: number; readonly status: string },
    body: string,
    contentType: string,
  ): void {
    if (this.closed) return;
    const id = this.nextId++;
    const deliver = (attempt: number) => this.attempt({ id, url, transaction, body, contentType }, attempt);
    const first = this.firstAttempts.then(() => deliver(1));
    this.firstAttempts = first.catch(() => undefined);
    const run = first.then(async (ok) => {
      for (let attempt = 2; !ok && attempt <= this.options.maxAttempts && !this.closed; attempt++) {
        await this.sleep(this.options.retryDelayMs);
        if (this.closed) return;
        ok = await deliver(attempt);
      }
    });
    this.pending.add(run);
    void run.finally(() => this.pending.delete(run));
  }

  /** Resolves when every queued notification has been answered 200 or used up its attempts. */
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
    delivery: {
      readonly id: number;
      readonly url: string;
      readonly transaction: { readonly id: number; readonly status: string };
      readonly body: string;
      readonly contentType: string;
    },
    attempt: number,
  ): Promise<boolean> {
    if (this.closed) return false;
    let httpStatus: number | null = null;
    let error: string | undefined;
    try {
      const response = await fetch(delivery.url, {
        method: 'POST',
        headers: { 'Content-Type': delivery.contentType, Accept: 'application/json' },
        body: delivery.body,
        redirect: 'manual',
        signal: AbortSignal.any([this.abort.signal, AbortSignal.timeout(this.options.timeoutMs ?? 10_000)]),
      });
      httpStatus = response.status;
      await response.arrayBuffer().catch(() => undefined);
    } catch (caught) {
      error =
        caught instanceof Error
          ? caught.cause instanceof Error
            ? caught.cause.message
            : caught.message
          : 'error';
    }
    // The docs: "if our endpoint does not answer HTTP 200"; a 201 or 204 is resent too.
    const ok = httpStatus === 200;
    this.log.push({
      notificationId: delivery.id,
      transactionId: delivery.transaction.id,
      status: delivery.transaction.status,
      url: delivery.url,
      attempt,
      httpStatus,
      ok,
      ...(error === undefined ? {} : { error }),
      body: delivery.body,
      at: this.options.now(),
    });
    return ok;
  }
}
