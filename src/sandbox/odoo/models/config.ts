/**
 * ir.config_parameter: text values by key, read with get_param and changed with set_param, both
 * refused to anyone without Administration / Settings (captures 62, 62c, 62e).
 */
import { type Json, validationError } from '../errors.js';
import type { Row } from '../fields.js';
import type { Env, Registry } from '../registry.js';

function parameterRow(reg: Registry, key: string): Row | undefined {
  for (const row of reg.model('ir.config_parameter').rows.values()) if (row.key === key) return row;
  return undefined;
}

/** The stored text of a parameter, or false when it is not set. */
export function configParam(reg: Registry, key: string): string | false {
  const value = parameterRow(reg, key)?.value;
  return typeof value === 'string' ? value : false;
}

/**
 * Odoo's set_param: stores str(value), removes the parameter for false/None, and answers the
 * former value (false when there was none).
 */
export function setConfigParam(reg: Registry, env: Env, key: string, value: Json): string | false {
  const row = parameterRow(reg, key);
  const former = typeof row?.value === 'string' ? row.value : false;
  if (value === false || value === null) {
    if (row) reg.remove('ir.config_parameter', row.id);
    return former;
  }
  const text = typeof value === 'string' ? value : value === true ? 'True' : String(value);
  if (row) reg.update('ir.config_parameter', row, { value: text }, env);
  else reg.insert('ir.config_parameter', { key, value: text }, env);
  return former;
}

export function seedConfigParameters(reg: Registry, params: { [key: string]: string }): void {
  const env = reg.superEnv();
  for (const [key, value] of Object.entries(params)) setConfigParam(reg, env, key, value);
}

export function defineConfigModels(reg: Registry): void {
  reg.define({
    name: 'ir.config_parameter',
    description: 'System Parameter',
    order: 'key',
    fields: {
      key: { type: 'char', string: 'Key', required: true },
      value: { type: 'text', string: 'Value', required: true },
    },
    displayName: (row) => String(row.key),
    defaults: (vals, _env, registry) => {
      if (typeof vals.key === 'string' && parameterRow(registry, vals.key)) {
        throw validationError('Key must be unique.');
      }
      return vals;
    },
    methods: {
      // get_param reads as superuser after checking the caller may read parameters at all.
      get_param: {
        model: true,
        access: 'read',
        params: ['key', 'default'],
        run: ({ reg: registry, args }) => {
          const value = configParam(registry, String(args.key ?? ''));
          return value === false ? (args.default ?? false) : value;
        },
      },
      set_param: {
        model: true,
        access: 'write',
        params: ['key', 'value'],
        run: ({ reg: registry, env, args }) =>
          setConfigParam(registry, env, String(args.key ?? ''), args.value ?? false),
      },
    },
  });
}
