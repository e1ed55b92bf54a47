import { ConfigError } from '../config/load.js';
import type { OdooConfig } from '../config/schema.js';
import type { Logger } from '../log.js';
import { isOdooError, OdooError } from './errors.js';
import { Json2Transport } from './json2.js';
import { JsonRpcTransport } from './jsonrpc.js';
import type { OdooTransport } from './transport.js';
import { XmlRpcTransport } from './xmlrpc.js';

export type OdooProtocol = 'jsonrpc' | 'json2' | 'xmlrpc';

export interface ConnectOptions {
  log: Logger;
  fetch?: typeof fetch;
  /** The daemon's stop signal: aborts the calls in flight once the shutdown grace is over. */
  signal?: AbortSignal | undefined;
}

type TransportConfig = Pick<OdooConfig, 'url' | 'timeoutMs' | 'protocol' | 'apiKey'>;

/** The first Odoo release with JSON-2 (/json/2); 18.0 answers it with a redirect. */
const FIRST_JSON2_MAJOR = 19;

function build(protocol: OdooProtocol, config: TransportConfig, options: ConnectOptions): OdooTransport {
  const base = {
    url: config.url,
    timeoutMs: config.timeoutMs,
    ...(options.fetch ? { fetch: options.fetch } : {}),
    signal: options.signal,
  };
  switch (protocol) {
    case 'json2':
      return new Json2Transport(base);
    case 'xmlrpc':
      return new XmlRpcTransport(base);
    case 'jsonrpc':
      return new JsonRpcTransport(base);
  }
}

/** The settings that can be judged without asking Odoo (the config schema checks them too). */
function checkConfig(config: TransportConfig): void {
  if (config.protocol === 'json2' && !config.apiKey) {
    throw new ConfigError(
      'odoo.protocol is "json2" but odoo.apiKey (env ODOO_API_KEY) is not set: JSON-2 authenticates with an API key only',
    );
  }
}

function serverMajor(raw: unknown): { version: string; major: number } | undefined {
  if (typeof raw !== 'object' || raw === null) return undefined;
  const { server_version: version, server_version_info: info } = raw as Record<string, unknown>;
  const major = Array.isArray(info) ? Number(info[0]) : Number.NaN;
  if (typeof version !== 'string' || !Number.isFinite(major)) return undefined;
  return { version, major };
}

/**
 * Picks the wire to Odoo. An explicit odoo.protocol wins. 'auto' asks JSON-RPC common.version
 * (no credentials needed; when /jsonrpc is hidden, as 19.x SaaS may do, JSON-2's /web/version)
 * and takes JSON-2 on 19+ when an API key is configured, JSON-RPC otherwise.
 */
export async function createOdooTransport(
  config: TransportConfig,
  options: ConnectOptions,
): Promise<OdooTransport> {
  checkConfig(config);
  const explicit = config.protocol ?? 'auto';
  if (explicit !== 'auto') {
    options.log.info('Odoo transport chosen', { protocol: explicit, reason: 'set by odoo.protocol' });
    return build(explicit, config, options);
  }
  const jsonRpc = build('jsonrpc', config, options);
  let raw: unknown;
  let jsonRpcHidden = false;
  try {
    raw = await jsonRpc.common('version', []);
  } catch (error) {
    if (!(isOdooError(error, 'not_found') && config.apiKey)) throw error;
    jsonRpcHidden = true;
    raw = await build('json2', config, options).common('version', []);
  }
  const server = serverMajor(raw);
  if (!server) throw new OdooError('protocol', 'Odoo answered common.version without a server version');
  const { version, major } = server;
  let protocol: OdooProtocol;
  let reason: string;
  if (major >= FIRST_JSON2_MAJOR && config.apiKey) {
    protocol = 'json2';
    reason = jsonRpcHidden
      ? `Odoo ${version} hides /jsonrpc and an API key is configured`
      : `Odoo ${version} has JSON-2 and an API key is configured`;
  } else if (major >= FIRST_JSON2_MAJOR) {
    protocol = 'jsonrpc';
    reason = `Odoo ${version} has JSON-2, but it needs odoo.apiKey (env ODOO_API_KEY); /jsonrpc is deprecated there`;
  } else {
    protocol = 'jsonrpc';
    reason = `Odoo ${version} has no JSON-2 (it came with 19.0)`;
  }
  const meta = { protocol, reason, serverVersion: version };
  // On 19+ /jsonrpc is deprecated (removal planned for Odoo 22): worth a warning.
  if (major >= FIRST_JSON2_MAJOR && protocol === 'jsonrpc') options.log.warn('Odoo transport chosen', meta);
  else options.log.info('Odoo transport chosen', meta);
  return protocol === 'jsonrpc' ? jsonRpc : build(protocol, config, options);
}

/**
 * A transport whose wire is chosen on the first call, so code that builds the app synchronously
 * can hold it. A failed choice (Odoo unreachable) is forgotten, so the next call asks again.
 */
export class LazyOdooTransport implements OdooTransport {
  private chosen: Promise<OdooTransport> | undefined;

  constructor(
    private readonly config: TransportConfig,
    private readonly options: ConnectOptions,
  ) {
    checkConfig(config);
  }

  /** The chosen transport (choosing it now if needed). */
  resolve(): Promise<OdooTransport> {
    this.chosen ??= createOdooTransport(this.config, this.options).catch((error: unknown) => {
      this.chosen = undefined;
      throw error;
    });
    return this.chosen;
  }

  async common(method: string, args: readonly unknown[], timeoutMs?: number): Promise<unknown> {
    return (await this.resolve()).common(method, args, timeoutMs);
  }

  async executeKw(
    credentials: { db: string; uid: number; password: string },
    model: string,
    method: string,
    args: readonly unknown[],
    kwargs: Record<string, unknown>,
    timeoutMs?: number,
  ): Promise<unknown> {
    return (await this.resolve()).executeKw(credentials, model, method, args, kwargs, timeoutMs);
  }
}
