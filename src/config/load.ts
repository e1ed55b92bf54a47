import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import type { z } from 'zod';
import { envVariables, LEGACY_ENV, loadDotEnv, readVariable, typedValue } from './env.js';
import { type Config, configSchema } from './schema.js';

export class ConfigError extends Error {
  override name = 'ConfigError';
}

type JsonObject = { [key: string]: unknown };

function isObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function setPath(target: JsonObject, keys: readonly string[], value: unknown): void {
  let node = target;
  for (const key of keys.slice(0, -1)) {
    const next = node[key];
    if (isObject(next)) node = next;
    else {
      const created: JsonObject = {};
      node[key] = created;
      node = created;
    }
  }
  node[keys[keys.length - 1]!] = value;
}

const ENV_REFERENCE = /^\$env:([A-Za-z_][A-Za-z0-9_]*)$/;

/**
 * Replaces every string written "$env:NAME" by that variable, so a secret of any account (say a
 * second TiloPay company) stays out of the file. Returns the references to unset variables.
 */
function substituteEnv(
  node: JsonObject | unknown[],
  env: NodeJS.ProcessEnv,
  at: (string | number)[],
): { at: (string | number)[]; name: string }[] {
  const missing: { at: (string | number)[]; name: string }[] = [];
  const entries: [string | number, unknown][] = Array.isArray(node)
    ? node.map((value, index) => [index, value])
    : Object.entries(node);
  for (const [key, value] of entries) {
    const here = [...at, key];
    if (typeof value === 'string') {
      const name = ENV_REFERENCE.exec(value)?.[1];
      if (!name) continue;
      const found = readVariable(env, name);
      if (found === undefined || found === '') missing.push({ at: here, name });
      else (node as Record<string | number, unknown>)[key] = found;
    } else if (Array.isArray(value) || isObject(value)) {
      missing.push(...substituteEnv(value, env, here));
    }
  }
  return missing;
}

function readJson(file: string): JsonObject {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    throw new ConfigError(`cannot read config file ${file}: ${(error as Error).message}`);
  }
  try {
    const parsed: unknown = JSON.parse(text);
    if (!isObject(parsed)) throw new Error('the top level must be an object');
    return parsed;
  } catch (error) {
    throw new ConfigError(`config file ${file} is not valid JSON: ${(error as Error).message}`);
  }
}

export function formatIssues(issues: readonly z.core.$ZodIssue[]): string {
  return issues
    .map((issue) => {
      const key = issue.path.length > 0 ? issue.path.join('.') : '(top level)';
      return `  - ${key}: ${issue.message}`;
    })
    .join('\n');
}

/** A key in the raw config that the schema does not know, with the closest key it does know there. */
export interface UnknownKey {
  /** From the top level down to the key itself, array indexes included: ['companies', 0, 'jurnalId']. */
  readonly path: readonly (string | number)[];
  /** The nearest valid key at that level, when one is close enough to be a likely typo. */
  readonly suggestion: string | undefined;
  /** Every key the schema accepts at that level, for a message when nothing is close. */
  readonly known: readonly string[];
}

/**
 * The schemas a value at this point may have to match, with the wrappers that do not change its
 * shape taken off (optional, nullable, default, catch, readonly, pipe, lazy) and unions spread.
 * Refinements are checks on the schema itself in zod 4, so they need no unwrapping.
 */
export function leaves(schema: z.core.$ZodType, seen: Set<z.core.$ZodType> = new Set()): z.core.$ZodType[] {
  if (seen.has(schema)) return [];
  seen.add(schema);
  const def = (schema as z.core.$ZodTypes)._zod.def;
  switch (def.type) {
    case 'optional':
    case 'nullable':
    case 'default':
    case 'prefault':
    case 'catch':
    case 'readonly':
    case 'nonoptional':
    case 'success':
      return leaves(def.innerType, seen);
    case 'lazy':
      return leaves(def.getter(), seen);
    case 'pipe': {
      // The raw JSON meets the input side; behind a transform (z.preprocess) only the output
      // side still says which keys exist.
      const input = leaves(def.in, seen);
      const opaque = input.some((leaf) => (leaf as z.core.$ZodTypes)._zod.def.type === 'transform');
      return opaque ? [...input, ...leaves(def.out, seen)] : input;
    }
    case 'union':
      return def.options.flatMap((option) => leaves(option, seen));
    case 'intersection':
      return [...leaves(def.left, seen), ...leaves(def.right, seen)];
    default:
      return [schema];
  }
}

/** Values that say nothing about their keys. */
const OPAQUE = new Set(['any', 'unknown', 'custom']);

/**
 * Every key of `raw` that `schema` does not know, at any depth, arrays of objects included (zod
 * itself silently drops unknown keys, so a typo would otherwise fall back to a default unnoticed).
 * The keys of free-form maps (z.record, z.looseObject's extra keys) are not checked, though the
 * values of a z.record are. A value of the wrong type is left alone: zod's own issues report it.
 */
export function unknownKeys(schema: z.core.$ZodType, raw: unknown): UnknownKey[] {
  const found: UnknownKey[] = [];
  walk([schema], raw, [], found);
  return found;
}

function walk(
  schemas: readonly z.core.$ZodType[],
  value: unknown,
  at: readonly (string | number)[],
  found: UnknownKey[],
): void {
  const candidates = schemas
    .flatMap((schema) => leaves(schema))
    .map((leaf) => (leaf as z.core.$ZodTypes)._zod.def);
  if (candidates.some((def) => OPAQUE.has(def.type))) return;
  if (Array.isArray(value)) {
    const elements = candidates.flatMap((def) => (def.type === 'array' ? [def.element] : []));
    if (elements.length > 0)
      for (const [index, item] of value.entries()) walk(elements, item, [...at, index], found);
    return;
  }
  if (!isObject(value)) return;
  const objects = candidates.flatMap((def) => (def.type === 'object' ? [def] : []));
  const maps = candidates.flatMap((def) => (def.type === 'record' ? [def.valueType] : []));
  if (objects.length === 0 && maps.length === 0) return;
  const free =
    maps.length > 0 ||
    objects.some((def) => def.catchall !== undefined && def.catchall._zod.def.type !== 'never');
  const known = [...new Set(objects.flatMap((def) => Object.keys(def.shape)))];
  for (const [key, child] of Object.entries(value)) {
    const inner = [
      ...objects.flatMap((def) => (Object.hasOwn(def.shape, key) ? [def.shape[key]!] : [])),
      ...maps,
    ];
    if (inner.length > 0) walk(inner, child, [...at, key], found);
    else if (!free) found.push({ path: [...at, key], suggestion: nearest(key, known), known });
  }
}

/** The known key closest to `key` by edit distance (ignoring case), if it is close enough to be a typo. */
export function nearest(key: string, known: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = Number.POSITIVE_INFINITY;
  for (const candidate of known) {
    const distance = editDistance(key.toLowerCase(), candidate.toLowerCase());
    if (distance < bestDistance) {
      best = candidate;
      bestDistance = distance;
    }
  }
  // One edit per three letters, at least one: "pipline", "tsl" and "timeoutms" yes, "foo" for "log" no.
  const limit = Math.max(1, Math.floor(Math.max(key.length, best?.length ?? 0) / 3));
  return bestDistance <= limit ? best : undefined;
}

/** Levenshtein distance, with a transposition counted as one edit ("jounral" → "journal"). */
function editDistance(a: string, b: string): number {
  const rows = Array.from({ length: a.length + 1 }, (_, i) =>
    Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)),
  );
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let distance = Math.min(rows[i - 1]![j]! + 1, rows[i]![j - 1]! + 1, rows[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) {
        distance = Math.min(distance, rows[i - 2]![j - 2]! + 1);
      }
      rows[i]![j] = distance;
    }
  }
  return rows[a.length]![b.length]!;
}

export function formatUnknownKeys(keys: readonly UnknownKey[]): string {
  return keys
    .map(({ path: at, suggestion, known }) => {
      const fix = suggestion ? `did you mean ${suggestion}?` : `the keys here are ${known.join(', ')}`;
      return `  - ${at.join('.')}: unknown key; ${fix}`;
    })
    .join('\n');
}

export interface LoadOptions {
  /** Explicit config file (--config or PAYLINK_CONFIG); otherwise config/local.json when it exists. */
  file?: string | undefined;
  /** Where variables are read; `.env` fills in the names it lacks. */
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  /** Load `<cwd>/.env` when present (default true). */
  dotEnv?: boolean;
}

/** The variables of every key, computed once: the schema does not change at run time. */
let variables: ReturnType<typeof envVariables> | undefined;

/**
 * Sets the keys the environment gives over the file's: the older names first, then the
 * PAYLINK_ ones, so the name derived from the key wins when both are set.
 */
function applyEnv(raw: JsonObject, env: NodeJS.ProcessEnv): void {
  variables ??= envVariables(configSchema);
  const kinds = new Map(variables.map((variable) => [variable.path.join('.'), variable.kind]));
  for (const [name, keys] of LEGACY_ENV) {
    const text = readVariable(env, name);
    const kind = kinds.get(keys.join('.')) ?? 'string';
    if (text !== undefined && text !== '') setPath(raw, keys, typedValue({ name, kind }, text));
  }
  for (const variable of variables) {
    const text = readVariable(env, variable.name);
    if (text !== undefined && text !== '') setPath(raw, variable.path, typedValue(variable, text));
  }
}

export interface LoadedConfig {
  config: Config;
  /** Where the values came from, for the start-up log line. */
  source: string;
}

export function loadConfig(options: LoadOptions = {}): LoadedConfig {
  const env = options.env ?? process.env;
  const cwd = options.cwd ?? process.cwd();
  // First, so .env may name the config file too.
  if (options.dotEnv !== false) loadDotEnv(env, cwd);
  const explicit = options.file ?? env.PAYLINK_CONFIG;
  const candidate = explicit ? path.resolve(cwd, explicit) : path.resolve(cwd, 'config/local.json');
  if (explicit && !existsSync(candidate)) throw new ConfigError(`config file not found: ${candidate}`);
  const raw: JsonObject = existsSync(candidate) ? readJson(candidate) : {};
  const source = existsSync(candidate) ? candidate : 'defaults (no config file)';
  applyEnv(raw, env);
  const missingEnv = substituteEnv(raw, env, []);
  if (missingEnv.length > 0) {
    throw new ConfigError(
      `invalid configuration in ${source}:\n${missingEnv.map(({ at, name }) => `  - ${at.join('.')}: names the environment variable ${name}, which is not set`).join('\n')}`,
    );
  }
  // Unknown keys first: a misspelt key usually explains the "required" issue zod reports below it.
  const unknown = unknownKeys(configSchema, raw);
  const result = configSchema.safeParse(raw);
  if (unknown.length > 0 || !result.success) {
    const lines = [
      ...(unknown.length > 0 ? [formatUnknownKeys(unknown)] : []),
      ...(result.success ? [] : [formatIssues(result.error.issues)]),
    ];
    throw new ConfigError(`invalid configuration in ${source}:\n${lines.join('\n')}`);
  }
  return { config: result.data, source };
}

/** Every secret value in the config, so the logger can redact them wherever they appear. */
export function secretValues(config: Config): string[] {
  return [
    config.odoo?.password,
    config.odoo?.apiKey,
    config.gateways.mytpe?.apiKey,
    config.gateways.mytpe?.apiSecret,
    config.gateways.mytpe?.webhookSecret,
    ...Object.values(config.gateways.mytpe?.webhookSecrets ?? {}),
    ...Object.values(config.gateways.tilopay?.accounts ?? {}).flatMap((a) => [a.apiKey, a.apiPassword]),
    ...Object.values(config.gateways.tendopay?.accounts ?? {}).map((a) => a.clientSecret),
    ...Object.values(config.gateways.mpchat?.accounts ?? {}).flatMap((a) => [a.secret, a.webhookSecret]),
    config.mail.smtp?.auth?.pass,
    config.http.paySecret,
  ].filter((value): value is string => typeof value === 'string' && value.length >= 4);
}
