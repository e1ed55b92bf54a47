import { z } from 'zod';
import { classifyOdooError, OdooError } from './errors.js';
import { exchange, httpStatusError } from './http.js';
import { ServiceCallTransport } from './transport.js';

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
  /** The daemon's stop signal (see exchange()). */
  signal?: AbortSignal | undefined;
}

/** `POST /jsonrpc` (Odoo 8 to 21). Stateless: every call carries db, uid and password. */
export class JsonRpcTransport extends ServiceCallTransport {
  private nextId = 1;
  private readonly endpoint: string;
  private readonly fetchImpl: typeof fetch;

  constructor(private readonly options: JsonRpcOptions) {
    super();
    this.endpoint = new URL('/jsonrpc', options.url).toString();
    this.fetchImpl = options.fetch ?? fetch;
  }

  protected async call(
    service: string,
    method: string,
    args: readonly unknown[],
    timeoutMs = this.options.timeoutMs,
    label = `${service}.${method}`,
  ): Promise<unknown> {
    const id = this.nextId++;
    const { response, text } = await exchange(
      this.fetchImpl,
      this.endpoint,
      {
        method: 'POST',
        headers: { 'content-type': 'application/json', accept: 'application/json' },
        body: JSON.stringify({ jsonrpc: '2.0', method: 'call', id, params: { service, method, args } }),
      },
      { label, timeoutMs, signal: this.options.signal },
    );
    if (!response.ok) throw httpStatusError(response.status, label, text);
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
