/**
 * Replays every request recorded from real Odoo 16.0, 17.0, 18.0 and 19.0 (shared/odoo-captures,
 * beside the repository) against the sandbox in the same version, in the recorded order (JSON-RPC
 * ids), and checks the answer has Odoo's status, envelope, result shape and types, and error class
 * and message. Each captured database gets its own sandbox (on 18.0/19.0 captures 50–64 come from
 * a second database, with a Billing-rights bot user; 16.0 and 17.0 have one database, where the
 * bot's session follows the admin's). Ids differ between the servers, so each scene is prepared
 * first (the bot's part of a single database right before its first call) and ids are translated.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { type OdooSandbox, startOdooSandbox } from '../../src/sandbox/odoo/server.js';
import { CAPTURES_DIR, type JsonValue, jsonObject, jsonValue } from '../support/captures.js';

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
/** Methods whose first positional argument is a search domain. */
const DOMAIN_METHODS = new Set(['search', 'search_read', 'search_count', 'read_group']);

/** Which model a many2one value in create/write values points to. */
const RELATIONS: Record<string, string> = {
  partner_id: 'res.partner',
  journal_id: 'account.journal',
  model_id: 'ir.model',
  inherit_id: 'ir.ui.view',
};

/**
 * many2one values in answers that name records every fresh database has (the catalogue, the
 * chart's journals, currencies, companies, subtypes): their ids are matched by display name.
 */
const NAMED_RELATIONS: Record<string, string> = {
  field_id: 'ir.model.fields',
  journal_id: 'account.journal',
  currency_id: 'res.currency',
  company_id: 'res.company',
  subtype_id: 'mail.message.subtype',
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

  /**
   * `relationOf(model, field)`: the comodel of a relational field, for domain values;
   * `nameOf(model, id)`: a sandbox record's display name, for messages that print one.
   */
  constructor(
    private readonly relationOf: (model: string, field: string) => string | undefined,
    private readonly nameOf: (model: string, id: number) => string = () => '',
  ) {}

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

  /**
   * A search domain with sandbox ids: values of relational fields, and res_id values when the
   * domain names their model (`['model', '=', 'account.move']`).
   */
  domain(model: string, domain: JsonValue | undefined): JsonValue | undefined {
    if (!Array.isArray(domain)) return domain;
    const named = domain.find(
      (leaf) => Array.isArray(leaf) && leaf[0] === 'model' && leaf[1] === '=' && typeof leaf[2] === 'string',
    );
    const resModel = Array.isArray(named) ? String(named[2]) : undefined;
    return domain.map((leaf) => {
      if (!Array.isArray(leaf) || leaf.length !== 3 || typeof leaf[0] !== 'string') return leaf;
      const [field, operator, value] = leaf;
      const relation = field === 'res_id' ? resModel : this.relationOf(model, field);
      if (!relation || value === undefined) return leaf;
      return [field, operator ?? null, this.id(relation, value) ?? value];
    });
  }

  /** The same model call with sandbox ids. */
  modelCall(model: string, method: string, args: JsonValue[], kwargs: JsonValue | undefined) {
    const positional = [...args];
    if (!MODEL_METHODS.has(method) && positional.length > 0)
      positional[0] = this.id(model, positional[0]) ?? [];
    if (method === 'create') positional[0] = this.vals(positional[0]) ?? {};
    if (method === 'write') positional[1] = this.vals(positional[1]) ?? {};
    if (DOMAIN_METHODS.has(method) && positional.length > 0)
      positional[0] = this.domain(model, positional[0]) ?? [];
    let rewrittenKwargs = this.context(kwargs);
    if (isRecord(rewrittenKwargs) && Array.isArray(rewrittenKwargs.domain))
      rewrittenKwargs = { ...rewrittenKwargs, domain: this.domain(model, rewrittenKwargs.domain) ?? [] };
    return { args: positional, kwargs: rewrittenKwargs };
  }

  /**
   * An error text with sandbox ids where Odoo prints a user id ("User: 8") or a journal entry
   * ("Journal Entry (id): INV/2026/00005 (25)", 17.0).
   */
  message(text: string): string {
    return text
      .replace(
        /\nUser: (\d+)/g,
        (_match, uid: string) => `\nUser: ${String(this.id('res.users', Number(uid)))}`,
      )
      .replace(/Journal Entry \(id\): .+ \((\d+)\)/g, (match, captured: string) => {
        const id = this.id('account.move', Number(captured));
        return typeof id === 'number' && this.has('account.move', Number(captured))
          ? `Journal Entry (id): ${this.nameOf('account.move', id)} (${id})`
          : match;
      });
  }
}

interface Replay {
  sandbox: OdooSandbox;
  ids: IdMap;
  cookie: string;
  /**
   * Scene steps to take right before a capture: what the database got between the captured calls
   * (on 16.0/17.0 the bot's part of the scene, invoices first used later in the session).
   */
  before: Map<Entry, (() => void)[]>;
}

function beforeCapture(replay: Replay, entry: Entry, step: () => void): void {
  const steps = replay.before.get(entry) ?? [];
  steps.push(step);
  replay.before.set(entry, steps);
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
      ids.id('res.users', uid) ?? null,
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

/** Learns the uid a login answered (common.login/authenticate, web session). */
function learnUid(
  ids: IdMap,
  request: { [key: string]: JsonValue },
  expected: JsonValue,
  actual: JsonValue,
): void {
  const params = isRecord(request.params) ? request.params : {};
  const login =
    params.service === 'common' && (params.method === 'login' || params.method === 'authenticate');
  if (login && typeof expected === 'number' && typeof actual === 'number')
    ids.set('res.users', expected, actual);
  if (
    isRecord(expected) &&
    isRecord(actual) &&
    typeof expected.uid === 'number' &&
    typeof actual.uid === 'number'
  )
    ids.set('res.users', expected.uid, actual.uid);
}

/** Learns the sandbox ids of what the call created or returned. */
function learn(
  replay: Replay,
  call: { model: string; method: string },
  expected: JsonValue,
  actual: JsonValue,
): void {
  const { ids } = replay;
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
      if (!isRecord(row) || !isRecord(mine)) return;
      if (typeof row.id === 'number' && typeof mine.id === 'number' && !ids.has(call.model, row.id)) {
        ids.set(call.model, row.id, mine.id);
      }
      // x2many ids listed alike on both sides (tracking_value_ids, reconciled_invoice_ids…).
      const fields = replay.sandbox.models.registry.models.get(call.model)?.fields;
      for (const [key, value] of Object.entries(row)) {
        const other = mine[key];
        const relation = fields?.get(key)?.relation;
        if (!relation || !Array.isArray(value) || !Array.isArray(other) || value.length !== other.length)
          continue;
        if (fields?.get(key)?.type === 'many2one') continue;
        value.forEach((id, index) => {
          const sandboxId = other[index];
          if (typeof id === 'number' && typeof sandboxId === 'number' && !ids.has(relation, id))
            ids.set(relation, id, sandboxId);
        });
      }
    });
  }
}

/** Session info keys its currencies by id: the captured ids become the sandbox's. */
function translateIdKeys(ids: IdMap, expected: JsonValue): JsonValue {
  if (!isRecord(expected) || !isRecord(expected.currencies)) return expected;
  const currencies: { [key: string]: JsonValue } = {};
  for (const [key, value] of Object.entries(expected.currencies)) {
    currencies[String(ids.id('res.currency', Number(key)) ?? key)] = value;
  }
  return { ...expected, currencies };
}

type Entry = { file: string; capture: Capture };

/** The captures of a version in the order they were recorded: by JSON-RPC id, files without one where they sit. */
function loadCaptures(version: string): Entry[] {
  const dir = path.join(CAPTURES_DIR, version);
  const entries = readdirSync(dir)
    .filter((file) => file.endsWith('.json'))
    .sort()
    .map((file) => ({
      file,
      capture: captureSchema.parse(JSON.parse(readFileSync(path.join(dir, file), 'utf8'))),
    }));
  let previous = 0;
  const keyed = entries.map((entry, index) => {
    const id = entry.capture.request?.id;
    if (typeof id === 'number') previous = id;
    return { entry, key: previous, index };
  });
  keyed.sort((a, b) => a.key - b.key || a.index - b.index);
  return keyed.map(({ entry }) => entry);
}

/** The database a capture names: an object call's or a login's first argument, the web login's db. */
function namedDb(capture: Capture): string | undefined {
  const params = capture.request?.params;
  if (!isRecord(params)) return undefined;
  if ((params.service === 'object' || params.service === 'common') && Array.isArray(params.args)) {
    return typeof params.args[0] === 'string' && params.method !== 'version' ? params.args[0] : undefined;
  }
  return typeof params.db === 'string' ? params.db : undefined;
}

/**
 * Groups the captures by the database they ran against. The databases are those object calls
 * name; a capture naming none (version, invalid JSON, web calls) or an unknown one (28) ran in
 * the session of the capture before it.
 */
function byDatabase(captures: readonly Entry[]): { databases: string[]; dbOf: Map<Entry, string> } {
  const databases: string[] = [];
  for (const { capture } of captures) {
    const params = capture.request?.params;
    const db = namedDb(capture);
    if (db && isRecord(params) && params.service === 'object' && !databases.includes(db)) databases.push(db);
  }
  const first = databases[0];
  if (!first) throw new Error('no object call in the captures to learn the database name from');
  const dbOf = new Map<Entry, string>();
  let current = first;
  for (const entry of captures) {
    const db = namedDb(entry.capture);
    if (db && databases.includes(db)) current = db;
    dbOf.set(entry, current);
  }
  return { databases, dbOf };
}

function requestOf(captures: readonly Entry[], prefix: string): Capture {
  const found = captures.find(({ file }) => file.startsWith(prefix));
  if (!found) throw new Error(`capture ${prefix}* is missing`);
  return found.capture;
}

function modelCallOf(
  capture: Capture,
): { model: string; method: string; args: JsonValue[]; kwargs: JsonValue } | undefined {
  const params = capture.request?.params;
  if (!isRecord(params) || params.service !== 'object' || !Array.isArray(params.args)) return undefined;
  const [, , , model, method, args, kwargs] = params.args;
  if (typeof model !== 'string' || typeof method !== 'string') return undefined;
  return { model, method, args: Array.isArray(args) ? args : [], kwargs: kwargs ?? null };
}

function resultOf(capture: Capture): JsonValue | undefined {
  return capture.response?.result;
}

/**
 * Matches by display name the records every fresh database has (fields, journals, currencies,
 * subtypes) as the answers show them, and the views get_views answers with.
 */
function mapNamedRecords(replay: Replay, captures: readonly Entry[]): void {
  const { sandbox, ids } = replay;
  const reg = sandbox.models.registry;
  const byName = new Map<string, Map<string, number | null>>();
  const lookup = (model: string, name: string): number | undefined => {
    let names = byName.get(model);
    if (!names) {
      names = new Map();
      for (const row of reg.model(model).rows.values()) {
        const shown = reg.displayName(model, row.id);
        names.set(shown, names.has(shown) ? null : row.id);
      }
      byName.set(model, names);
    }
    return names.get(name) ?? undefined;
  };
  const walk = (value: JsonValue | undefined): void => {
    if (Array.isArray(value)) value.forEach(walk);
    if (!isRecord(value)) return;
    for (const [key, inner] of Object.entries(value)) {
      const model = NAMED_RELATIONS[key];
      if (model && Array.isArray(inner) && typeof inner[0] === 'number' && typeof inner[1] === 'string') {
        const id = lookup(model, inner[1]);
        if (id !== undefined && !ids.has(model, inner[0])) ids.set(model, inner[0], id);
      }
      walk(inner);
    }
  };
  for (const { capture } of captures) {
    const result = resultOf(capture);
    walk(result);
    const call = modelCallOf(capture);
    if (call?.method === 'get_views' && isRecord(result) && isRecord(result.views)) {
      for (const [type, view] of Object.entries(result.views)) {
        const primary = [...reg.model('ir.ui.view').rows.values()].find(
          (row) => row.model === call.model && row.type === type && row.mode === 'primary',
        );
        if (isRecord(view) && typeof view.id === 'number' && primary)
          ids.set('ir.ui.view', view.id, primary.id);
      }
    }
  }
}

/**
 * What a later captured database held before its session (captures 50–64): the custom fields
 * the admin setup step made (as fields_get shows them), the payments made before the session
 * (as payment searches show them, with an invoice each), then the open invoices the bot's
 * invoice search shows, in id order, all for a contact of the customer the payments name.
 */
function prepareLaterScene(
  replay: Replay,
  captures: readonly Entry[],
  wholeDatabase: readonly Entry[] = captures,
): void {
  const { sandbox, ids } = replay;
  const models = sandbox.models;
  // Payments the captured sessions made themselves (in the whole database: on 16.0/17.0 the
  // admin's session, before the bot's, made some the bot's searches list).
  const created = new Set<number>();
  for (const { capture } of wholeDatabase) {
    const call = modelCallOf(capture);
    const result = resultOf(capture);
    if (call?.method === 'action_create_payments' && isRecord(result) && typeof result.res_id === 'number')
      created.add(result.res_id);
  }
  const fieldsShown = new Map<string, { model: string; label: string; type: string }>();
  const payments = new Map<number, { amount: number; memo: string; invoice: number | undefined }>();
  let invoices: { [key: string]: JsonValue }[] = [];
  let customer = 'Captured customer';
  for (const { capture } of captures) {
    const call = modelCallOf(capture);
    const result = resultOf(capture);
    if (!call) continue;
    if (call.method === 'fields_get' && isRecord(result)) {
      for (const [name, field] of Object.entries(result)) {
        if (isRecord(field) && field.manual === true && name.startsWith('x_'))
          fieldsShown.set(name, { model: call.model, label: String(field.string), type: String(field.type) });
      }
    }
    if (call.model === 'account.payment' && Array.isArray(result)) {
      for (const row of result) {
        if (!isRecord(row) || typeof row.id !== 'number') continue;
        if (Array.isArray(row.partner_id) && typeof row.partner_id[1] === 'string')
          customer = row.partner_id[1];
        const [invoice] = Array.isArray(row.reconciled_invoice_ids) ? row.reconciled_invoice_ids : [];
        // The reference field: memo since 18.0, ref before.
        const memo = typeof row.memo === 'string' ? row.memo : row.ref;
        if (typeof row.amount === 'number' && typeof memo === 'string')
          payments.set(row.id, {
            amount: row.amount,
            memo,
            invoice: typeof invoice === 'number' ? invoice : undefined,
          });
      }
    }
    if (
      call.model === 'account.move' &&
      call.method === 'search_read' &&
      Array.isArray(result) &&
      invoices.length === 0
    ) {
      invoices = result.filter(isRecord);
    }
  }
  for (const [name, field] of fieldsShown) {
    if (field.type !== 'char')
      throw new Error(`the scene only makes char custom fields, not ${name} (${field.type})`);
    models.createCustomField({ model: field.model, name, label: field.label, type: 'char' });
  }
  const company = models.createPartner({ name: customer, isCompany: true });
  const contact = models.registry.create(models.registry.superEnv(), 'res.partner', {
    name: 'Captured contact',
    parent_id: company,
    email: 'contact@example.com',
  }).id;
  const toCreate: { captured: number; make: () => number }[] = [];
  for (const [paymentId, payment] of [...payments].sort(([a], [b]) => a - b)) {
    if (created.has(paymentId) || ids.has('account.payment', paymentId)) continue;
    toCreate.push({
      captured: payment.invoice ?? 0,
      make: () => {
        const id = models.createInvoice({
          partnerId: contact,
          currency: 'DZD',
          amount: payment.amount.toFixed(2),
        });
        ids.set('account.payment', paymentId, models.payByOtherMeans(id, { memo: payment.memo }));
        return id;
      },
    });
  }
  for (const invoice of invoices) {
    if (typeof invoice.id !== 'number' || invoice.payment_state !== 'not_paid') continue;
    // Already in the scene: an invoice of the same database's earlier session (16.0/17.0).
    if (ids.has('account.move', invoice.id)) continue;
    const currency = Array.isArray(invoice.currency_id) ? String(invoice.currency_id[1]) : 'USD';
    toCreate.push({
      captured: invoice.id,
      make: () => {
        const id = models.createInvoice({
          partnerId: contact,
          currency,
          amount: Number(invoice.amount_residual).toFixed(2),
        });
        const custom = Object.fromEntries(Object.entries(invoice).filter(([key]) => key.startsWith('x_')));
        if (Object.keys(custom).length > 0) models.writeInvoice(id, custom);
        return id;
      },
    });
  }
  for (const { captured, make } of toCreate.sort((a, b) => a.captured - b.captured)) {
    const id = make();
    if (captured > 0) ids.set('account.move', captured, id);
  }
}

/** The login a later database's session used that is not the admin's: the bot (50). */
function botLoginOf(
  captures: readonly Entry[],
  adminLogin: string,
): { login: string; password: string } | undefined {
  for (const { capture } of captures) {
    const params = capture.request?.params;
    if (!isRecord(params) || params.service !== 'common' || !Array.isArray(params.args)) continue;
    const [, login, password] = params.args;
    if (
      typeof login === 'string' &&
      login !== adminLogin &&
      typeof password === 'string' &&
      capture.response?.result !== false
    )
      return { login, password };
  }
  return undefined;
}

/**
 * The journals of company 1: every database got the same chart of accounts, so the ids the
 * journal listing (05) shows hold in each of them.
 */
function mapJournals(replay: Replay, allCaptures: readonly Entry[]): void {
  const { sandbox, ids } = replay;
  // 16.0 has no journal listing: its journals are matched by name where answers show them.
  const journals = allCaptures.find(({ file }) => file.startsWith('05_'))?.capture.response?.result;
  const mine = new Map<string, number>();
  for (const journal of sandbox.models.registry.model('account.journal').rows.values()) {
    if (journal.company_id === 1) mine.set(String(journal.code), journal.id);
  }
  for (const journal of Array.isArray(journals) ? journals : []) {
    if (!isRecord(journal) || !Array.isArray(journal.company_id) || journal.company_id[0] !== 1) continue;
    const id = mine.get(String(journal.code));
    if (typeof journal.id === 'number' && id !== undefined) ids.set('account.journal', journal.id, id);
  }
}

/** Creates what the first captured session found in its database: companies, partners and invoices 1..n. */
function prepareFirstScene(replay: Replay, captures: readonly Entry[], version: string): void {
  const { sandbox, ids } = replay;
  const models = sandbox.models;
  if (version === '19.0')
    models.createCompany({ name: 'My US Company', currency: 'USD', withBankJournals: true });
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

/** The uid of the admin's login (02), the user of every capture but the bot's. */
function adminUidOf(captures: readonly Entry[]): number {
  const result = captures.find(({ file }) => file.startsWith('02_'))?.capture.response?.result;
  return typeof result === 'number' ? result : 2;
}

/** A call of the bot's session: its login, or an object call as another user than the admin. */
function isBotCall(capture: Capture, adminUid: number, adminLogin: string): boolean {
  const params = capture.request?.params;
  if (!isRecord(params) || !Array.isArray(params.args)) return false;
  const [, user] = params.args;
  if (params.service === 'object') return typeof user === 'number' && user !== adminUid;
  return (
    params.service === 'common' &&
    (params.method === 'login' || params.method === 'authenticate') &&
    typeof user === 'string' &&
    user !== adminLogin
  );
}

/**
 * The bot of a database whose captures hold its calls: its login (50), or, where its session
 * starts without one (16.0), the uid and password its object calls name.
 */
function botOf(
  captures: readonly Entry[],
  adminUid: number,
): { login: string; password: string; uid?: number } | undefined {
  const login = botLoginOf(captures, 'admin');
  if (login) return login;
  for (const { capture } of captures) {
    const params = capture.request?.params;
    if (!isRecord(params) || params.service !== 'object' || !Array.isArray(params.args)) continue;
    const [, uid, password] = params.args;
    if (typeof uid === 'number' && uid !== adminUid && typeof password === 'string')
      return { login: 'paylink-bot', password, uid };
  }
  return undefined;
}

/**
 * Invoices the captures work on that neither a scene nor a captured create made (16.0's admin
 * session pays and notes invoice 16, its bot notes invoice 18): open invoices of the amount a
 * register wizard paid on them, made right before the first capture naming them (16.0's invoice
 * 16 did not exist yet when 04 listed the invoices). Ids only a MissingError names stay unknown.
 */
function createReferencedInvoices(
  replay: Replay,
  captures: readonly Entry[],
  wholeDatabase: readonly Entry[],
): void {
  const { sandbox, ids } = replay;
  const createdByCaptures = new Set<number>();
  for (const { capture } of wholeDatabase) {
    const call = modelCallOf(capture);
    const result = resultOf(capture);
    if (call?.model === 'account.move' && call.method === 'create' && typeof result === 'number')
      createdByCaptures.add(result);
  }
  const amounts = new Map<number, number>();
  const firstUse = new Map<number, Entry>();
  for (const entry of captures) {
    const { capture } = entry;
    const call = modelCallOf(capture);
    const error = capture.response?.error;
    if (
      !call ||
      (isRecord(error) && isRecord(error.data) && error.data.name === 'odoo.exceptions.MissingError')
    )
      continue;
    const note = (id: JsonValue | undefined, amount?: JsonValue) => {
      if (typeof id !== 'number' || ids.has('account.move', id) || createdByCaptures.has(id)) return;
      amounts.set(id, Math.max(amounts.get(id) ?? 0, typeof amount === 'number' ? amount : 0));
      if (!firstUse.has(id)) firstUse.set(id, entry);
    };
    const context = isRecord(call.kwargs) && isRecord(call.kwargs.context) ? call.kwargs.context : {};
    const vals = call.args[0];
    if (context.active_model === 'account.move' && Array.isArray(context.active_ids)) {
      for (const id of context.active_ids) note(id, isRecord(vals) ? vals.amount : undefined);
    }
    if (call.model === 'account.move' && !MODEL_METHODS.has(call.method) && Array.isArray(vals)) {
      for (const id of vals) note(id);
    }
  }
  for (const [captured, amount] of [...amounts].sort(([a], [b]) => a - b)) {
    const entry = firstUse.get(captured);
    if (!entry) continue;
    beforeCapture(replay, entry, () => {
      if (ids.has('account.move', captured)) return;
      const [partner] = sandbox.models.registry.model('res.partner').rows.values();
      const id = sandbox.models.createInvoice({
        partnerId: partner?.id ?? 1,
        amount: (amount > 0 ? amount : 1000).toFixed(2),
      });
      ids.set('account.move', captured, id);
    });
  }
}

/**
 * The ir.model ids a custom field's create names where no capture looks the model up (17.0 has
 * no 19): the model is the one later calls use the new field on.
 */
function mapCustomFieldModels(replay: Replay, captures: readonly Entry[]): void {
  const { sandbox, ids } = replay;
  const irModels = [...sandbox.models.registry.model('ir.model').rows.values()];
  for (const [index, { capture }] of captures.entries()) {
    const call = modelCallOf(capture);
    const vals = call?.args[0];
    if (call?.model !== 'ir.model.fields' || call.method !== 'create' || !isRecord(vals)) continue;
    if (typeof vals.model_id !== 'number' || ids.has('ir.model', vals.model_id)) continue;
    const name = JSON.stringify(String(vals.name));
    const user = captures
      .slice(index + 1)
      .map(({ capture: later }) => modelCallOf(later))
      .find(
        (later) => later && later.model !== 'ir.model.fields' && JSON.stringify(later.args).includes(name),
      );
    const model = irModels.find((row) => row.model === user?.model);
    if (model) ids.set('ir.model', vals.model_id, model.id);
  }
}

/**
 * Custom fields the answers show (get_views, fields_get) that no captured ir.model.fields create
 * makes: the database's earlier setup made them (17.0's x_mytpe_payment_link, 61b).
 */
function createShownCustomFields(replay: Replay, captures: readonly Entry[]): void {
  const models = replay.sandbox.models;
  const made = new Set<string>();
  const shown = new Map<string, { model: string; label: string; type: string }>();
  for (const { capture } of captures) {
    const call = modelCallOf(capture);
    const result = resultOf(capture);
    if (!call) continue;
    const vals = call.args[0];
    if (call.model === 'ir.model.fields' && call.method === 'create' && isRecord(vals))
      made.add(String(vals.name));
    if (call.method !== 'get_views' || !isRecord(result) || !isRecord(result.models)) continue;
    for (const [model, described] of Object.entries(result.models)) {
      if (!isRecord(described)) continue;
      // 17.0 gives the fields dict itself, 18.0+ {fields, has_activities}.
      const fields = isRecord(described.fields) ? described.fields : described;
      for (const [name, field] of Object.entries(fields)) {
        if (name.startsWith('x_') && isRecord(field))
          shown.set(name, { model, label: String(field.string), type: String(field.type) });
      }
    }
  }
  for (const [name, field] of shown) {
    if (made.has(name) || models.registry.model(field.model).fields.has(name)) continue;
    if (field.type !== 'char')
      throw new Error(`the scene only makes char custom fields, not ${name} (${field.type})`);
    models.createCustomField({ model: field.model, name, label: field.label, type: 'char' });
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

const VERSIONS = ['16.0', '17.0', '18.0', '19.0'] as const;

if (!existsSync(CAPTURES_DIR)) {
  describe('Odoo capture replay', () => {
    it('finds the real Odoo captures', () => {
      throw new Error(
        `The Odoo captures are missing: expected ${CAPTURES_DIR} (the shared/ folder must sit beside the repository, with odoo-captures/16.0, 17.0, 18.0 and 19.0).`,
      );
    });
  });
} else {
  for (const version of VERSIONS) {
    const captures = loadCaptures(version);
    const { databases, dbOf } = byDatabase(captures);
    describe(`Odoo ${version} captures replayed against the sandbox`, () => {
      const replays = new Map<string, Replay>();

      beforeAll(async () => {
        for (const [index, db] of databases.entries()) {
          const own = captures.filter((entry) => dbOf.get(entry) === db);
          const adminUid = adminUidOf(captures);
          // 16.0/17.0: one database, the bot's session after the admin's.
          const botStart =
            index === 0 ? own.findIndex(({ capture }) => isBotCall(capture, adminUid, 'admin')) : -1;
          const bot = index === 0 && botStart < 0 ? undefined : botOf(own, adminUid);
          const sandbox = await startOdooSandbox({
            version,
            db,
            ...(bot ? { bot: { login: bot.login, password: bot.password, email: false } } : {}),
          });
          const relationOf = (model: string, field: string) =>
            sandbox.models.registry.models.get(model)?.fields.get(field)?.relation;
          const nameOf = (model: string, id: number) => sandbox.models.registry.displayName(model, id);
          const replay: Replay = {
            sandbox,
            ids: new IdMap(relationOf, nameOf),
            cookie: '',
            before: new Map(),
          };
          replays.set(db, replay);
          if (bot?.uid !== undefined && sandbox.bot) replay.ids.set('res.users', bot.uid, sandbox.bot.uid);
          mapJournals(replay, captures);
          if (index === 0) {
            const adminPart = botStart < 0 ? own : own.slice(0, botStart);
            prepareFirstScene(replay, adminPart, version);
            createReferencedInvoices(replay, adminPart, own);
            createShownCustomFields(replay, own);
            mapCustomFieldModels(replay, own);
            const botPart = own.slice(botStart);
            const first = botPart[0];
            if (botStart >= 0 && first) {
              beforeCapture(replay, first, () => {
                prepareLaterScene(replay, botPart, own);
                createReferencedInvoices(replay, botPart, own);
              });
            }
          } else prepareLaterScene(replay, own);
          mapNamedRecords(replay, own);
        }
      });

      afterAll(async () => {
        for (const replay of replays.values()) await replay.sandbox.close();
      });

      it('has captures to replay', () => {
        // 16.0 was captured for the calls that differ only.
        expect(captures.length).toBeGreaterThan(version === '16.0' ? 10 : 30);
      });

      for (const entry of captures) {
        const { file, capture } = entry;
        it(file, async () => {
          const replay = replays.get(dbOf.get(entry) ?? '');
          if (!replay) throw new Error(`no sandbox for the database of ${file}`);
          // A step may schedule more steps for this same capture (the bot's scene, its invoices).
          for (let index = 0; index < (replay.before.get(entry) ?? []).length; index += 1)
            replay.before.get(entry)?.[index]?.();
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
            expect(got.data.message, 'error.data.message').toBe(replay.ids.message(want.data.message));
            expect(got.data.arguments, 'error.data.arguments').toEqual(
              want.data.arguments.map((argument) =>
                typeof argument === 'string' ? replay.ids.message(argument) : argument,
              ),
            );
            return;
          }
          const wantResult = translateIdKeys(replay.ids, expected.result ?? null);
          const gotResult = actual.result ?? null;
          expect(shapeDiff(wantResult, gotResult), 'result shape').toEqual([]);
          const request = capture.request ?? {};
          learnUid(replay.ids, request, wantResult, gotResult);
          const call = callOf(request);
          if (call) learn(replay, call, wantResult, gotResult);
        });
      }
    });
  }
}
