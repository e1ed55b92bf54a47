/**
 * Fixed-window request counting per key (a client address, a pay token), in memory: enough for
 * one daemon's pay page, where the point is that one client or one leaked link cannot make the
 * daemon hammer Odoo and the gateway. Windows are dropped as they end, so memory stays bounded by
 * the keys seen in one window.
 */
export class RateLimiter {
  private windowStart = 0;
  private counts = new Map<string, number>();

  constructor(
    private readonly limit: number,
    private readonly windowMs: number,
    private readonly now: () => number = Date.now,
  ) {}

  /** Counts a request; false when the key is over its limit in this window. */
  take(key: string): boolean {
    const at = this.now();
    if (at - this.windowStart >= this.windowMs) {
      this.windowStart = at;
      this.counts = new Map();
    }
    const count = (this.counts.get(key) ?? 0) + 1;
    this.counts.set(key, count);
    return count <= this.limit;
  }

  /** Seconds until the current window ends (for Retry-After). */
  retryAfterSeconds(): number {
    return Math.max(1, Math.ceil((this.windowStart + this.windowMs - this.now()) / 1000));
  }
}
