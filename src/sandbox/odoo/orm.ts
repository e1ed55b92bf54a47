/**
 * Odoo's generic ORM methods as RPC sees them (search, search_read, read, create, write…),
 * and Python-style binding of positional and keyword arguments.
 */
import { andDomains } from './domain.js';
import { expectedSingleton, type Json, type JsonObject, pyRepr, typeError, valueError } from './errors.js';
import type { Row } from './fields.js';
import { getViews } from './models/views.js';
import type { MethodCall, MethodSpec, SearchOptions } from './registry.js';

export function bindArguments(
  method: string,
  spec: MethodSpec,
  positional: Json[],
  kwargs: JsonObject,
): { [name: string]: Json | undefined } {
  const bound: { [name: string]: Json | undefined } = {};
  if (spec.keywordOnly) {
    if (positional.length > 0) {
      throw typeError(`${method}() takes 1 positional argument but ${positional.length + 1} were given`);
    }
    return { ...kwargs };
  }
  if (positional.length > spec.params.length) {
    throw typeError(
      `${method}() takes from 1 to ${spec.params.length + 1} positional arguments but ${positional.length + 1} were given`,
    );
  }
  positional.forEach((value, index) => {
    const name = spec.params[index];
    if (name !== undefined) bound[name] = value;
  });
  for (const [name, value] of Object.entries(kwargs)) {
    if (!spec.params.includes(name))
      throw typeError(`${method}() got an unexpected keyword argument '${name}'`);
    if (bound[name] !== undefined) throw typeError(`${method}() got multiple values for argument '${name}'`);
    bound[name] = value;
  }
  return bound;
}

export function toIds(value: Json): number[] {
  if (typeof value === 'number' && Number.isInteger(value)) return [value];
  if (value === false || value === null) return [];
  if (Array.isArray(value) && value.every((id) => typeof id === 'number' && Number.isInteger(id))) {
    return value as number[];
  }
  throw typeError(`Invalid record ids: ${pyRepr(value)}`);
}

/** The one record of a call on a singleton (Odoo's ensure_one). */
export function singleRecord(call: MethodCall): Row {
  const rows = call.reg.browse(call.env, call.model.name, call.ids);
  const [row] = rows;
  if (!row || rows.length !== 1) throw expectedSingleton(call.model.name, call.ids);
  return row;
}

function searchOptions(args: MethodCall['args']): SearchOptions {
  const offset = typeof args.offset === 'number' ? args.offset : 0;
  const limit = typeof args.limit === 'number' ? args.limit : null;
  const order = typeof args.order === 'string' && args.order.trim() !== '' ? args.order : null;
  return { offset, limit, order };
}

export const ORM_METHODS: { [name: string]: MethodSpec } = {
  search: {
    access: 'read',
    model: true,
    params: ['domain', 'offset', 'limit', 'order'],
    run: ({ reg, env, model, args }) =>
      reg.search(env, model.name, args.domain ?? [], searchOptions(args)).map((row) => row.id),
  },
  search_read: {
    access: 'read',
    model: true,
    params: ['domain', 'fields', 'offset', 'limit', 'order'],
    run: ({ reg, env, model, args }) => {
      // 18.0+ search_fetch checks the fields before the domain; 17.0 searches, then reads (58b).
      if (reg.traits.searchReadChecksFieldsFirst) reg.fieldNames(model, args.fields);
      const rows = reg.search(env, model.name, args.domain ?? [], searchOptions(args));
      return reg.read(env, model, rows, args.fields);
    },
  },
  search_count: {
    access: 'read',
    model: true,
    params: ['domain', 'limit'],
    run: ({ reg, env, model, args }) => {
      const count = reg.search(env, model.name, args.domain ?? []).length;
      return typeof args.limit === 'number' ? Math.min(count, args.limit) : count;
    },
  },
  read: {
    access: 'read',
    params: ['fields', 'load'],
    run: ({ reg, env, model, ids, args }) => {
      reg.fieldNames(model, args.fields);
      return reg.read(env, model, reg.browse(env, model.name, ids), args.fields);
    },
  },
  create: {
    access: 'create',
    model: true,
    params: ['vals_list'],
    run: ({ reg, env, model, args }) => {
      const vals = args.vals_list;
      if (Array.isArray(vals)) return vals.map((item) => reg.create(env, model.name, item).id);
      // A single dict answers a single id, as Odoo's call_kw does for create.
      return reg.create(env, model.name, vals ?? {}).id;
    },
  },
  write: {
    access: 'write',
    params: ['vals'],
    run: ({ reg, env, model, ids, args }) => {
      reg.write(env, model.name, reg.browse(env, model.name, ids, 'write'), args.vals ?? {});
      return true;
    },
  },
  unlink: {
    access: 'unlink',
    params: [],
    run: ({ reg, env, model, ids }) => {
      reg.unlink(env, model.name, reg.browse(env, model.name, ids, 'unlink'));
      return true;
    },
  },
  fields_get: {
    model: true,
    params: ['allfields', 'attributes'],
    run: ({ reg, env, model, args }) => reg.fieldsGet(env, model, args.allfields, args.attributes),
  },
  read_group: {
    access: 'read',
    model: true,
    params: ['domain', 'fields', 'groupby', 'offset', 'limit', 'orderby', 'lazy'],
    run: ({ reg, env, model, args }) => reg.readGroup(env, model, args),
  },
  name_search: {
    access: 'read',
    model: true,
    params: ['name', 'domain', 'operator', 'limit'],
    run: ({ reg, env, model, args }) => {
      const name = typeof args.name === 'string' ? args.name : '';
      const operator = typeof args.operator === 'string' ? args.operator : 'ilike';
      const domain = Array.isArray(args.domain) ? args.domain : [];
      const nameDomain = name === '' ? [] : [['display_name', operator, name]];
      const limit = typeof args.limit === 'number' ? args.limit : 100;
      const rows = reg.search(env, model.name, andDomains([domain, nameDomain]) as Json, { limit });
      return rows.map((row) => [row.id, reg.displayName(model.name, row.id)]);
    },
  },
  get_views: getViews,
  default_get: {
    model: true,
    params: ['fields_list'],
    run: () => ({}),
  },
  exists: {
    params: [],
    run: ({ reg, model, ids }) => ids.filter((id) => reg.model(model.name).rows.has(id)),
  },
  check_access_rights: {
    model: true,
    params: ['operation', 'raise_exception'],
    run: ({ reg, env, model, args }) => {
      const operation = args.operation;
      if (operation !== 'read' && operation !== 'write' && operation !== 'create' && operation !== 'unlink') {
        throw valueError(`Invalid access mode ${pyRepr(operation ?? null)}`);
      }
      if (args.raise_exception === false) return reg.hasAccess(env, model.name, operation);
      reg.checkAccess(env, model.name, operation);
      return true;
    },
  },
};
