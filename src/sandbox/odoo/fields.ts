/**
 * Field definitions and Odoo's value formats: how a value is stored, what an empty field reads
 * as, x2many commands, dates, and the attributes fields_get describes.
 */

import type { GroupXmlid } from './access.js';
import type { ScalarType } from './domain.js';
import { type Json, type JsonObject, pyRepr, valueError } from './errors.js';
import type { Env, Registry } from './registry.js';

export type FieldType =
  | 'char'
  | 'text'
  | 'html'
  | 'integer'
  | 'float'
  | 'monetary'
  | 'boolean'
  | 'date'
  | 'datetime'
  | 'selection'
  | 'many2one'
  | 'one2many'
  | 'many2many'
  | 'binary'
  | 'json'
  | 'many2one_reference';

export type Row = { id: number; [field: string]: Json };

export type Vals = { [field: string]: Json };

export type Selection = ReadonlyArray<readonly [string, string]>;

export interface ComputeContext {
  readonly reg: Registry;
  readonly env: Env;
}

export interface FieldDef {
  readonly type: FieldType;
  readonly string: string;
  /** Comodel of a relational field. */
  readonly relation?: string;
  readonly selection?: Selection;
  readonly required?: boolean;
  readonly readonly?: boolean;
  /** Stored in the row, hence searchable and sortable; defaults to true unless computed. */
  readonly store?: boolean;
  /** Value computed when read (non-stored fields). */
  readonly compute?: (row: Row, ctx: ComputeContext) => Json;
  /** Non-stored fields Odoo can still search (display_name). */
  readonly searchable?: boolean;
  /** monetary: the many2one on the same row that holds the currency. */
  readonly currencyField?: string;
  /** Custom field created through ir.model.fields (state manual). */
  readonly manual?: boolean;
  readonly help?: string;
  /** many2one kept in an index, for lookups like "the lines of this move" without a scan. */
  readonly indexed?: boolean;
  /** Changes leave a chatter message with a mail.tracking.value (mail.thread models only). */
  readonly tracking?: boolean;
  /** Only these groups may read or write the field (Odoo's `groups=` on a field). */
  readonly groups?: readonly GroupXmlid[];
}

export const MAGIC_FIELDS: { [name: string]: FieldDef } = {
  id: { type: 'integer', string: 'ID', readonly: true },
  display_name: { type: 'char', string: 'Display Name', store: false, searchable: true, readonly: true },
  create_uid: { type: 'many2one', string: 'Created by', relation: 'res.users', readonly: true },
  create_date: { type: 'datetime', string: 'Created on', readonly: true },
  write_uid: { type: 'many2one', string: 'Last Updated by', relation: 'res.users', readonly: true },
  write_date: { type: 'datetime', string: 'Last Updated on', readonly: true },
};

export const SCALAR_TYPES: { [type in FieldType]?: ScalarType } = {
  char: 'char',
  text: 'char',
  html: 'char',
  selection: 'char',
  binary: 'char',
  json: 'char',
  integer: 'number',
  float: 'number',
  monetary: 'number',
  many2one_reference: 'number',
  boolean: 'boolean',
  date: 'date',
  datetime: 'datetime',
};

/** 'YYYY-MM-DD HH:MM:SS' in UTC, Odoo's datetime format on the wire. */
export function formatDatetime(date: Date): string {
  return date.toISOString().slice(0, 19).replace('T', ' ');
}

export function isObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export function idList(value: Json | undefined): number[] {
  if (typeof value === 'number') return [value];
  if (Array.isArray(value)) return value.filter((id): id is number => typeof id === 'number');
  return [];
}

export function defaultValue(field: FieldDef): Json {
  switch (field.type) {
    case 'integer':
    case 'float':
    case 'monetary':
      return 0;
    case 'one2many':
    case 'many2many':
      return [];
    default:
      return false;
  }
}

export function toDate(value: Json): Json {
  if (value === false || value === null || value === '') return false;
  if (typeof value === 'string' && /^\d{4}-\d{2}-\d{2}/.test(value)) return value.slice(0, 10);
  throw valueError(`time data ${pyRepr(value)} does not match format '%Y-%m-%d'`);
}

export function toDatetime(value: Json): Json {
  if (value === false || value === null || value === '') return false;
  if (typeof value === 'string') {
    const text = value.replace('T', ' ').replace(/(\.\d+)?Z?$/, '');
    if (/^\d{4}-\d{2}-\d{2}$/.test(text)) return `${text} 00:00:00`;
    if (/^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$/.test(text)) return text;
  }
  throw valueError(`time data ${pyRepr(value)} does not match format '%Y-%m-%d %H:%M:%S'`);
}

/** Applies x2many commands ((6,0,ids), (4,id), (3,id), (5,), plain id lists) to the current ids. */
export function applyX2manyCommands(current: number[], value: Json, model: string, name: string): number[] {
  if (value === false || value === null) return [];
  if (!Array.isArray(value)) throw valueError(`Wrong value for ${model}.${name}: ${pyRepr(value)}`);
  if (value.every((item) => typeof item === 'number')) return value as number[];
  let ids = [...current];
  for (const command of value) {
    if (!Array.isArray(command)) throw valueError(`Wrong value for ${model}.${name}: ${pyRepr(value)}`);
    const [code, id, extra] = command;
    if (code === 6) ids = idList(extra ?? []);
    else if (code === 5) ids = [];
    else if (code === 4 && typeof id === 'number' && !ids.includes(id)) ids.push(id);
    else if ((code === 3 || code === 2) && typeof id === 'number') ids = ids.filter((other) => other !== id);
  }
  return ids;
}

/** fields_get attributes of one field. */
export function describeField(name: string, field: FieldDef, stored: boolean): JsonObject {
  const description: JsonObject = {
    change_default: false,
    company_dependent: false,
    depends: [],
    exportable: true,
    groupable: stored,
    manual: field.manual === true,
    name,
    readonly: field.readonly === true || (field.compute !== undefined && field.store !== true),
    required: field.required === true,
    searchable: stored || field.searchable === true,
    sortable: stored,
    store: stored,
    string: field.string,
    type: field.type,
  };
  if (field.type === 'char' || field.type === 'text' || field.type === 'html') description.translate = false;
  if (field.type === 'char') description.trim = true;
  if (field.relation) description.relation = field.relation;
  if (field.selection) description.selection = field.selection.map(([key, label]) => [key, label]);
  if (field.help) description.help = field.help;
  if (field.type === 'monetary' && field.currencyField) description.currency_field = field.currencyField;
  return description;
}
