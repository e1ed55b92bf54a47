import { isOdooError, type OdooErrorKind } from './errors.js';
import type { OdooTransport } from './transport.js';

/** One Odoo call as an onlooker (metrics) sees it: never its arguments, which carry credentials. */
export interface OdooCall {
  /** `common.<method>` or `<model>.<method>`: a bounded set, fixed by the code. */
  readonly operation: string;
  readonly durationMs: number;
  /** The error's kind when the call failed ('unknown' for anything not an OdooError). */
  readonly error?: OdooErrorKind | 'unknown';
}

/**
 * A transport that reports every call to `onCall` and otherwise changes nothing: the one seam
 * every Odoo call goes through, whatever the wire.
 */
export class ObservedOdooTransport implements OdooTransport {
  constructor(
    private readonly inner: OdooTransport,
    private readonly onCall: (call: OdooCall) => void,
    private readonly clock: () => number = () => performance.now(),
  ) {}

  common(...args: Parameters<OdooTransport['common']>): Promise<unknown> {
    return this.observe(`common.${args[0]}`, () => this.inner.common(...args));
  }

  executeKw(...args: Parameters<OdooTransport['executeKw']>): Promise<unknown> {
    return this.observe(`${args[1]}.${args[2]}`, () => this.inner.executeKw(...args));
  }

  private async observe(operation: string, call: () => Promise<unknown>): Promise<unknown> {
    const startedAt = this.clock();
    try {
      const result = await call();
      this.report({ operation, durationMs: this.clock() - startedAt });
      return result;
    } catch (error) {
      const kind = isOdooError(error) ? error.kind : 'unknown';
      this.report({ operation, durationMs: this.clock() - startedAt, error: kind });
      throw error;
    }
  }

  private report(call: OdooCall): void {
    try {
      this.onCall(call);
    } catch {
      // An onlooker's failure never becomes an Odoo failure.
    }
  }
}
