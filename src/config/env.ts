import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { parseEnv } from 'node:util';
import { z } from 'zod';
import { ConfigError, leaves } from './load.js';

/**
 * Every configuration key can come from an environment variable, named from its path:
 * `PAYLINK_` and the path's parts in SCREAMING_SNAKE_CASE (odoo.apiKey → PAYLINK_ODOO_API_KEY).
 * The names are derived from the schema, so a new key has its variable without anyone listing it.
 * Objects are walked into; arrays and maps (companies, gateway accounts) take JSON in one variable.
 */

/** How a variable's text becomes the value the schema checks. */
export type EnvKind = 'string' | 'number' | 'boolean' | 'json';

export interface EnvVariable {
  readonly name: string;
  readonly path: readonly string[];
  readonly kind: EnvKind;
  /** The accepted values of an enum, for the table. */
  readonly choices: readonly string[] | undefined;
  /** The value an empty config gets, as JSON (a section's own defaults included). */
  readonly defaultValue: string | undefined;
  /** The older names that set this key too (ODOO_PASSWORD…); the PAYLINK_ name wins over them. */
  readonly aliases: readonly string[];
}

/** Names kept from before every key had a variable; they still work. */
export const LEGACY_ENV: ReadonlyArray<[string, readonly string[]]> = [
  ['ODOO_URL', ['odoo', 'url']],
  ['ODOO_DB', ['odoo', 'db']],
  ['ODOO_LOGIN', ['odoo', 'login']],
  ['ODOO_PASSWORD', ['odoo', 'password']],
  ['ODOO_API_KEY', ['odoo', 'apiKey']],
  ['MYTPE_BASE_URL', ['gateways', 'mytpe', 'baseUrl']],
  ['MYTPE_API_KEY', ['gateways', 'mytpe', 'apiKey']],
  ['MYTPE_API_SECRET', ['gateways', 'mytpe', 'apiSecret']],
  ['MYTPE_WEBHOOK_SECRET', ['gateways', 'mytpe', 'webhookSecret']],
  // The other gateways' env vars fill their "default" account; more accounts use "$env:NAME".
  ['TILOPAY_BASE_URL', ['gateways', 'tilopay', 'baseUrl']],
  ['TILOPAY_API_KEY', ['gateways', 'tilopay', 'accounts', 'default', 'apiKey']],
  ['TILOPAY_API_USER', ['gateways', 'tilopay', 'accounts', 'default', 'apiUser']],
  ['TILOPAY_API_PASSWORD', ['gateways', 'tilopay', 'accounts', 'default', 'apiPassword']],
  ['TENDOPAY_BASE_URL', ['gateways', 'tendopay', 'baseUrl']],
  ['TENDOPAY_CLIENT_ID', ['gateways', 'tendopay', 'accounts', 'default', 'clientId']],
  ['TENDOPAY_CLIENT_SECRET', ['gateways', 'tendopay', 'accounts', 'default', 'clientSecret']],
  ['MPCHAT_BASE_URL', ['gateways', 'mpchat', 'baseUrl']],
  ['MPCHAT_KEY_ID', ['gateways', 'mpchat', 'accounts', 'default', 'keyId']],
  ['MPCHAT_SECRET', ['gateways', 'mpchat', 'accounts', 'default', 'secret']],
  ['MPCHAT_WEBHOOK_SECRET', ['gateways', 'mpchat', 'accounts', 'default', 'webhookSecret']],
  ['PAYLINK_DB', ['store', 'path']],
  ['PAYLINK_PUBLIC_URL', ['http', 'publicUrl']],
  ['PAYLINK_PAY_SECRET', ['http', 'paySecret']],
  ['SMTP_PASSWORD', ['mail', 'smtp', 'auth', 'pass']],
  ['LOG_LEVEL', ['log', 'level']],
  ['LOG_FORMAT', ['log', 'format']],
];

export function envName(at: readonly string[]): string {
  return `PAYLINK_${at.map((part) => part.replace(/([a-z0-9])([A-Z])/g, '$1_$2').toUpperCase()).join('_')}`;
}

type Def = z.core.$ZodTypes['_zod']['def'];

function defsOf(schema: z.core.$ZodType): Def[] {
  return leaves(schema)
    .map((leaf) => (leaf as z.core.$ZodTypes)._zod.def)
    .filter((def) => def.type !== 'transform');
}

/** The value at this path of what the schema makes of an empty config (every default applied). */
function defaultAt(defaults: unknown, at: readonly string[]): unknown {
  let node = defaults;
  for (const key of at) {
    if (typeof node !== 'object' || node === null || Array.isArray(node)) return undefined;
    node = (node as Record<string, unknown>)[key];
  }
  return node;
}

/** Every variable the schema gives rise to, in the schema's order. */
export function envVariables(schema: z.core.$ZodType): EnvVariable[] {
  const found: EnvVariable[] = [];
  const empty = z.safeParse(schema, {});
  const defaults = empty.success ? empty.data : undefined;
  const visit = (node: z.core.$ZodType, at: string[]): void => {
    const defs = defsOf(node);
    const objects = defs.flatMap((def) => (def.type === 'object' ? [def] : []));
    if (objects.length > 0 && at.length < 8) {
      const keys = [...new Set(objects.flatMap((def) => Object.keys(def.shape)))];
      for (const key of keys) {
        const children = objects.flatMap((def) => (Object.hasOwn(def.shape, key) ? [def.shape[key]!] : []));
        // A key in several shapes (a union of objects) is visited once, through the first.
        visit(children[0]!, [...at, key]);
      }
      return;
    }
    const types = new Set(defs.map((def) => def.type));
    const kind: EnvKind = ['array', 'record', 'tuple', 'object', 'map'].some((type) =>
      types.has(type as Def['type']),
    )
      ? 'json'
      : types.has('number')
        ? 'number'
        : types.has('boolean')
          ? 'boolean'
          : 'string';
    const choices = defs.flatMap((def) =>
      def.type === 'enum'
        ? Object.values(def.entries).map(String)
        : def.type === 'literal'
          ? def.values.map(String)
          : [],
    );
    const fallback = defaultAt(defaults, at);
    const name = envName(at);
    found.push({
      name,
      path: at,
      kind,
      choices: choices.length > 0 ? choices : undefined,
      defaultValue:
        fallback === undefined || (typeof fallback === 'object' && fallback !== null && kind !== 'json')
          ? undefined
          : JSON.stringify(fallback),
      aliases: LEGACY_ENV.filter(([, keys]) => keys.join('.') === at.join('.')).map(([legacy]) => legacy),
    });
  };
  visit(schema, []);
  return found;
}

/**
 * A variable's value: NAME itself, or the trimmed content of the file NAME_FILE names (Docker
 * secrets, systemd credentials). An empty variable counts as unset.
 */
export function readVariable(env: NodeJS.ProcessEnv, name: string): string | undefined {
  const direct = env[name];
  const file = env[`${name}_FILE`];
  const hasDirect = direct !== undefined && direct !== '';
  if (file === undefined || file === '') return hasDirect ? direct : undefined;
  if (hasDirect) throw new ConfigError(`${name} and ${name}_FILE are both set: keep one`);
  try {
    return readFileSync(file, 'utf8').trim();
  } catch (error) {
    // The path, never the content: the file holds a secret.
    throw new ConfigError(
      `${name}_FILE names ${file}, which cannot be read (${(error as NodeJS.ErrnoException).code ?? 'error'})`,
    );
  }
}

/** Turns a variable's text into a value of its kind; what does not convert is left for zod to report. */
export function typedValue(variable: Pick<EnvVariable, 'name' | 'kind'>, text: string): unknown {
  switch (variable.kind) {
    case 'number': {
      const value = Number(text.trim());
      return text.trim() !== '' && Number.isFinite(value) ? value : text;
    }
    case 'boolean': {
      const lower = text.trim().toLowerCase();
      if (['true', '1', 'yes', 'on'].includes(lower)) return true;
      if (['false', '0', 'no', 'off'].includes(lower)) return false;
      return text;
    }
    case 'json':
      try {
        return JSON.parse(text);
      } catch (error) {
        // Node's message quotes the text, which may hold secrets (gateway accounts): only the position.
        const at = /position (\d+)/.exec((error as Error).message)?.[1];
        throw new ConfigError(
          `${variable.name} must be JSON (an array or object)${at === undefined ? '' : `; it is not valid at character ${at}`}`,
        );
      }
    default:
      return text;
  }
}

/**
 * Loads `.env` from this folder into `env` for the names not already set there (the environment
 * wins over the file). node:util's parseEnv reads the same syntax as Node's --env-file, with no
 * dependency, and unlike process.loadEnvFile lets the caller pick the target and the precedence.
 * Returns the file read, if any.
 */
export function loadDotEnv(env: NodeJS.ProcessEnv, cwd: string): string | undefined {
  const file = path.resolve(cwd, '.env');
  if (!existsSync(file)) return undefined;
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    throw new ConfigError(`cannot read ${file}: ${(error as NodeJS.ErrnoException).code ?? 'error'}`);
  }
  for (const [name, value] of Object.entries(parseEnv(text))) if (env[name] === undefined) env[name] = value;
  return file;
}
