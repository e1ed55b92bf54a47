/**
 * The in-memory ORM: models and records, environments with multi-company record rules, search
 * (domain, order, paging), read/create/write/unlink, fields_get and read_group. orm.ts exposes
 * them as RPC methods; business models live in models/*.ts and plug in through ModelSpec.
 */
import { minorFromOdooFloat, odooFloatFromMinor } from '../../domain/money.js';
import {
  fieldAccessError,
  GROUP_XMLIDS,
  type GroupXmlid,
  groupClosure,
  groupsAllowed,
  modelAccessError,
  type Operation,
} from './access.js';
import {
  andDomains,
  compileDomain,
  type DomainOperand,
  type DomainScalar,
  type DomainSchema,
  IGNORED_LEAF,
  type ScalarType,
} from './domain.js';
import {
  accessError,
  httpOnlyMethod,
  invalidField,
  type Json,
  type JsonObject,
  missingError,
  type OdooError,
  privateMethod,
  pyRepr,
  typeError,
  unauthorizedCompanies,
  unknownMethod,
  unknownModel,
  validationError,
  valueError,
} from './errors.js';
import {
  applyX2manyCommands,
  defaultValue,
  describeField,
  type FieldDef,
  formatDatetime,
  idList,
  isObject,
  MAGIC_FIELDS,
  type Row,
  SCALAR_TYPES,
  toDate,
  toDatetime,
  type Vals,
} from './fields.js';
import { bindArguments, ORM_METHODS, toIds } from './orm.js';
import { type OdooVersion, traitsOf, type VersionTraits } from './versions.js';

export type { OdooVersion } from './versions.js';

export interface Env {
  readonly uid: number;
  readonly context: JsonObject;
  /** env.companies: the allowed companies of this call. */
  readonly companyIds: readonly number[];
  /** env.company: the first allowed company; new records default to it. */
  readonly companyId: number;
  /** True for calls from a web session (/web/dataset/call_kw), which some methods require. */
  readonly viaHttp: boolean;
  /** Superuser: record rules and access rights do not apply (sandbox helpers, business logic). */
  readonly su: boolean;
  /** The user's groups, implied ones included. */
  readonly groups: ReadonlySet<GroupXmlid>;
}

export interface MethodCall {
  readonly reg: Registry;
  readonly env: Env;
  readonly model: Model;
  /** Record ids for record methods (the first positional argument), empty for @api.model methods. */
  readonly ids: number[];
  readonly args: { [name: string]: Json | undefined };
}

export interface MethodSpec {
  /** Python parameter names after self (and after the ids for record methods). */
  readonly params: readonly string[];
  /** `@api.model`: the first positional argument is not a list of ids. */
  readonly model?: boolean;
  /** Keyword-only parameters (message_post): positional ones are refused, every keyword accepted. */
  readonly keywordOnly?: boolean;
  /** Methods Odoo only allows from a web request (API key creation). */
  readonly httpOnly?: boolean;
  /** The model right checked before the method runs (none when absent). */
  readonly access?: Operation;
  run(call: MethodCall): Json;
}

export interface ModelSpec {
  readonly name: string;
  readonly description: string;
  readonly fields: { [name: string]: FieldDef };
  /** Odoo's `_order`. */
  readonly order?: string;
  /** false where Odoo's display_name is False (a mail.message without subject or record name). */
  readonly displayName?: (row: Row, reg: Registry) => string | false;
  /** Record rule: may `env` see this row? */
  readonly rule?: (row: Row, env: Env, reg: Registry) => boolean;
  /** Fills defaults into the values of a new record (Odoo's default_get plus create overrides). */
  readonly defaults?: (vals: Vals, env: Env, reg: Registry) => Vals;
  readonly afterCreate?: (row: Row, vals: Vals, env: Env, reg: Registry) => void;
  readonly beforeWrite?: (rows: Row[], vals: Vals, env: Env, reg: Registry) => void;
  readonly afterWrite?: (rows: Row[], vals: Vals, env: Env, reg: Registry) => void;
  readonly beforeUnlink?: (rows: Row[], env: Env, reg: Registry) => void;
  /** Models whose read right create() needs first (ir.model.fields reads its ir.model before anything). */
  readonly createReads?: readonly string[];
  /** mail.thread models: writes of tracked fields leave a chatter message. */
  readonly mailThread?: boolean;
  /** How write() reports a field the model lacks (account.move raises KeyError, the ORM ValueError). */
  readonly unknownWriteField?: (model: string, field: string) => OdooError;
  readonly methods?: { [name: string]: MethodSpec };
}

export class Model {
  readonly fields = new Map<string, FieldDef>();
  readonly rows = new Map<number, Row>();
  /** field → referenced id → ids of the rows pointing at it (indexed many2one fields only). */
  private readonly indexes = new Map<string, Map<number, Set<number>>>();
  nextId = 1;

  constructor(
    readonly spec: ModelSpec,
    magicFields: { readonly [name: string]: FieldDef } = MAGIC_FIELDS,
  ) {
    for (const [name, field] of Object.entries(spec.fields)) this.fields.set(name, field);
    for (const [name, field] of Object.entries(magicFields))
      if (!this.fields.has(name)) this.fields.set(name, field);
    for (const [name, field] of this.fields) if (field.indexed) this.indexes.set(name, new Map());
  }

  /** Adds or removes a row's indexed values; called around every change of those fields. */
  index(row: Row, add: boolean, only?: readonly string[]): void {
    for (const [name, index] of this.indexes) {
      if (only && !only.includes(name)) continue;
      const value = row[name];
      if (typeof value !== 'number') continue;
      let ids = index.get(value);
      if (add) {
        if (!ids) {
          ids = new Set();
          index.set(value, ids);
        }
        ids.add(row.id);
      } else ids?.delete(row.id);
    }
  }

  isIndexed(name: string): boolean {
    return this.indexes.has(name);
  }

  /** Rows whose `field` points at `id`, in id order; uses the index when the field has one. */
  rowsWhere(field: string, id: number): Row[] {
    const index = this.indexes.get(field);
    if (!index) return [...this.rows.values()].filter((row) => row[field] === id);
    const rows: Row[] = [];
    for (const rowId of index.get(id) ?? []) {
      const row = this.rows.get(rowId);
      if (row) rows.push(row);
    }
    return rows.sort((a, b) => a.id - b.id);
  }

  get name(): string {
    return this.spec.name;
  }

  isStored(name: string): boolean {
    const field = this.fields.get(name);
    if (!field) return false;
    return field.store ?? field.compute === undefined;
  }
}

export interface RegistryOptions {
  readonly version: OdooVersion;
  readonly settledState: 'paid' | 'in_payment';
  readonly now: () => Date;
}

export interface SearchOptions {
  offset?: number;
  limit?: number | null;
  order?: string | null;
}

const ORDER_TERM = /^\s*("?[a-z0-9_]+"?)(?:\s+(asc|desc))?(?:\s+nulls\s+(first|last))?\s*$/i;

/** A relation operand whose display names are computed only when a leaf compares text. */
class RelationOperand {
  readonly kind = 'relation';
  ids: number[] = [];
  private cachedNames: string[] | undefined;

  constructor(
    private readonly reg: Registry,
    private readonly relation: string,
  ) {}

  reset(value: Json): this {
    this.ids = idList(value);
    this.cachedNames = undefined;
    return this;
  }

  get names(): string[] {
    this.cachedNames ??= this.ids.map((id) => this.reg.displayName(this.relation, id));
    return this.cachedNames;
  }
}

export class Registry {
  readonly models = new Map<string, Model>();
  /** Login passwords per uid (never readable through the ORM). */
  readonly passwords = new Map<number, string>();
  /** API keys per uid; each works as the password over RPC. */
  readonly apiKeys = new Map<number, Set<string>>();
  private readonly sequences = new Map<string, number>();
  /** External ids (`module.name`) and their records: what ir.model.data rows describe. */
  private readonly xmlids = new Map<string, { model: string; id: number }>();
  private readonly xmlidsByRecord = new Map<string, string>();
  /** `model.field` → id of its ir.model.fields row, kept by the model catalogue. */
  readonly fieldIds = new Map<string, number>();
  /** Writes the chatter message of tracked-field changes; installed by the mail models. */
  tracker: TrackingHook | undefined;

  constructor(readonly options: RegistryOptions) {}

  get version(): OdooVersion {
    return this.options.version;
  }

  /** What this version does differently (versions.ts). */
  get traits(): VersionTraits {
    return traitsOf(this.options.version);
  }

  define(spec: ModelSpec): Model {
    const model = new Model(
      spec,
      this.traits.hasLastUpdate ? { ...MAGIC_FIELDS, __last_update: LAST_UPDATE_FIELD } : MAGIC_FIELDS,
    );
    this.models.set(spec.name, model);
    return model;
  }

  model(name: string): Model {
    const model = this.models.get(name);
    if (!model) throw unknownModel(name);
    return model;
  }

  now(): string {
    return formatDatetime(this.options.now());
  }

  today(): string {
    return this.now().slice(0, 10);
  }

  /** Next number of a named sequence (journal + year), starting at 1. */
  nextSequence(key: string): number {
    const next = (this.sequences.get(key) ?? 0) + 1;
    this.sequences.set(key, next);
    return next;
  }

  // ---------------------------------------------------------------- external ids

  /** Names a record `module.name`, with its ir.model.data row. */
  registerXmlid(xmlid: string, model: string, id: number): void {
    this.xmlids.set(xmlid, { model, id });
    this.xmlidsByRecord.set(`${model},${id}`, xmlid);
    const [module = '', name = ''] = xmlid.split('.');
    if (this.models.has('ir.model.data')) {
      this.insert('ir.model.data', { module, name, model, res_id: id, noupdate: false }, this.superEnv());
    }
  }

  /** env.ref(): the record of an external id. */
  ref(xmlid: string): { model: string; id: number } | undefined {
    return this.xmlids.get(xmlid);
  }

  xmlidOf(model: string, id: number): string | undefined {
    return this.xmlidsByRecord.get(`${model},${id}`);
  }

  // ---------------------------------------------------------------- users, groups and rights

  /** res.users' groups field: groups_id up to 18.0, group_ids since 19.0. */
  get userGroupsField(): 'groups_id' | 'group_ids' {
    return this.traits.userGroupsField;
  }

  /** The user's groups and what they imply: a handful of ids, so this is constant time. */
  groupsOfUser(uid: number): Set<GroupXmlid> {
    const user = this.model('res.users').rows.get(uid);
    const xmlids: GroupXmlid[] = [];
    for (const id of idList(user?.[this.userGroupsField])) {
      const xmlid = this.xmlidOf('res.groups', id);
      if (xmlid && (GROUP_XMLIDS as readonly string[]).includes(xmlid)) xmlids.push(xmlid as GroupXmlid);
    }
    return groupClosure(xmlids);
  }

  /** May `env` do `operation` on the model (Odoo's ir.model.access check)? */
  hasAccess(env: Env, modelName: string, operation: Operation): boolean {
    if (env.su) return true;
    const allowed = groupsAllowed(modelName, operation);
    return !allowed || allowed.some((group) => env.groups.has(group));
  }

  checkAccess(env: Env, modelName: string, operation: Operation): void {
    if (this.hasAccess(env, modelName, operation)) return;
    throw modelAccessError(
      this.version,
      modelName,
      this.model(modelName).spec.description,
      operation,
      groupsAllowed(modelName, operation) ?? [],
    );
  }

  /** Odoo's field access check: fields named in the call are refused, unnamed ones left out. */
  accessibleFields(
    env: Env,
    model: Model,
    names: string[],
    named: boolean,
    operation: 'read' | 'write',
  ): string[] {
    if (env.su) return names;
    const kept: string[] = [];
    const refused: { name: string; groups: readonly GroupXmlid[] }[] = [];
    for (const name of names) {
      const groups = model.fields.get(name)?.groups;
      if (groups && !groups.some((group) => env.groups.has(group))) refused.push({ name, groups });
      else kept.push(name);
    }
    if (refused.length > 0 && named) {
      throw fieldAccessError(this.version, model.name, model.spec.description, env.uid, operation, refused);
    }
    return kept;
  }

  // ---------------------------------------------------------------- environments

  superEnv(companyId?: number): Env {
    const companies = [...this.model('res.company').rows.keys()];
    const first = companyId ?? companies[0] ?? 1;
    return {
      uid: 1,
      context: {},
      companyIds: companies,
      companyId: first,
      viaHttp: false,
      su: true,
      groups: EVERY_GROUP,
    };
  }

  /** The environment of an RPC call: `allowed_company_ids` decides env.companies, as in Odoo. */
  userEnv(uid: number, context: JsonObject, viaHttp: boolean): Env {
    const user = this.model('res.users').rows.get(uid);
    if (!user) throw accessError('Access Denied');
    const userCompanies = idList(user.company_ids);
    const requested = context.allowed_company_ids;
    let companyIds: number[];
    if (Array.isArray(requested) && requested.length > 0) {
      companyIds = [];
      for (const id of requested) {
        if (typeof id !== 'number' || !userCompanies.includes(id)) throw unauthorizedCompanies();
        companyIds.push(id);
      }
    } else {
      companyIds = typeof user.company_id === 'number' ? [user.company_id] : userCompanies.slice(0, 1);
    }
    return {
      uid,
      context,
      companyIds,
      companyId: companyIds[0] ?? 1,
      viaHttp,
      su: false,
      groups: this.groupsOfUser(uid),
    };
  }

  // ---------------------------------------------------------------- records

  visible(model: Model, row: Row, env: Env): boolean {
    return env.su || !model.spec.rule || model.spec.rule(row, env, this);
  }

  /** Odoo's browse + access check: MissingError for unknown ids, AccessError for ones a rule hides. */
  browse(
    env: Env,
    modelName: string,
    ids: readonly number[],
    operation: 'read' | 'write' | 'unlink' = 'read',
  ): Row[] {
    const model = this.model(modelName);
    const rows: Row[] = [];
    const missing: number[] = [];
    for (const id of ids) {
      const row = model.rows.get(id);
      if (row) rows.push(row);
      else missing.push(id);
    }
    if (missing.length > 0) throw missingError(modelName, missing, env.uid);
    const hidden = rows.filter((row) => !this.visible(model, row, env));
    if (hidden.length > 0) throw this.recordRuleError(env, model, operation);
    return rows;
  }

  private recordRuleError(env: Env, model: Model, operation: string): OdooError {
    const user = this.model('res.users').rows.get(env.uid);
    const userName = user ? this.displayName('res.users', user.id) : String(env.uid);
    return accessError(
      'Uh-oh! Looks like you have stumbled upon some top-secret records.\n\n' +
        `Sorry, ${userName} (id=${env.uid}) doesn't have '${operation}' access to:\n` +
        `- ${model.spec.description} (${model.name})\n\n` +
        'If you really, really need access, perhaps you can win over your friendly administrator with a batch of freshly baked cookies.',
    );
  }

  displayName(modelName: string, id: number): string {
    return this.nameOf(modelName, id) || '';
  }

  /** display_name as read over RPC: false for the few records Odoo names False. */
  nameOf(modelName: string, id: number): string | false {
    const model = this.model(modelName);
    const row = model.rows.get(id);
    if (!row) return '';
    if (model.spec.displayName) return model.spec.displayName(row, this);
    const name = row.name;
    return typeof name === 'string' ? name : `${modelName},${id}`;
  }

  /** Low-level insert used by business logic: no access check, defaults by type, magic fields set. */
  insert(modelName: string, vals: Vals, env: Env): Row {
    const model = this.model(modelName);
    const now = this.now();
    const row: Row = { id: model.nextId };
    model.nextId += 1;
    for (const [name, field] of model.fields) {
      if (name !== 'id' && model.isStored(name)) row[name] = defaultValue(field);
    }
    row.create_date = now;
    row.write_date = now;
    row.create_uid = env.uid;
    row.write_uid = env.uid;
    this.assign(model, row, vals);
    model.rows.set(row.id, row);
    model.index(row, true);
    return row;
  }

  /** Deletes a row (no checks), keeping indexes right. */
  remove(modelName: string, id: number): void {
    const model = this.model(modelName);
    const row = model.rows.get(id);
    if (!row) return;
    model.index(row, false);
    model.rows.delete(id);
  }

  /**
   * Low-level update used by business logic: converts values, and bumps write_date when anything
   * changed, as Odoo does for writes and for recomputed stored fields.
   */
  update(modelName: string, row: Row, vals: Vals, env: Env): boolean {
    const model = this.model(modelName);
    const before = JSON.stringify(row);
    const tracked = this.trackedValues(model, row, vals, env);
    this.assign(model, row, vals);
    const changed = JSON.stringify(row) !== before;
    if (changed) {
      row.write_date = this.now();
      row.write_uid = env.uid;
    }
    if (tracked) this.tracker?.(this, model, row, tracked, env);
    return changed;
  }

  /** Values of the tracked fields `vals` touches, before the change (undefined: nothing tracked). */
  private trackedValues(model: Model, row: Row, vals: Vals, env: Env): Map<string, Json> | undefined {
    if (!model.spec.mailThread || !this.tracker || env.context.tracking_disable === true) return undefined;
    let before: Map<string, Json> | undefined;
    for (const name of Object.keys(vals)) {
      if (!model.fields.get(name)?.tracking) continue;
      before ??= new Map();
      before.set(name, row[name] ?? false);
    }
    return before;
  }

  /** Converts and stores `vals` (already validated names) into `row`; monetary fields last, they need the currency. */
  private assign(model: Model, row: Row, vals: Vals): void {
    const reindexed = Object.keys(vals).filter((name) => model.isIndexed(name));
    if (reindexed.length > 0) model.index(row, false, reindexed);
    const monetary: string[] = [];
    for (const [name, value] of Object.entries(vals)) {
      const field = model.fields.get(name);
      if (!field || name === 'id' || !model.isStored(name)) continue;
      if (field.type === 'monetary') {
        monetary.push(name);
        continue;
      }
      row[name] = this.convert(model, name, field, value, row);
    }
    for (const name of monetary) {
      const field = model.fields.get(name);
      if (field) row[name] = this.roundMonetary(row, field, vals[name] ?? 0);
    }
    if (reindexed.length > 0) model.index(row, true, reindexed);
  }

  private convert(model: Model, name: string, field: FieldDef, value: Json, row: Row): Json {
    switch (field.type) {
      case 'many2one': {
        const id = Array.isArray(value) ? value[0] : value;
        if (id === false || id === null || id === undefined || id === 0) return false;
        if (typeof id !== 'number' || !Number.isInteger(id)) {
          throw valueError(`Wrong value for ${model.name}.${name}: ${pyRepr(value)}`);
        }
        if (field.relation && !this.model(field.relation).rows.has(id)) {
          throw validationError(
            'The operation cannot be completed: another model requires the record being deleted. ' +
              `If possible, archive it instead.\n\nModel: ${model.spec.description} (${model.name})\n` +
              `Constraint: ${model.name.replaceAll('.', '_')}_${name}_fkey`,
          );
        }
        return id;
      }
      case 'many2many':
      case 'one2many':
        return applyX2manyCommands(idList(row[name]), value, model.name, name);
      case 'integer':
        return value === false || value === null ? 0 : Math.trunc(Number(value));
      case 'many2one_reference':
        return typeof value === 'number' ? value : false;
      case 'float':
        return value === false || value === null ? 0 : Number(value);
      case 'boolean':
        return Boolean(value);
      case 'selection': {
        if (value === false || value === null || value === '') return false;
        if (
          typeof value !== 'string' ||
          (field.selection && !field.selection.some(([key]) => key === value))
        ) {
          throw valueError(`Wrong value for ${model.name}.${name}: ${pyRepr(value)}`);
        }
        return value;
      }
      case 'date':
        return toDate(value);
      case 'datetime':
        return toDatetime(value);
      case 'json':
        return value;
      default:
        if (value === false || value === null) return false;
        return typeof value === 'string'
          ? value
          : typeof value === 'object'
            ? JSON.stringify(value)
            : String(value);
    }
  }

  currencyDecimals(currencyId: Json | undefined): number {
    if (typeof currencyId !== 'number') return 2;
    const currency = this.model('res.currency').rows.get(currencyId);
    return typeof currency?.decimal_places === 'number' ? currency.decimal_places : 2;
  }

  private roundMonetary(row: Row, field: FieldDef, value: Json): number {
    const amount = typeof value === 'number' ? value : Number(value || 0);
    if (!Number.isFinite(amount)) throw valueError(`Invalid monetary value: ${pyRepr(value)}`);
    const decimals = this.currencyDecimals(field.currencyField ? row[field.currencyField] : false);
    return odooFloatFromMinor(minorFromOdooFloat(amount, decimals), decimals);
  }

  // ---------------------------------------------------------------- search

  domainSchema(model: Model, env: Env): DomainSchema<Row> {
    return {
      model: model.name,
      leafWord: this.traits.domainLeafWord,
      resolve: (path) => this.resolvePath(model, path, env),
    };
  }

  private resolvePath(
    model: Model,
    path: string,
    env: Env,
  ): ((row: Row) => DomainOperand) | undefined | typeof IGNORED_LEAF {
    const [head, ...rest] = path.split('.');
    if (head === undefined) return undefined;
    const field = model.fields.get(head);
    if (!field) return undefined;
    if (!model.isStored(head) && !field.searchable) {
      // Up to 18.0 Odoo logs "Non-stored field … cannot be searched." and drops the condition (58).
      if (this.traits.unsearchableLeafDropped) return IGNORED_LEAF;
      throw valueError(`Non-stored field ${model.name}.${head} cannot be searched.`);
    }
    const read = (row: Row): Json => {
      if (head === 'display_name') return this.displayName(model.name, row.id);
      return field.compute ? field.compute(row, { reg: this, env }) : (row[head] ?? false);
    };
    if (rest.length > 0) {
      if (!field.relation) return undefined;
      const comodel = this.model(field.relation);
      const inner = this.resolvePath(comodel, rest.join('.'), env);
      if (!inner || inner === IGNORED_LEAF) return inner;
      const lastField = this.fieldAtPath(comodel, rest);
      const scalarType = lastField ? (SCALAR_TYPES[lastField.type] ?? 'char') : 'char';
      return (row) => {
        const values: (string | number | boolean | null)[] = [];
        for (const id of idList(read(row))) {
          const related = comodel.rows.get(id);
          if (!related) continue;
          const operand = inner(related);
          if (operand.kind === 'scalar') values.push(operand.value);
          else if (operand.kind === 'values') values.push(...operand.values);
          else values.push(...operand.ids);
        }
        return { kind: 'values', type: scalarType, values };
      };
    }
    // One operand per leaf, refilled for each row: a domain is evaluated on thousands of rows
    // synchronously, and the predicate never keeps an operand.
    if (field.type === 'many2one' || field.type === 'many2many' || field.type === 'one2many') {
      const operand = new RelationOperand(this, field.relation ?? '');
      return (row) => operand.reset(read(row));
    }
    const operand: { kind: 'scalar'; type: ScalarType; value: DomainScalar } = {
      kind: 'scalar',
      type: SCALAR_TYPES[field.type] ?? 'char',
      value: null,
    };
    return (row) => {
      const value = read(row);
      operand.value = Array.isArray(value) || isObject(value) ? null : value;
      return operand;
    };
  }

  private fieldAtPath(model: Model, path: string[]): FieldDef | undefined {
    let current: Model = model;
    let field: FieldDef | undefined;
    for (const part of path) {
      field = current.fields.get(part);
      if (!field) return undefined;
      if (field.relation && part !== path[path.length - 1]) current = this.model(field.relation);
    }
    return field;
  }

  /** Odoo's `_search`: domain, record rules, active_test, order, offset and limit. */
  search(env: Env, modelName: string, domain: Json, options: SearchOptions = {}): Row[] {
    const model = this.model(modelName);
    const predicate = compileDomain(domain ?? [], this.domainSchema(model, env));
    const activeTest =
      model.fields.has('active') && env.context.active_test !== false && !mentionsField(domain, 'active');
    const rows: Row[] = [];
    for (const row of model.rows.values()) {
      if (activeTest && row.active === false) continue;
      if (!this.visible(model, row, env)) continue;
      if (predicate(row)) rows.push(row);
    }
    this.sortRows(model, rows, options.order || model.spec.order || 'id');
    const offset = options.offset ?? 0;
    const end = options.limit === null || options.limit === undefined ? undefined : offset + options.limit;
    return rows.slice(offset, end);
  }

  /** Parses an Odoo order string ("write_date asc, id asc") into a row comparator. */
  comparator(model: Model, order: string): (a: Row, b: Row) => number {
    const compareKeys = this.keyComparator(model, order);
    const keysOf = (row: Row) =>
      compareKeys.terms.map((term) => this.sortKey(term.field, row[term.name] ?? false));
    return (a, b) => compareKeys.compare(keysOf(a), keysOf(b));
  }

  /** Sorts in place, computing each row's sort keys once (display names of many2ones cost). */
  sortRows(model: Model, rows: Row[], order: string): void {
    const { terms, compare } = this.keyComparator(model, order);
    const keyed = rows.map((row) => ({
      row,
      keys: terms.map((term) => this.sortKey(term.field, row[term.name] ?? false)),
    }));
    keyed.sort((a, b) => compare(a.keys, b.keys));
    keyed.forEach((item, index) => {
      rows[index] = item.row;
    });
  }

  private keyComparator(model: Model, order: string) {
    const terms = order.split(',').map((term) => {
      const match = ORDER_TERM.exec(term);
      if (!match?.[1]) throw valueError(`Invalid order: ${pyRepr(order)}`);
      const name = match[1].replaceAll('"', '');
      const field = model.fields.get(name);
      if (!field) throw invalidField(model.name, name);
      if (!model.isStored(name) || field.type === 'one2many' || field.type === 'many2many') {
        throw valueError(`Cannot convert ${model.name}.${name} to SQL because it is not stored`);
      }
      const descending = match[2]?.toLowerCase() === 'desc';
      const nullsFirst = match[3] ? match[3].toLowerCase() === 'first' : descending;
      return { name, field, descending, nullsFirst };
    });
    const compare = (a: (string | number | null)[], b: (string | number | null)[]): number => {
      for (const [index, term] of terms.entries()) {
        const left = a[index] ?? null;
        const right = b[index] ?? null;
        if (left === right) continue;
        if (left === null) return term.nullsFirst ? -1 : 1;
        if (right === null) return term.nullsFirst ? 1 : -1;
        const result = left < right ? -1 : 1;
        return term.descending ? -result : result;
      }
      return 0;
    };
    return { terms, compare };
  }

  private sortKey(field: FieldDef, value: Json): string | number | null {
    if (field.type === 'boolean') return value === true ? 1 : 0;
    if (value === false || value === null) return null;
    if (field.type === 'many2one' && typeof value === 'number' && field.relation) {
      return this.displayName(field.relation, value);
    }
    return typeof value === 'number' || typeof value === 'string' ? value : JSON.stringify(value);
  }

  // ---------------------------------------------------------------- read

  /** Odoo's read(): `id` first, many2one as [id, display_name], unknown fields raise ValueError. */
  read(env: Env, model: Model, rows: readonly Row[], fields?: Json): JsonObject[] {
    const named = Array.isArray(fields) && fields.length > 0;
    const names = this.accessibleFields(env, model, this.fieldNames(model, fields), named, 'read');
    return rows.map((row) => {
      const result: JsonObject = { id: row.id };
      for (const name of names) {
        if (name === 'id') continue;
        result[name] = this.readValue(env, model, row, name);
      }
      return result;
    });
  }

  fieldNames(model: Model, fields?: Json): string[] {
    if (fields === undefined || fields === null || fields === false) return [...model.fields.keys()];
    if (!Array.isArray(fields)) throw typeError(`fields must be a list, not ${pyRepr(fields)}`);
    if (fields.length === 0) return [...model.fields.keys()];
    const names: string[] = [];
    for (const name of fields) {
      if (typeof name !== 'string' || !model.fields.has(name))
        throw invalidField(model.name, String(name), this.traits.fetchFieldModelWord);
      names.push(name);
    }
    return names;
  }

  readValue(env: Env, model: Model, row: Row, name: string): Json {
    const field = model.fields.get(name);
    if (!field) throw invalidField(model.name, name, this.traits.fetchFieldModelWord);
    if (name === 'display_name') return this.nameOf(model.name, row.id);
    const raw = field.compute ? field.compute(row, { reg: this, env }) : row[name];
    return this.format(field, raw);
  }

  private format(field: FieldDef, raw: Json | undefined): Json {
    if (raw === undefined) return defaultValue(field);
    if (field.type === 'many2one') {
      if (typeof raw !== 'number' || !field.relation) return false;
      const target = this.model(field.relation);
      if (!target.rows.has(raw)) return false;
      // Odoo reads the display name as superuser, so a name from another company still shows.
      return [raw, this.nameOf(field.relation, raw)];
    }
    if (field.type === 'one2many' || field.type === 'many2many') return idList(raw);
    return raw;
  }

  // ---------------------------------------------------------------- create / write / unlink

  create(env: Env, modelName: string, vals: Json): Row {
    const model = this.model(modelName);
    if (!isObject(vals)) throw typeError(`create() values must be a dict, not ${pyRepr(vals)}`);
    for (const name of Object.keys(vals)) {
      if (!model.fields.has(name)) throw invalidField(modelName, name);
    }
    const complete = model.spec.defaults ? model.spec.defaults({ ...vals }, env, this) : { ...vals };
    for (const [name, field] of model.fields) {
      const value = complete[name];
      if (
        field.required &&
        model.isStored(name) &&
        (value === undefined || value === false || value === null)
      ) {
        throw validationError(
          'The operation cannot be completed:\n' +
            '- Create/update: a mandatory field is not set.\n' +
            '- Delete: another model requires the record being deleted. If possible, archive it instead.\n\n' +
            `Model: ${model.spec.description} (${model.name})\nField: ${field.string} (${name})`,
        );
      }
    }
    if (!env.su && model.spec.rule) {
      const probe = { id: 0, ...complete } as Row;
      if (!model.spec.rule(probe, env, this)) throw this.recordRuleError(env, model, 'create');
    }
    const row = this.insert(modelName, complete, env);
    model.spec.afterCreate?.(row, complete, env, this);
    return row;
  }

  write(env: Env, modelName: string, rows: Row[], vals: Json): void {
    const model = this.model(modelName);
    if (!isObject(vals)) throw typeError(`write() values must be a dict, not ${pyRepr(vals)}`);
    for (const name of Object.keys(vals)) {
      if (!model.fields.has(name)) {
        throw model.spec.unknownWriteField?.(modelName, name) ?? invalidField(modelName, name);
      }
    }
    this.accessibleFields(env, model, Object.keys(vals), true, 'write');
    model.spec.beforeWrite?.(rows, vals, env, this);
    const tracked = rows.map((row) => this.trackedValues(model, row, vals, env));
    for (const row of rows) {
      this.assign(model, row, vals);
      row.write_date = this.now();
      row.write_uid = env.uid;
    }
    model.spec.afterWrite?.(rows, vals, env, this);
    rows.forEach((row, index) => {
      const before = tracked[index];
      if (before) this.tracker?.(this, model, row, before, env);
    });
  }

  unlink(env: Env, modelName: string, rows: Row[]): void {
    const model = this.model(modelName);
    model.spec.beforeUnlink?.(rows, env, this);
    for (const row of rows) this.remove(modelName, row.id);
  }

  // ---------------------------------------------------------------- fields_get / read_group

  /** fields_get: the fields `env` may read (Odoo leaves out the others), with their attributes. */
  fieldsGet(env: Env, model: Model, allfields?: Json, attributes?: Json): JsonObject {
    const only = Array.isArray(allfields) && allfields.length > 0 ? new Set(allfields) : undefined;
    const wanted = Array.isArray(attributes) && attributes.length > 0 ? attributes.map(String) : undefined;
    const result: JsonObject = {};
    for (const [name, field] of model.fields) {
      if (only && !only.has(name)) continue;
      if (field.groups && !env.su && !field.groups.some((group) => env.groups.has(group))) continue;
      const description = describeField(name, field, model.isStored(name));
      if (!this.traits.fieldsHaveGroupable) delete description.groupable;
      if (!wanted) {
        result[name] = description;
        continue;
      }
      const picked: JsonObject = {};
      for (const attribute of wanted) {
        const value = description[attribute];
        if (value !== undefined) picked[attribute] = value;
      }
      result[name] = picked;
    }
    return result;
  }

  readGroup(env: Env, model: Model, args: MethodCall['args']): Json {
    const domain = (args.domain ?? []) as Json[];
    const groupby =
      typeof args.groupby === 'string' ? [args.groupby] : ((args.groupby ?? []) as Json[]).map(String);
    const lazy = args.lazy !== false;
    const used = lazy ? groupby.slice(0, 1) : groupby;
    for (const spec of used) {
      const name = spec.split(':')[0] ?? spec;
      if (!model.fields.has(name)) throw invalidField(model.name, name);
    }
    const aggregates = ((args.fields ?? []) as Json[])
      .map(String)
      .map((spec) => spec.split(':')[0] ?? spec)
      .filter((name) => {
        const field = model.fields.get(name);
        return field && ['integer', 'float', 'monetary'].includes(field.type) && name !== 'id';
      });
    const rows = this.search(env, model.name, domain);
    const groups = new Map<string, { key: Json[]; rows: Row[] }>();
    for (const row of rows) {
      const key = used.map((spec) => this.groupValue(model, row, spec));
      const id = JSON.stringify(key);
      const group = groups.get(id) ?? { key, rows: [] };
      group.rows.push(row);
      groups.set(id, group);
    }
    const result: JsonObject[] = [];
    for (const group of groups.values()) {
      const entry: JsonObject = {};
      used.forEach((spec, index) => {
        entry[spec] = group.key[index] ?? false;
      });
      for (const name of aggregates) {
        entry[name] = group.rows.reduce((sum, row) => sum + Number(row[name] ?? 0), 0);
      }
      if (lazy) entry[`${used[0] ?? ''}_count`] = group.rows.length;
      else entry.__count = group.rows.length;
      const leaves = used.map((spec, index) => {
        const value = group.key[index] ?? false;
        return [
          spec.split(':')[0] ?? spec,
          '=',
          Array.isArray(value) ? (value[0] ?? false) : value,
        ] as Json[];
      });
      entry.__domain = andDomains([domain, ...leaves.map((leaf) => [leaf])]) as Json;
      if (lazy && groupby.length > 1) entry.__context = { group_by: groupby.slice(1) };
      result.push(entry);
    }
    const keyOf = (entry: JsonObject): string => used.map((spec) => JSON.stringify(entry[spec])).join('|');
    result.sort((a, b) => (keyOf(a) < keyOf(b) ? -1 : keyOf(a) > keyOf(b) ? 1 : 0));
    return result;
  }

  private groupValue(model: Model, row: Row, spec: string): Json {
    const [name = spec, granularity] = spec.split(':');
    const field = model.fields.get(name);
    const value = row[name] ?? false;
    if (!field) return false;
    if (field.type === 'many2one' && typeof value === 'number' && field.relation) {
      return [value, this.displayName(field.relation, value)];
    }
    if ((field.type === 'date' || field.type === 'datetime') && typeof value === 'string') {
      const months = [
        'January',
        'February',
        'March',
        'April',
        'May',
        'June',
        'July',
        'August',
        'September',
        'October',
        'November',
        'December',
      ];
      const month = months[Number(value.slice(5, 7)) - 1] ?? '';
      if (granularity === 'year') return value.slice(0, 4);
      if (granularity === 'day') return value.slice(0, 10);
      return `${month} ${value.slice(0, 4)}`;
    }
    return value;
  }

  // ---------------------------------------------------------------- method dispatch

  /** Odoo's `call_kw`: private and unknown methods refused, ids split off, arguments bound by name. */
  call(env: Env, modelName: string, method: string, args: Json[], kwargs: JsonObject): Json {
    const model = this.model(modelName);
    if (method.startsWith('_')) throw privateMethod(this.traits.privateMethodMessage(modelName, method));
    const spec = model.spec.methods?.[method] ?? ORM_METHODS[method];
    if (!spec) throw unknownMethod(this.traits.unknownMethodMessage(modelName, method));
    if (spec.httpOnly && !env.viaHttp) throw httpOnlyMethod();
    if (spec.access) {
      if (spec.access === 'create')
        for (const other of model.spec.createReads ?? []) this.checkAccess(env, other, 'read');
      this.checkAccess(env, modelName, spec.access);
    }
    let positional = args;
    let ids: number[] = [];
    if (!spec.model) {
      if (positional.length === 0) {
        throw typeError(`${method}() missing 1 required positional argument: 'self'`);
      }
      ids = toIds(positional[0] ?? null);
      positional = positional.slice(1);
    }
    const bound = bindArguments(method, spec, positional, kwargs);
    return spec.run({ reg: this, env, model, ids, args: bound });
  }
}

const EVERY_GROUP: ReadonlySet<GroupXmlid> = new Set(GROUP_XMLIDS);

/** 16.0's magic `__last_update` (the write date, or the create date), gone since 17.0. */
const LAST_UPDATE_FIELD: FieldDef = {
  type: 'datetime',
  string: 'Last Modified on',
  readonly: true,
  compute: (row) => row.write_date ?? row.create_date ?? false,
};

/** Called after a write changed tracked fields, with their former values. */
export type TrackingHook = (
  reg: Registry,
  model: Model,
  row: Row,
  before: ReadonlyMap<string, Json>,
  env: Env,
) => void;

function mentionsField(domain: Json, name: string): boolean {
  return (
    Array.isArray(domain) &&
    domain.some(
      (term) => Array.isArray(term) && typeof term[0] === 'string' && term[0].split('.')[0] === name,
    )
  );
}

// ---------------------------------------------------------------- generic ORM methods
