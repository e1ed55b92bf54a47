import type { z } from 'zod';

/**
 * How calls reach Odoo. JSON-RPC today; JSON-2 (Odoo 19+) and XML-RPC plug in behind the same
 * interface, so nothing above this file knows which wire is used.
 */
export interface OdooTransport {
  /** Calls a `common` service method (version, login, authenticate). */
  common(method: string, args: readonly unknown[], timeoutMs?: number): Promise<unknown>;
  /** Calls `object.execute_kw` with the given credentials. */
  executeKw(
    credentials: { db: string; uid: number; password: string },
    model: string,
    method: string,
    args: readonly unknown[],
    kwargs: Record<string, unknown>,
    timeoutMs?: number,
  ): Promise<unknown>;
}

export type Schema<T> = z.ZodType<T>;
