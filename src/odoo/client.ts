import { z } from 'zod';
import type { Logger } from '../log.js';
import { OdooError } from './errors.js';
import type { OdooTransport } from './transport.js';

export type Domain = readonly unknown[];

export interface CallOptions {
  /** Companies the call acts in; the first one is env.company. Sent as allowed_company_ids. */
  companyIds: readonly number[];
  context?: Record<string, unknown>;
  timeoutMs?: number;
}

export interface SearchReadOptions extends CallOptions {
  fields: readonly string[];
  limit?: number;
  offset?: number;
  order?: string;
}

/** The typed view of Odoo the rest of the daemon uses; only src/odoo knows about RPC. */
export interface OdooClient {
  version(): Promise<{ serverVersion: string; major: number }>;
  searchRead<T>(
    model: string,
    domain: Domain,
    schema: z.ZodType<T>,
    options: SearchReadOptions,
  ): Promise<T[]>;
  read<T>(
    model: string,
    ids: readonly number[],
    schema: z.ZodType<T>,
    options: SearchReadOptions,
  ): Promise<T[]>;
  searchCount(model: string, domain: Domain, options: CallOptions): Promise<number>;
  create(model: string, values: Record<string, unknown>, options: CallOptions): Promise<number>;
  write(
    model: string,
    ids: readonly number[],
    values: Record<string, unknown>,
    options: CallOptions,
  ): Promise<void>;
  call<T>(
    model: string,
    method: string,
    args: readonly unknown[],
    schema: z.ZodType<T>,
    options: CallOptions & { kwargs?: Record<string, unknown> },
  ): Promise<T>;
}

export interface OdooCredentials {
  db: string;
  login: string;
  password: string;
}

const versionSchema = z
  .object({ server_version: z.string(), server_version_info: z.array(z.union([z.number(), z.string()])) })
  .loose();
const uidSchema = z.union([z.number().int().positive(), z.literal(false)]);
const idSchema = z.number().int().positive();
/** create() over RPC answers an id, or a one-element list when given a list. */
const createdSchema = z.union([idSchema, z.array(idSchema).length(1)]);

/**
 * Client over any transport. Logs in lazily, once. A refused login or an AccessDenied on any
 * call halts the client for good: every later call fails at once without reaching Odoo, because
 * Odoo locks out the whole IP after a few failed logins.
 */
export class RpcOdooClient implements OdooClient {
  private uid: number | undefined;
  private login: Promise<number> | undefined;
  private haltedBy: OdooError | undefined;

  constructor(
    private readonly transport: OdooTransport,
    private readonly credentials: OdooCredentials,
    private readonly log: Logger,
  ) {}

  /** Why Odoo work is stopped, if it is. */
  get halted(): OdooError | undefined {
    return this.haltedBy;
  }

  async version(): Promise<{ serverVersion: string; major: number }> {
    const raw = versionSchema.parse(await this.transport.common('version', []));
    return { serverVersion: raw.server_version, major: Number(raw.server_version_info[0]) };
  }

  async searchRead<T>(
    model: string,
    domain: Domain,
    schema: z.ZodType<T>,
    options: SearchReadOptions,
  ): Promise<T[]> {
    const kwargs: Record<string, unknown> = { fields: options.fields };
    if (options.limit !== undefined) kwargs.limit = options.limit;
    if (options.offset !== undefined) kwargs.offset = options.offset;
    if (options.order !== undefined) kwargs.order = options.order;
    const raw = await this.execute(model, 'search_read', [domain], kwargs, options);
    return parseResult(z.array(schema), raw, `${model}.search_read`);
  }

  async read<T>(
    model: string,
    ids: readonly number[],
    schema: z.ZodType<T>,
    options: SearchReadOptions,
  ): Promise<T[]> {
    if (ids.length === 0) return [];
    const raw = await this.execute(model, 'read', [ids], { fields: options.fields }, options);
    return parseResult(z.array(schema), raw, `${model}.read`);
  }

  async searchCount(model: string, domain: Domain, options: CallOptions): Promise<number> {
    const raw = await this.execute(model, 'search_count', [domain], {}, options);
    return parseResult(z.number().int().min(0), raw, `${model}.search_count`);
  }

  async create(model: string, values: Record<string, unknown>, options: CallOptions): Promise<number> {
    const raw = await this.execute(model, 'create', [[values]], {}, options);
    const created = parseResult(createdSchema, raw, `${model}.create`);
    return Array.isArray(created) ? created[0]! : created;
  }

  async write(
    model: string,
    ids: readonly number[],
    values: Record<string, unknown>,
    options: CallOptions,
  ): Promise<void> {
    const raw = await this.execute(model, 'write', [ids, values], {}, options);
    parseResult(z.literal(true), raw, `${model}.write`);
  }

  async call<T>(
    model: string,
    method: string,
    args: readonly unknown[],
    schema: z.ZodType<T>,
    options: CallOptions & { kwargs?: Record<string, unknown> },
  ): Promise<T> {
    const raw = await this.execute(model, method, args, options.kwargs ?? {}, options);
    return parseResult(schema, raw, `${model}.${method}`);
  }

  private async execute(
    model: string,
    method: string,
    args: readonly unknown[],
    kwargs: Record<string, unknown>,
    options: CallOptions,
  ): Promise<unknown> {
    const uid = await this.ensureLogin();
    const context = { ...options.context, allowed_company_ids: [...options.companyIds] };
    try {
      return await this.transport.executeKw(
        { db: this.credentials.db, uid, password: this.credentials.password },
        model,
        method,
        args,
        { ...kwargs, context },
        options.timeoutMs,
      );
    } catch (error) {
      if (error instanceof OdooError && error.kind === 'access_denied') this.halt(error);
      throw error;
    }
  }

  private ensureLogin(): Promise<number> {
    if (this.haltedBy) return Promise.reject(this.haltedBy);
    if (this.uid !== undefined) return Promise.resolve(this.uid);
    this.login ??= this.authenticate().finally(() => {
      this.login = undefined;
    });
    return this.login;
  }

  private async authenticate(): Promise<number> {
    const { db, login, password } = this.credentials;
    const raw = await this.transport.common('authenticate', [db, login, password, {}]);
    const uid = parseResult(uidSchema, raw, 'common.authenticate');
    if (uid === false) {
      const error = new OdooError(
        'access_denied',
        `Odoo refused the login "${login}" on database "${db}": check odoo.login and the password or API key`,
      );
      this.halt(error);
      throw error;
    }
    this.uid = uid;
    this.log.info('logged in to Odoo', { db, login, uid });
    return uid;
  }

  private halt(error: OdooError): void {
    if (this.haltedBy) return;
    this.haltedBy = error;
    this.log.error(
      'ALERT: Odoo rejected our credentials; all Odoo work is stopped until the configuration is fixed and the daemon restarted (no retry, so Odoo does not lock out this IP)',
      { reason: error.message },
    );
  }
}

function parseResult<T>(schema: z.ZodType<T>, raw: unknown, label: string): T {
  const parsed = schema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const where = issue?.path.length ? ` at ${issue.path.join('.')}` : '';
    throw new OdooError(
      'protocol',
      `unexpected answer from Odoo to ${label}${where}: ${issue?.message ?? 'invalid'}`,
    );
  }
  return parsed.data;
}
