import type { z } from 'zod';

/**
 * How calls reach Odoo: JSON-RPC (jsonrpc.ts), JSON-2 on Odoo 19+ (json2.ts, named arguments
 * mapped from the positional ones) or XML-RPC (xmlrpc.ts), chosen by connect.ts from
 * odoo.protocol and the server's version. Every transport raises the same OdooError kinds for
 * the same failure, so nothing above this file knows which wire is used.
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

/**
 * The wires that carry Odoo's service calls as they are (JSON-RPC, XML-RPC): `common.<method>`
 * and `object.execute_kw` with the credentials in every call, stateless.
 */
export abstract class ServiceCallTransport implements OdooTransport {
  protected abstract call(
    service: string,
    method: string,
    args: readonly unknown[],
    timeoutMs: number | undefined,
    label: string,
  ): Promise<unknown>;

  common(method: string, args: readonly unknown[], timeoutMs?: number): Promise<unknown> {
    return this.call('common', method, args, timeoutMs, `common.${method}`);
  }

  executeKw(
    credentials: { db: string; uid: number; password: string },
    model: string,
    method: string,
    args: readonly unknown[],
    kwargs: Record<string, unknown>,
    timeoutMs?: number,
  ): Promise<unknown> {
    return this.call(
      'object',
      'execute_kw',
      [credentials.db, credentials.uid, credentials.password, model, method, args, kwargs],
      timeoutMs,
      `${model}.${method}`,
    );
  }
}
