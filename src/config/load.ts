import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import type { z } from 'zod';
import { type Config, configSchema } from './schema.js';

export class ConfigError extends Error {
  override name = 'ConfigError';
}

/** Environment variables that override file values; secrets belong here rather than in files. */
const ENV_KEYS: ReadonlyArray<[string, readonly string[]]> = [
  ['ODOO_URL', ['odoo', 'url']],
  ['ODOO_DB', ['odoo', 'db']],
  ['ODOO_LOGIN', ['odoo', 'login']],
  ['ODOO_PASSWORD', ['odoo', 'password']],
  ['MYTPE_BASE_URL', ['gateways', 'mytpe', 'baseUrl']],
  ['MYTPE_API_KEY', ['gateways', 'mytpe', 'apiKey']],
  ['MYTPE_API_SECRET', ['gateways', 'mytpe', 'apiSecret']],
  ['MYTPE_WEBHOOK_SECRET', ['gateways', 'mytpe', 'webhookSecret']],
  ['PAYLINK_DB', ['store', 'path']],
  ['SMTP_PASSWORD', ['mail', 'smtp', 'auth', 'pass']],
  ['LOG_LEVEL', ['log', 'level']],
  ['LOG_FORMAT', ['log', 'format']],
];

type JsonObject = { [key: string]: unknown };

function isObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function setPath(target: JsonObject, keys: readonly string[], value: string): void {
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

export interface LoadOptions {
  /** Explicit config file (--config or PAYLINK_CONFIG); otherwise config/local.json when it exists. */
  file?: string | undefined;
  env?: NodeJS.ProcessEnv;
  cwd?: string;
}

export interface LoadedConfig {
  config: Config;
  /** Where the values came from, for the start-up log line. */
  source: string;
}

export function loadConfig(options: LoadOptions = {}): LoadedConfig {
  const env = options.env ?? process.env;
  const cwd = options.cwd ?? process.cwd();
  const explicit = options.file ?? env.PAYLINK_CONFIG;
  const candidate = explicit ? path.resolve(cwd, explicit) : path.resolve(cwd, 'config/local.json');
  if (explicit && !existsSync(candidate)) throw new ConfigError(`config file not found: ${candidate}`);
  const raw: JsonObject = existsSync(candidate) ? readJson(candidate) : {};
  const source = existsSync(candidate) ? candidate : 'defaults (no config file)';
  for (const [name, keys] of ENV_KEYS) {
    const value = env[name];
    if (value !== undefined && value !== '') setPath(raw, keys, value);
  }
  const result = configSchema.safeParse(raw);
  if (!result.success) {
    throw new ConfigError(`invalid configuration in ${source}:\n${formatIssues(result.error.issues)}`);
  }
  return { config: result.data, source };
}

/** Every secret value in the config, so the logger can redact them wherever they appear. */
export function secretValues(config: Config): string[] {
  return [
    config.odoo?.password,
    config.gateways.mytpe?.apiKey,
    config.gateways.mytpe?.apiSecret,
    config.gateways.mytpe?.webhookSecret,
    config.mail.smtp?.auth?.pass,
  ].filter((value): value is string => typeof value === 'string' && value.length >= 4);
}
