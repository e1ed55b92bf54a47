import type { z } from 'zod';
import { errorFromFetchFailure, errorFromResponse, protocolError } from './errors.js';
import {
  deleteResponseSchema,
  instancePageEnvelopeSchema,
  linkEnvelopeSchema,
  linkPageEnvelopeSchema,
  toggleEnvelopeSchema,
  transactionPageEnvelopeSchema,
  webhookConfigEnvelopeSchema,
} from './schemas.js';

/** HTTP client for MyTPE Pay's v2 API. Knows paths, headers and wire shapes; no business rules. */

export interface MyTpeClientOptions {
  /** e.g. `https://dev.mytpe.app/api/v2/mytpe-pay`; the production host is configuration. */
  readonly baseUrl: string;
  readonly apiKey: string;
  readonly apiSecret: string;
  /** Per call, connect to last body byte. Default 15 s. */
  readonly timeoutMs?: number | undefined;
  readonly fetch?: typeof fetch | undefined;
}

export type MyTpeLinkType = 'static' | 'dynamic';
export type MyTpePaymentMode = 'reusable' | 'one_shot' | 'limited';

/** Fields of POST /links/store (spec §4.1), sent as multipart/form-data. */
export interface MyTpeCreateLinkInput {
  readonly mytpe_pay_id: string;
  readonly title: string;
  readonly details: string;
  readonly type: MyTpeLinkType;
  /** Decimal major units, e.g. "5000.00". Required for dynamic links. */
  readonly amount?: string | undefined;
  readonly slug: string;
  readonly payment_mode?: MyTpePaymentMode | undefined;
  readonly max_payments?: number | undefined;
  readonly metadata?: Readonly<Record<string, string>> | undefined;
  readonly settings?:
    | {
        readonly show_retry_button?: boolean | undefined;
        readonly allow_anonymous?: boolean | undefined;
      }
    | undefined;
}

/** Fields of POST /links/update/{id} (spec §4.4); all optional. */
export interface MyTpeUpdateLinkInput {
  readonly title?: string | undefined;
  readonly details?: string | undefined;
  readonly amount?: string | undefined;
  readonly max_payments?: number | undefined;
  readonly metadata?: Readonly<Record<string, string>> | undefined;
  readonly settings?: Readonly<Record<string, boolean>> | undefined;
}

export interface PageQuery {
  readonly page?: number | undefined;
  readonly perPage?: number | undefined;
}

const DEFAULT_TIMEOUT_MS = 15_000;

// Laravel's `boolean` rule accepts 1/0/"1"/"0"/true/false but not the strings "true"/"false",
// and form-data can only carry strings.
function formBoolean(value: boolean): string {
  return value ? '1' : '0';
}

function appendCommon(
  form: FormData,
  input: {
    readonly metadata?: Readonly<Record<string, string>> | undefined;
    readonly settings?: Readonly<Record<string, boolean | undefined>> | undefined;
  },
): void {
  for (const [key, value] of Object.entries(input.metadata ?? {})) form.append(`metadata[${key}]`, value);
  for (const [key, value] of Object.entries(input.settings ?? {})) {
    if (value !== undefined) form.append(`settings[${key}]`, formBoolean(value));
  }
}

export function createLinkForm(input: MyTpeCreateLinkInput): FormData {
  const form = new FormData();
  form.append('mytpe_pay_id', input.mytpe_pay_id);
  form.append('title', input.title);
  form.append('details', input.details);
  form.append('type', input.type);
  if (input.amount !== undefined) form.append('amount', input.amount);
  form.append('slug', input.slug);
  if (input.payment_mode !== undefined) form.append('payment_mode', input.payment_mode);
  if (input.max_payments !== undefined) form.append('max_payments', String(input.max_payments));
  appendCommon(form, input);
  return form;
}

function updateLinkForm(input: MyTpeUpdateLinkInput): FormData {
  const form = new FormData();
  // The docs' examples POST with Laravel's method override.
  form.append('_method', 'PATCH');
  if (input.title !== undefined) form.append('title', input.title);
  if (input.details !== undefined) form.append('details', input.details);
  if (input.amount !== undefined) form.append('amount', input.amount);
  if (input.max_payments !== undefined) form.append('max_payments', String(input.max_payments));
  appendCommon(form, input);
  return form;
}

function pageParams(query: PageQuery & { readonly [filter: string]: string | number | undefined }): string {
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(query)) {
    if (value === undefined || key === 'page' || key === 'perPage') continue;
    params.set(key, String(value));
  }
  if (query.perPage !== undefined) params.set('per_page', String(query.perPage));
  if (query.page !== undefined) params.set('page', String(query.page));
  const text = params.toString();
  return text === '' ? '' : `?${text}`;
}

export type LinkEnvelope = z.output<typeof linkEnvelopeSchema>;
export type LinkPageEnvelope = z.output<typeof linkPageEnvelopeSchema>;
export type TransactionPageEnvelope = z.output<typeof transactionPageEnvelopeSchema>;
export type InstancePageEnvelope = z.output<typeof instancePageEnvelopeSchema>;
export type ToggleEnvelope = z.output<typeof toggleEnvelopeSchema>;
export type DeleteResponse = z.output<typeof deleteResponseSchema>;
export type WebhookConfigEnvelope = z.output<typeof webhookConfigEnvelopeSchema>;

export interface InstanceQuery extends PageQuery {
  readonly status?: string | undefined;
  readonly search?: string | undefined;
}
export interface LinkQuery extends PageQuery {
  readonly search?: string | undefined;
  readonly status?: string | undefined;
  readonly type?: string | undefined;
}
export interface TransactionQuery extends PageQuery {
  readonly status?: string | undefined;
}

export interface MyTpeClient {
  /** GET / — the trader's instances. */
  listInstances(query?: InstanceQuery): Promise<InstancePageEnvelope>;
  /** GET /active — only the instances that can take payments. */
  listActiveInstances(query?: PageQuery): Promise<InstancePageEnvelope>;
  /** POST /links/store (201), multipart/form-data. */
  createLink(input: MyTpeCreateLinkInput): Promise<LinkEnvelope>;
  getLink(id: string): Promise<LinkEnvelope>;
  /** GET /{instanceId}/links — `search` matches title and slug partially. */
  listLinks(instanceId: string, query?: LinkQuery): Promise<LinkPageEnvelope>;
  /** POST /links/update/{id} with `_method=PATCH`; one_shot links refuse it. */
  updateLink(id: string, input: MyTpeUpdateLinkInput): Promise<LinkEnvelope>;
  /** PATCH /links/{id}/toggle-status — flips active ↔ inactive. */
  toggleLinkStatus(id: string): Promise<ToggleEnvelope>;
  /** DELETE /links/{id} — refused once the link has any transaction. */
  deleteLink(id: string): Promise<DeleteResponse>;
  listLinkTransactions(id: string, query?: TransactionQuery): Promise<TransactionPageEnvelope>;
  recentTransactions(query?: PageQuery): Promise<TransactionPageEnvelope>;
  getWebhook(instanceId: string): Promise<WebhookConfigEnvelope>;
  setWebhook(instanceId: string, webhookUrl: string): Promise<WebhookConfigEnvelope>;
  /** POST /{instanceId}/webhook/regenerate-secret — the old secret stops working. */
  regenerateWebhookSecret(instanceId: string): Promise<WebhookConfigEnvelope>;
}

export function createMyTpeClient(options: MyTpeClientOptions): MyTpeClient {
  const baseUrl = options.baseUrl.replace(/\/+$/, '');
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const doFetch = options.fetch ?? fetch;
  const secrets = [options.apiKey, options.apiSecret];

  async function call<S extends z.ZodType>(
    method: string,
    path: string,
    schema: S,
    body?: FormData | string,
  ): Promise<z.output<S>> {
    const headers: Record<string, string> = {
      'X-API-KEY': options.apiKey,
      'X-API-SECRET': options.apiSecret,
      // Without it Laravel answers auth and validation failures with HTML redirects.
      Accept: 'application/json',
    };
    if (typeof body === 'string') headers['Content-Type'] = 'application/json';
    const logPath = path.split('?')[0] ?? path;
    let response: Response;
    let text: string;
    try {
      response = await doFetch(`${baseUrl}${path}`, {
        method,
        headers,
        ...(body === undefined ? {} : { body }),
        signal: AbortSignal.timeout(timeoutMs),
        redirect: 'manual',
      });
      text = await response.text();
    } catch (error) {
      throw errorFromFetchFailure(error, { method, path: logPath, timeoutMs }, secrets);
    }
    if (response.status < 200 || response.status >= 300) {
      throw errorFromResponse(
        { method, path: logPath, status: response.status, headers: response.headers, bodyText: text },
        secrets,
      );
    }
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      throw protocolError({ method, path: logPath, status: response.status }, 'not JSON', secrets);
    }
    const parsed = schema.safeParse(json);
    if (!parsed.success) {
      const first = parsed.error.issues[0];
      const problem = first ? `${first.path.join('.') || '(root)'}: ${first.message}` : 'schema mismatch';
      throw protocolError({ method, path: logPath, status: response.status }, problem, secrets);
    }
    return parsed.data;
  }

  const enc = encodeURIComponent;

  return {
    listInstances: (query = {}) => call('GET', `/${pageParams({ ...query })}`, instancePageEnvelopeSchema),
    listActiveInstances: (query = {}) =>
      call('GET', `/active${pageParams({ ...query })}`, instancePageEnvelopeSchema),
    createLink: (input) => call('POST', '/links/store', linkEnvelopeSchema, createLinkForm(input)),
    getLink: (id) => call('GET', `/links/${enc(id)}`, linkEnvelopeSchema),
    listLinks: (instanceId, query = {}) =>
      call('GET', `/${enc(instanceId)}/links${pageParams({ ...query })}`, linkPageEnvelopeSchema),
    updateLink: (id, input) =>
      call('POST', `/links/update/${enc(id)}`, linkEnvelopeSchema, updateLinkForm(input)),
    toggleLinkStatus: (id) => call('PATCH', `/links/${enc(id)}/toggle-status`, toggleEnvelopeSchema),
    deleteLink: (id) => call('DELETE', `/links/${enc(id)}`, deleteResponseSchema),
    listLinkTransactions: (id, query = {}) =>
      call('GET', `/links/${enc(id)}/transactions${pageParams({ ...query })}`, transactionPageEnvelopeSchema),
    recentTransactions: (query = {}) =>
      call('GET', `/transaction/recent${pageParams({ ...query })}`, transactionPageEnvelopeSchema),
    getWebhook: (instanceId) => call('GET', `/${enc(instanceId)}/webhook`, webhookConfigEnvelopeSchema),
    setWebhook: (instanceId, webhookUrl) =>
      call(
        'PUT',
        `/${enc(instanceId)}/webhook`,
        webhookConfigEnvelopeSchema,
        JSON.stringify({ webhook_url: webhookUrl }),
      ),
    regenerateWebhookSecret: (instanceId) =>
      call('POST', `/${enc(instanceId)}/webhook/regenerate-secret`, webhookConfigEnvelopeSchema),
  };
}
