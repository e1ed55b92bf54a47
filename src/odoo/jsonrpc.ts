import { z } from 'zod';
import { classifyOdooError, OdooError } from './errors.js';
import type { OdooTransport } from './transport.js';

const errorEnvelopeSchema = z
  .object({
    jsonrpc: z.literal('2.0'),
    error: z
      .object({
        code: z.number(),
        message: z.string(),
        data: z
          .object({ name: z.string(), message: z.string().default('') })
          .loose()
          .optional(),
      })
      .loose(),
  })
  .loose();
const resultEnvelopeSchema = z.object({ jsonrpc: z.literal('2.0'), result: z.unknown() }).loose();

export interface JsonRpcOptions {
  url: string;
  timeoutMs: number;
  fetch?: typeof fetch;
}

/** `POST /jsonrpc` (Odoo 8 to 21). Stateless: every call carries db, uid and password. */
export class JsonRpcTransport implements OdooTransport {
  private nextId = 1;
  private readonly endpoint: string;
  private readonly fetchImpl: typeof fetch;

  constructor(private readonly options: JsonRpcOptions) {
    this.endpoint = new URL('/jsonrpc', options.url).toString();
    this.fetchImpl = options.fetch ?? fetch;
  }

  common(method: string, args: readonly unknown[], timeoutMs?: number): Promise<unknown> {
    return this.call('common', method, args, timeoutMs);
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

  private async call(
    service: string,
    method: string,
    args: readonly unknown[],
    timeoutMs = this.options.timeoutMs,
    label = `${service}.${method}`,
  ): Promise<unknown> {
    const id = this.nextId++;
    let response: Response;
    try {
      response = await this.fetchImpl(this.endpoint, {
        method: 'POST',
        headers: { 'content-type': 'application/json', accept: 'application/json' },
        body: JSON.stringify({ jsonrpc: '2.0', method: 'call', id, params: { service, method, args } }),
        signal: AbortSignal.timeout(timeoutMs),
      });
    } catch (error) {
      const name = (error as Error).name;
      if (name === 'TimeoutError' || name === 'AbortError') {
        throw new OdooError('timeout', `Odoo did not answer ${label} within ${timeoutMs} ms`, {
          cause: error,
        });
      }
      const reason = describeNetworkError(error);
      throw new OdooError('network', `cannot reach Odoo at ${this.endpoint} for ${label}: ${reason}`, {
        cause: error,
      });
    }
    const text = await response.text().catch(() => '');
    if (!response.ok) {
      const kind = response.status === 404 ? 'not_found' : response.status >= 500 ? 'server' : 'protocol';
      throw new OdooError(kind, `Odoo answered HTTP ${response.status} to ${label}: ${text.slice(0, 200)}`, {
        httpStatus: response.status,
      });
    }
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch {
      throw new OdooError(
        'protocol',
        `Odoo answered ${label} with something that is not JSON: ${text.slice(0, 200)}`,
      );
    }
    const failure = errorEnvelopeSchema.safeParse(body);
    if (failure.success) {
      const { error } = failure.data;
      const odooName = error.data?.name ?? 'unknown';
      const message = error.data?.message || error.message;
      throw new OdooError(
        classifyOdooError(odooName, message),
        `Odoo refused ${label}: ${message} (${odooName})`,
        {
          odooName,
        },
      );
    }
    const envelope = resultEnvelopeSchema.safeParse(body);
    if (!envelope.success || !('result' in envelope.data)) {
      throw new OdooError('protocol', `Odoo answered ${label} with a malformed JSON-RPC envelope`);
    }
    return envelope.data.result;
  }
}

function describeNetworkError(error: unknown): string {
  const cause = (error as { cause?: { code?: string; message?: string } }).cause;
  return cause?.code ?? cause?.message ?? (error as Error).message;
}
