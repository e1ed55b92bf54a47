/**
 * Replays every request recorded from real Odoo 18.0 and 19.0 (shared/odoo-captures, beside the
 * repository) against the sandbox in the same version, in the recorded order, and checks the
 * answer has Odoo's status, envelope, result shape and types, and error class and message.
 * Ids differ between the two servers, so the scene is prepared first and ids are translated.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { type OdooSandbox, startOdooSandbox } from '../../src/sandbox/odoo/server.js';

const CAPTURES_DIR = path.resolve(
  path.dirname(fileURLToPath(import.meta.url)),
  '../../../shared/odoo-captures',
);

type JsonValue = null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue };
const jsonValue: z.ZodType<JsonValue> = z.lazy(() =>
  z.union([
    z.null(),
    z.boolean(),
    z.number(),
    z.string(),
    z.array(jsonValue),
    z.record(z.string(), jsonValue),
  ]),
);
const jsonObject = z.record(z.string(), jsonValue);

const captureSchema = z.object({
  url: z.string(),
  request: jsonObject.optional(),
  request_raw: z.string().optional(),
  http_status: z.number(),
  response: jsonObject.optional(),
  response_raw: z.string().optional(),
});
type Capture = z.infer<typeof captureSchema>;

const rpcErrorSchema = z.object({
  code: z.number(),
  message: z.string(),
  data: z.object({
    name: z.string(),
    message: z.string(),
    arguments: z.array(jsonValue),
    debug: z.string(),
    context: jsonObject,
  }),
});

/** @api.model methods: their first positional argument is not a list of record ids. */
const MODEL_METHODS = new Set([
  'search',
  'search_read',
  'search_count',
  'create',
  'fields_get',
  'read_group',
  'name_search',
  'default_get',
]);
/** Which model a many2one value in create/write values points to. */
const RELATIONS: Record<string, string> = {
  partner_id: 'res.partner',
  journal_id: 'account.journal',
  model_id: 'ir.model',
};

/**
 * Keys whose values must be equal too, not only of the same type: states and types, and amounts
 * (the scene copies the captured invoices' amounts, so payments leave the same residuals).
 */
const SAME_VALUE_KEYS = new Set([
  'state',
  'payment_state',
  'move_type',
  'payment_type',
  'partner_type',
  'message_type',
  'type',
  'res_model',
  'view_mode',
  'target',
  'title',
  'model',
  'body',
  'amount',
  'amount_total',
  'amount_residual',
  'payment_difference',
  'memo',
  'communication',
  'ref',
  'x_mytpe_link_id',
]);

function isRecord(value: JsonValue | undefined): value is { [key: string]: JsonValue } {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function kind(value: JsonValue | undefined): string {
  if (value === undefined) return 'missing';
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  return typeof value;
}

/** Where `actual` does not have the shape of `expected`: same JSON types, every key of Odoo's objects, arrays alike. */
function shapeDiff(expected: JsonValue, actual: JsonValue | undefined, at = '$'): string[] {
  if (kind(expected) !== kind(actual)) {
    return [
      `${at}: Odoo answered ${kind(expected)} ${JSON.stringify(expected)?.slice(0, 80)}, sandbox ${kind(actual)} ${JSON.stringify(actual)?.slice(0, 80)}`,
    ];
  }
  if (Array.isArray(expected) && Array.isArray(actual)) {
    if (expected.length === 0 || actual.length === 0) {
      return expected.length === actual.length
        ? []
        : [`${at}: Odoo had ${expected.length} elements, sandbox ${actual.length}`];
    }
    if (expected.length === actual.length)
      return expected.flatMap((item, index) => shapeDiff(item, actual[index], `${at}[${index}]`));
    return actual.flatMap((item, index) =>
      expected.some((candidate) => shapeDiff(candidate, item).length === 0)
        ? []
        : [
            `${at}[${index}]: matches no element shape of Odoo's array: ${JSON.stringify(item).slice(0, 120)}`,
          ],
    );
  }
  if (isRecord(expected) && isRecord(actual)) {
    return Object.entries(expected).flatMap(([key, value]) => {
      if (!(key in actual)) return [`${at}: key ${key} missing`];
      const actualValue = actual[key];
      if (SAME_VALUE_KEYS.has(key) && typeof value !== 'object' && actualValue !== value) {
        return [
          `${at}.${key}: Odoo answered ${JSON.stringify(value)}, sandbox ${JSON.stringify(actualValue)}`,
        ];
      }
      return shapeDiff(value, actualValue, `${at}.${key}`);
    });
  }
  return [];
}

/** Captured id → sandbox id per model, learnt while replaying. */
class IdMap {
  private readonly ids = new Map<string, number>();
  readonly keys = new Map<string, string>();

  set(model: string, captured: number, sandbox: number): void {
    this.ids.set(`${model}:${captured}`, sandbox);
  }

  has(model: string, captured: number): boolean {
    return this.ids.has(`${model}:${captured}`);
  }

  id(model: string, value: JsonValue | undefined): JsonValue | undefined {
    if (typeof value === 'number') return this.ids.get(`${model}:${value}`) ?? value;
    if (Array.isArray(value)) return value.map((item) => this.id(model, item) ?? item);
    return value;
  }

  vals(vals: JsonValue | undefined): JsonValue | undefined {
    if (Array.isArray(vals)) return vals.map((item) => this.vals(item) ?? item);
    if (!isRecord(vals)) return vals;
    const copy: { [key: string]: JsonValue } = { ...vals };
    for (const [field, model] of Object.entries(RELATIONS)) {
      const value = this.id(model, copy[field]);
      if (field in copy && value !== undefined) copy[field] = value;
    }
    return copy;
  }

  context(kwargs: JsonValue | undefined): JsonValue | undefined {
    if (!isRecord(kwargs) || !isRecord(kwargs.context)) return kwargs;
    const context = { ...kwargs.context };
    if (Array.isArray(context.active_ids))
      context.active_ids = this.id('account.move', context.active_ids) ?? [];
    return { ...kwargs, context };
  }

  password(value: JsonValue | undefined): JsonValue | undefined {
    return typeof value === 'string' ? (this.keys.get(value) ?? value) : value;
  }

  /** The same model call with sandbox ids. */
  modelCall(model: string, method: string, args: JsonValue[], kwargs: JsonValue | undefined) {
    const positional = [...args];
    if (!MODEL_METHODS.has(method) && positional.length > 0)
      positional[0] = this.id(model, positional[0]) ?? [];
    if (method === 'create') positional[0] = this.vals(positional[0]) ?? {};
    if (method === 'write') positional[1] = this.vals(positional[1]) ?? {};
    return { args: positional, kwargs: this.context(kwargs) };
  }
}

interface Replay {
  sandbox: OdooSandbox;
  ids: IdMap;
  cookie: string;
}

function rewriteRequest(capture: Capture, replay: Replay): { [key: string]: JsonValue } {
  const request = capture.request ?? {};
  const params = isRecord(request.params) ? { ...request.params } : {};
  const { ids } = replay;
  if (params.service === 'object' && Array.isArray(params.args)) {
    const [db, uid, password, model, method, args, kwargs] = params.args;
    const rewritten = ids.modelCall(String(model), String(method), Array.isArray(args) ? args : [], kwargs);
    const callArgs: JsonValue[] = [
      db ?? null,
      uid ?? null,
      ids.password(password) ?? null,
      model ?? null,
      method ?? null,
      rewritten.args,
    ];
    if (rewritten.kwargs !== undefined) callArgs.push(rewritten.kwargs);
    params.args = callArgs;
  } else if (params.service === 'common' && Array.isArray(params.args)) {
    params.args = params.args.map((arg, index) => (index === 2 ? (ids.password(arg) ?? arg) : arg));
  } else if (typeof params.model === 'string' && typeof params.method === 'string') {
    const rewritten = ids.modelCall(
      params.model,
      params.method,
      Array.isArray(params.args) ? params.args : [],
      params.kwargs,
    );
    params.args = rewritten.args;
    if (rewritten.kwargs !== undefined) params.kwargs = rewritten.kwargs;
  }
  return { ...request, params };
}

function callOf(request: { [key: string]: JsonValue }): { model: string; method: string } | undefined {
  const params = isRecord(request.params) ? request.params : {};
  if (params.service === 'object' && Array.isArray(params.args)) {
    return { model: String(params.args[3]), method: String(params.args[4]) };
  }
  if (typeof params.model === 'string') return { model: params.model, method: String(params.method) };
  return undefined;
}

/** Learns the sandbox ids of what the call created or returned. */
function learn(
  ids: IdMap,
  call: { model: string; method: string },
  expected: JsonValue,
  actual: JsonValue,
): void {
  if (call.method === 'create' || call.method === 'message_post') {
    const model = call.method === 'create' ? call.model : 'mail.message';
    const before = Array.isArray(expected) ? expected : [expected];
    const after = Array.isArray(actual) ? actual : [actual];
    before.forEach((id, index) => {
      const mine = after[index];
      if (typeof id === 'number' && typeof mine === 'number') ids.set(model, id, mine);
    });
  }
  if (isRecord(expected) && isRecord(actual)) {
    if (
      typeof expected.res_model === 'string' &&
      typeof expected.res_id === 'number' &&
      typeof actual.res_id === 'number'
    ) {
      ids.set(expected.res_model, expected.res_id, actual.res_id);
    }
    const key = isRecord(expected.context) ? expected.context.default_key : undefined;
    const mine = isRecord(actual.context) ? actual.context.default_key : undefined;
    if (typeof key === 'string' && typeof mine === 'string') ids.keys.set(key, mine);
  }
  if (
    (call.method === 'search_read' || call.method === 'read') &&
    Array.isArray(expected) &&
    Array.isArray(actual)
  ) {
    if (expected.length !== actual.length) return;
    expected.forEach((row, index) => {
      const mine = actual[index];
      if (
        isRecord(row) &&
        isRecord(mine) &&
        typeof row.id === 'number' &&
        typeof mine.id === 'number' &&
        !ids.has(call.model, row.id)
      ) {
        ids.set(call.model, row.id, mine.id);
      }
    });
  }
}

function loadCaptures(version: string): { file: string; capture: Capture }[] {
  const dir = path.join(CAPTURES_DIR, version);
  return readdirSync(dir)
    .filter((file) => file.endsWith('.json'))
    .sort()
    .map((file) => ({
      file,
      capture: captureSchema.parse(JSON.parse(readFileSync(path.join(dir, file), 'utf8'))),
    }));
}

function capturedDb(captures: { capture: Capture }[]): string {
  for (const { capture } of captures) {
    const params = capture.request?.params;
    if (
      isRecord(params) &&
      params.service === 'object' &&
      Array.isArray(params.args) &&
      typeof params.args[0] === 'string'
    ) {
      return params.args[0];
    }
  }
  throw new Error('no object call in the captures to learn the database name from');
}

function requestOf(captures: { file: string; capture: Capture }[], prefix: string): Capture {
  const found = captures.find(({ file }) => file.startsWith(prefix));
  if (!found) throw new Error(`capture ${prefix}* is missing`);
  return found.capture;
}

/** Creates what the captured session found in its database: companies, journals, partners and invoices 1..n. */
function prepareScene(replay: Replay, captures: { file: string; capture: Capture }[], version: string): void {
  const { sandbox, ids } = replay;
  const models = sandbox.models;
  if (version === '19.0')
    models.createCompany({ name: 'My US Company', currency: 'USD', withBankJournals: true });
  const journals = requestOf(captures, '05_').response?.result;
  const mine = new Map<string, number>();
  for (const journal of sandbox.models.registry.model('account.journal').rows.values()) {
    if (journal.company_id === 1) mine.set(String(journal.code), journal.id);
  }
  for (const journal of Array.isArray(journals) ? journals : []) {
    if (!isRecord(journal) || !Array.isArray(journal.company_id) || journal.company_id[0] !== 1) continue;
    const id = mine.get(String(journal.code));
    if (typeof journal.id === 'number' && id !== undefined) ids.set('account.journal', journal.id, id);
  }
  const partnerNames = new Map<number, string>();
  const notePartner = (value: JsonValue | undefined) => {
    if (Array.isArray(value) && typeof value[0] === 'number' && typeof value[1] === 'string')
      partnerNames.set(value[0], value[1]);
    if (typeof value === 'number' && !partnerNames.has(value))
      partnerNames.set(value, `Captured partner ${value}`);
  };
  const invoices = requestOf(captures, '04_').response?.result;
  for (const invoice of Array.isArray(invoices) ? invoices : [])
    if (isRecord(invoice)) notePartner(invoice.partner_id);
  for (const { capture } of captures) {
    const params = capture.request?.params;
    if (!isRecord(params) || !Array.isArray(params.args)) continue;
    const [, , , model, method, args] = params.args;
    if (model !== 'account.move' || !Array.isArray(args)) continue;
    const vals = method === 'create' ? args[0] : method === 'write' ? args[1] : undefined;
    if (isRecord(vals)) notePartner(vals.partner_id);
  }
  for (const [capturedId, name] of partnerNames) {
    ids.set(
      'res.partner',
      capturedId,
      models.createPartner({ name, email: `${name.toLowerCase().replaceAll(' ', '.')}@example.com` }),
    );
  }
  for (const invoice of Array.isArray(invoices) ? invoices : []) {
    if (!isRecord(invoice) || typeof invoice.id !== 'number' || !Array.isArray(invoice.partner_id)) continue;
    const partnerId = ids.id('res.partner', invoice.partner_id[0]);
    const id = models.createInvoice({
      partnerId: Number(partnerId),
      amount: String(invoice.amount_total),
      ...(typeof invoice.invoice_date_due === 'string' ? { dueDate: invoice.invoice_date_due } : {}),
    });
    ids.set('account.move', invoice.id, id);
  }
}

async function send(
  replay: Replay,
  capture: Capture,
): Promise<{ status: number; text: string; setCookie: string | null }> {
  const url = new URL(capture.url);
  const headers: Record<string, string> = { 'Content-Type': 'application/json' };
  if (replay.cookie) headers.Cookie = replay.cookie;
  const body = capture.request_raw ?? JSON.stringify(rewriteRequest(capture, replay));
  const response = await fetch(`${replay.sandbox.url}${url.pathname}`, { method: 'POST', headers, body });
  return {
    status: response.status,
    text: await response.text(),
    setCookie: response.headers.get('set-cookie'),
  };
}

const VERSIONS = ['18.0', '19.0'] as const;

if (!existsSync(CAPTURES_DIR)) {
  describe('Odoo capture replay', () => {
    it('finds the real Odoo captures', () => {
      throw new Error(
        `The Odoo captures are missing: expected ${CAPTURES_DIR} (the shared/ folder must sit beside the repository, with odoo-captures/18.0 and 19.0).`,
      );
    });
  });
} else {
  for (const version of VERSIONS) {
    const captures = loadCaptures(version);
    describe(`Odoo ${version} captures replayed against the sandbox`, () => {
      let replay: Replay;

      beforeAll(async () => {
        const sandbox = await startOdooSandbox({ version, db: capturedDb(captures) });
        replay = { sandbox, ids: new IdMap(), cookie: '' };
        prepareScene(replay, captures, version);
      });

      afterAll(async () => {
        await replay.sandbox.close();
      });

      it('has captures to replay', () => {
        expect(captures.length).toBeGreaterThan(30);
      });

      for (const { file, capture } of captures) {
        it(file, async () => {
          const answer = await send(replay, capture);
          expect(answer.status, 'HTTP status').toBe(capture.http_status);
          if (answer.setCookie) replay.cookie = answer.setCookie.split(';')[0] ?? '';
          if (capture.response_raw !== undefined) {
            expect(answer.text).toBe(capture.response_raw);
            return;
          }
          const expected = capture.response ?? {};
          const actual = jsonObject.parse(JSON.parse(answer.text));
          expect(Object.keys(actual).sort(), 'envelope keys').toEqual(Object.keys(expected).sort());
          expect(actual.id, 'JSON-RPC id').toEqual(expected.id);
          if ('error' in expected) {
            const want = rpcErrorSchema.parse(expected.error);
            const got = rpcErrorSchema.parse(actual.error);
            expect(got.code, 'error.code').toBe(want.code);
            expect(got.message, 'error.message').toBe(want.message);
            expect(got.data.name, 'error.data.name').toBe(want.data.name);
            expect(got.data.message, 'error.data.message').toBe(want.data.message);
            expect(got.data.arguments, 'error.data.arguments').toEqual(want.data.arguments);
            return;
          }
          const wantResult = expected.result ?? null;
          const gotResult = actual.result ?? null;
          expect(shapeDiff(wantResult, gotResult), 'result shape').toEqual([]);
          const request = capture.request ?? {};
          const call = callOf(request);
          if (call) learn(replay.ids, call, wantResult, gotResult);
        });
      }
    });
  }
}
