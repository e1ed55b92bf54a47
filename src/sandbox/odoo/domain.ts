/**
 * Odoo search domains evaluated in memory. Pure: the caller says how a field path reads on a
 * record (`DomainSchema`), this module parses the domain the way Odoo's `expression.py` does
 * (prefix `&`, `|`, `!`, implicit `&`) and applies Odoo's SQL semantics, NULLs included.
 */
import { pyRepr, valueError } from './errors.js';

export type DomainScalar = string | number | boolean | null;
/** How a scalar compares: char-like text, numbers, booleans, or dates/datetimes (text in Odoo's format). */
export type ScalarType = 'char' | 'number' | 'boolean' | 'date' | 'datetime';

export type DomainOperand =
  /** A stored scalar; `null` (or `false` on non-boolean fields) means NULL. */
  | { kind: 'scalar'; type: ScalarType; value: DomainScalar }
  /** A many2one (zero or one id) or x2many; names are the related display names. */
  | { kind: 'relation'; ids: readonly number[]; names: readonly string[] }
  /** A dotted path through a relation: the leaf holds if any related value satisfies it. */
  | { kind: 'values'; type: ScalarType; values: readonly DomainScalar[] };

export interface DomainSchema<R> {
  /** Technical model name, for error messages. */
  readonly model: string;
  /** How the version's unknown-field error names the leaf: "in leaf" up to 18.0, "in condition" on 19.0. */
  readonly leafWord?: 'leaf' | 'condition';
  /**
   * An accessor for a field path (`state`, `partner_id`, `partner_id.email`), undefined when the
   * model has no such field, or IGNORED_LEAF for a leaf Odoo drops (a non-stored field on 18.0,
   * which it only logs). May throw an Odoo error itself (e.g. a non-stored field on 19.0).
   */
  resolve(path: string): ((record: R) => DomainOperand) | undefined | typeof IGNORED_LEAF;
}

/** A leaf that holds for every record: Odoo replaced it by TRUE. */
export const IGNORED_LEAF = 'ignored-leaf';

export type DomainLeaf = readonly [string | number, string, unknown];
export type DomainToken = '&' | '|' | '!' | DomainLeaf;
export type Predicate<R> = (record: R) => boolean;

export const TERM_OPERATORS: ReadonlySet<string> = new Set([
  '=',
  '!=',
  '<>',
  '<=',
  '<',
  '>',
  '>=',
  '=?',
  '=like',
  '=ilike',
  'like',
  'not like',
  'ilike',
  'not ilike',
  'in',
  'not in',
  'child_of',
  'parent_of',
  'any',
  'not any',
]);

const ARITY: Record<'&' | '|' | '!', number> = { '&': 2, '|': 2, '!': 1 };

function isOperator(token: unknown): token is '&' | '|' | '!' {
  return token === '&' || token === '|' || token === '!';
}

function isTrueOrFalseLeaf(element: readonly unknown[]): boolean {
  return (element[0] === 1 || element[0] === 0) && element[1] === '=' && element[2] === 1;
}

function isLeaf(element: unknown): element is DomainLeaf {
  if (!Array.isArray(element) || element.length !== 3) return false;
  if (typeof element[1] !== 'string' || !TERM_OPERATORS.has(element[1])) return false;
  return (typeof element[0] === 'string' && element[0] !== '') || isTrueOrFalseLeaf(element);
}

/**
 * Odoo's `normalize_domain`: checks every element and makes the implicit `&` between
 * consecutive terms explicit. An empty domain becomes the always-true leaf.
 */
export function normalizeDomain(domain: unknown): DomainToken[] {
  if (!Array.isArray(domain)) {
    throw valueError(`Invalid domain: ${pyRepr(domain)}`);
  }
  if (domain.length === 0) return [[1, '=', 1]];
  const result: DomainToken[] = [];
  let expected = 1;
  for (const token of domain as unknown[]) {
    if (expected === 0) {
      result.unshift('&');
      expected = 1;
    }
    if (isOperator(token)) {
      expected += ARITY[token] - 1;
      result.push(token);
    } else if (isLeaf(token)) {
      expected -= 1;
      result.push([token[0], token[1], token[2]]);
    } else {
      throw valueError(`Invalid leaf ${pyRepr(token, Array.isArray(token))}`);
    }
  }
  if (expected !== 0) {
    throw valueError(`Domain ${pyRepr(domain)} is syntactically not correct.`);
  }
  return result;
}

/** Odoo's `expression.AND`: the conjunction of several domains, in normalized prefix form. */
export function andDomains(domains: readonly unknown[][]): DomainToken[] {
  const parts = domains.filter((d) => d.length > 0).map((d) => normalizeDomain(d));
  if (parts.length === 0) return [[1, '=', 1]];
  const result: DomainToken[] = [];
  for (let i = 1; i < parts.length; i += 1) result.push('&');
  for (const part of parts) result.push(...part);
  return result;
}

/** Compiles a domain into a predicate; throws Odoo's ValueError for malformed domains or unknown fields. */
export function compileDomain<R>(domain: unknown, schema: DomainSchema<R>): Predicate<R> {
  const tokens = normalizeDomain(domain);
  let position = 0;
  const parse = (): Predicate<R> => {
    const token = tokens[position];
    position += 1;
    if (token === undefined) throw valueError(`Domain ${pyRepr(domain)} is syntactically not correct.`);
    if (token === '!') {
      const inner = parse();
      return (record) => !inner(record);
    }
    if (token === '&' || token === '|') {
      const left = parse();
      const right = parse();
      return token === '&'
        ? (record) => left(record) && right(record)
        : (record) => left(record) || right(record);
    }
    return compileLeaf(token, schema);
  };
  const predicate = parse();
  if (position !== tokens.length) throw valueError(`Domain ${pyRepr(domain)} is syntactically not correct.`);
  return predicate;
}

function compileLeaf<R>(leaf: DomainLeaf, schema: DomainSchema<R>): Predicate<R> {
  const [left, rawOperator, right] = leaf;
  if (typeof left === 'number') {
    const constant = left === 1;
    return () => constant;
  }
  const operator = rawOperator === '<>' ? '!=' : rawOperator;
  if (operator === 'any' || operator === 'not any') {
    throw valueError(
      `The Odoo sandbox does not support the '${operator}' operator (leaf ${pyRepr(leaf, true)})`,
    );
  }
  const accessor = schema.resolve(left);
  if (accessor === IGNORED_LEAF) return () => true;
  if (!accessor) {
    const head = left.split('.')[0] ?? left;
    throw valueError(
      `Invalid field ${schema.model}.${head} in ${schema.leafWord ?? 'leaf'} ${pyRepr(leaf, true)}`,
    );
  }
  if ((operator === 'in' || operator === 'not in') && right !== false && right !== null && !isList(right)) {
    // Odoo accepts a single value for `in` and treats it as a one-element list.
    return (record) => matchOperand(accessor(record), operator, [right]);
  }
  return (record) => matchOperand(accessor(record), operator, right);
}

function isList(value: unknown): value is readonly unknown[] {
  return Array.isArray(value);
}

function isUnset(value: unknown): boolean {
  return value === false || value === null || value === undefined;
}

const NEGATIONS: Record<string, string> = {
  '!=': '=',
  'not in': 'in',
  'not like': 'like',
  'not ilike': 'ilike',
};

/** Evaluates one leaf against one operand. Exported for unit tests of the SQL-like semantics. */
export function matchOperand(operand: DomainOperand, operator: string, right: unknown): boolean {
  if (operator === '=?') {
    return isUnset(right) ? true : matchOperand(operand, '=', right);
  }
  if (operator === 'child_of' || operator === 'parent_of') {
    return matchOperand(operand, 'in', isList(right) ? right : [right]);
  }
  if (operand.kind === 'values') {
    return operand.values.some((value) => matchScalar(operand.type, value, operator, right));
  }
  const positive = NEGATIONS[operator];
  if (positive !== undefined) return !matchOperand(operand, positive, right);
  if (operand.kind === 'relation') return matchRelation(operand, operator, right);
  return matchScalar(operand.type, operand.value, operator, right);
}

type RelationOperand = Extract<DomainOperand, { kind: 'relation' }>;

/** Display names are read only when a leaf compares text, since computing them costs. */
function matchRelation(operand: RelationOperand, operator: string, right: unknown): boolean {
  const { ids } = operand;
  if (operator === '=' && isList(right)) return matchRelation(operand, 'in', right);
  if (operator === '=' || operator === 'in') {
    const wanted = isList(right) ? right : [right];
    return wanted.some((item) => {
      if (isUnset(item)) return ids.length === 0;
      if (typeof item === 'number') return ids.includes(item);
      if (typeof item === 'string') return operand.names.includes(item);
      return false;
    });
  }
  if (operator === '<' || operator === '>' || operator === '<=' || operator === '>=') {
    return typeof right === 'number' && ids.some((id) => compare(id, right, operator));
  }
  // Text operators on a relation compare the related display names, as Odoo's name_search does.
  if (isUnset(right)) return ids.length === 0;
  return operand.names.some((name) => matchScalar('char', name, operator, right));
}

const temporalCache = new Map<string, string>();

/** A date/datetime operand in Odoo's stored format; cached, as the same leaf meets every row. */
function normalizeTemporal(type: ScalarType, value: unknown): unknown {
  if (typeof value !== 'string' || (type !== 'date' && type !== 'datetime')) return value;
  const key = `${type}|${value}`;
  const cached = temporalCache.get(key);
  if (cached !== undefined) return cached;
  const text = value.replace('T', ' ').replace(/(\.\d+)?Z?$/, '');
  const normalized = type === 'date' ? text.slice(0, 10) : text.length === 10 ? `${text} 00:00:00` : text;
  if (temporalCache.size > 1000) temporalCache.clear();
  temporalCache.set(key, normalized);
  return normalized;
}

function matchScalar(type: ScalarType, stored: DomainScalar, operator: string, right: unknown): boolean {
  const positive = NEGATIONS[operator];
  if (positive !== undefined) return !matchScalar(type, stored, positive, right);
  const value = type === 'boolean' ? stored === true : isUnset(stored) ? null : stored;
  switch (operator) {
    case '=':
      if (isList(right)) return matchScalar(type, stored, 'in', right);
      return equalsRight(type, value, right);
    case 'in': {
      const wanted = isList(right) ? right : [right];
      return wanted.some((item) => equalsRight(type, value, item));
    }
    case '<':
    case '>':
    case '<=':
    case '>=': {
      if (value === null || isUnset(right)) return false;
      const target = normalizeTemporal(type, right);
      if (typeof target !== 'string' && typeof target !== 'number') return false;
      return compare(value, target, operator);
    }
    case 'like':
    case 'ilike':
    case '=like':
    case '=ilike': {
      if (isUnset(right)) return value === null;
      if (value === null) return false;
      const pattern = operator.startsWith('=') ? String(right) : `%${String(right)}%`;
      return likeRegExp(pattern, operator.endsWith('ilike')).test(String(value));
    }
    default:
      throw valueError(`Invalid operator ${pyRepr(operator)}`);
  }
}

function equalsRight(type: ScalarType, value: DomainScalar, right: unknown): boolean {
  if (type === 'boolean') return value === (right === true || right === 1);
  if (isUnset(right)) {
    // `= False` is `IS NULL`; Odoo also matches empty text, and the sandbox stores unset numbers as 0.
    return value === null || (type === 'char' && value === '') || (type === 'number' && value === 0);
  }
  if (value === null) return false;
  const target = normalizeTemporal(type, right);
  if (typeof value === 'number' && typeof target === 'number') return value === target;
  if (typeof value === 'number' && typeof target === 'string' && target.trim() !== '')
    return value === Number(target);
  return String(value) === String(target);
}

function compare(value: string | number | boolean, target: string | number, operator: string): boolean {
  let a: string | number = typeof value === 'boolean' ? Number(value) : value;
  let b: string | number = target;
  if (typeof a === 'number' && typeof b === 'string') b = Number(b);
  if (typeof a === 'string' && typeof b === 'number') a = Number(a);
  if (typeof a === 'number' && Number.isNaN(a)) return false;
  if (typeof b === 'number' && Number.isNaN(b)) return false;
  switch (operator) {
    case '<':
      return a < b;
    case '>':
      return a > b;
    case '<=':
      return a <= b;
    default:
      return a >= b;
  }
}

const likeCache = new Map<string, RegExp>();

/** SQL LIKE pattern (`%`, `_`, backslash escape) as a regular expression. */
export function likeRegExp(pattern: string, caseInsensitive: boolean): RegExp {
  const key = `${caseInsensitive ? 'i' : 's'}:${pattern}`;
  const cached = likeCache.get(key);
  if (cached) return cached;
  let source = '';
  for (let i = 0; i < pattern.length; i += 1) {
    const char = pattern[i] ?? '';
    if (char === '\\' && i + 1 < pattern.length) {
      i += 1;
      source += escapeRegExp(pattern[i] ?? '');
    } else if (char === '%') source += '.*';
    else if (char === '_') source += '.';
    else source += escapeRegExp(char);
  }
  const regexp = new RegExp(`^${source}$`, caseInsensitive ? 'is' : 's');
  if (likeCache.size > 1000) likeCache.clear();
  likeCache.set(key, regexp);
  return regexp;
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
