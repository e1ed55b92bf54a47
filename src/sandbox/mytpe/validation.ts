/**
 * Just enough of Laravel's validator to answer like MyTPE does: 422 with
 * `{message: "<first> (and N more errors)", errors: {field: [messages]}}` and Laravel 10+ wording.
 */

export type FieldErrors = Record<string, string[]>;

export interface ValidationFailure {
  readonly message: string;
  readonly errors: FieldErrors;
}

/** Laravel shows `settings.allow_anonymous` as "settings.allow anonymous". */
export function attributeName(field: string): string {
  return field.replace(/_/g, ' ');
}

export function isPresent(value: unknown): boolean {
  if (value === undefined || value === null) return false;
  if (typeof value === 'string') return value.trim() !== '';
  if (Array.isArray(value)) return value.length > 0;
  return true;
}

const NUMERIC = /^\s*[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?\s*$/;

/** PHP's is_numeric, which Laravel's `numeric` rule uses. */
export function isNumeric(value: unknown): boolean {
  if (typeof value === 'number') return Number.isFinite(value);
  return typeof value === 'string' && NUMERIC.test(value);
}

export function isInteger(value: unknown): boolean {
  if (typeof value === 'number') return Number.isInteger(value);
  return typeof value === 'string' && /^\s*[+-]?\d+\s*$/.test(value);
}

/** Laravel `boolean`: true, false, 1, 0, "1", "0" — not "true"/"false". */
export function parseBoolean(value: unknown): boolean | undefined {
  if (value === true || value === 1 || value === '1') return true;
  if (value === false || value === 0 || value === '0') return false;
  return undefined;
}

/** Laravel `alpha_dash`: letters, marks, digits, dashes and underscores (ASCII or not). */
export function isAlphaDash(value: unknown): boolean {
  return typeof value === 'string' && /^[\p{L}\p{M}\p{N}_-]+$/u.test(value);
}

export class Validator {
  readonly errors: FieldErrors = {};

  add(field: string, message: string): void {
    const list = this.errors[field] ?? [];
    list.push(message);
    this.errors[field] = list;
  }

  has(field: string): boolean {
    return (this.errors[field]?.length ?? 0) > 0;
  }

  required(field: string, value: unknown): boolean {
    if (isPresent(value)) return true;
    this.add(field, `The ${attributeName(field)} field is required.`);
    return false;
  }

  requiredIf(field: string, value: unknown, other: string, otherValue: string, actual: unknown): boolean {
    if (actual !== otherValue || isPresent(value)) return true;
    this.add(
      field,
      `The ${attributeName(field)} field is required when ${attributeName(other)} is ${otherValue}.`,
    );
    return false;
  }

  string(field: string, value: unknown, max?: number): boolean {
    if (typeof value !== 'string') {
      this.add(field, `The ${attributeName(field)} field must be a string.`);
      return false;
    }
    if (max !== undefined && [...value].length > max) {
      this.add(field, `The ${attributeName(field)} field must not be greater than ${max} characters.`);
      return false;
    }
    return true;
  }

  numeric(field: string, value: unknown, min?: number): boolean {
    if (!isNumeric(value)) {
      this.add(field, `The ${attributeName(field)} field must be a number.`);
      return false;
    }
    if (min !== undefined && Number(value) < min) {
      this.add(field, `The ${attributeName(field)} field must be at least ${min}.`);
      return false;
    }
    return true;
  }

  integer(field: string, value: unknown, min?: number): boolean {
    if (!isInteger(value)) {
      this.add(field, `The ${attributeName(field)} field must be an integer.`);
      return false;
    }
    if (min !== undefined && Number(value) < min) {
      this.add(field, `The ${attributeName(field)} field must be at least ${min}.`);
      return false;
    }
    return true;
  }

  oneOf(field: string, value: unknown, allowed: readonly string[]): boolean {
    if (typeof value === 'string' && allowed.includes(value)) return true;
    this.add(field, `The selected ${attributeName(field)} is invalid.`);
    return false;
  }

  boolean(field: string, value: unknown): boolean {
    if (parseBoolean(value) !== undefined) return true;
    this.add(field, `The ${attributeName(field)} field must be true or false.`);
    return false;
  }

  alphaDash(field: string, value: unknown): boolean {
    if (isAlphaDash(value)) return true;
    this.add(
      field,
      `The ${attributeName(field)} field must only contain letters, numbers, dashes, and underscores.`,
    );
    return false;
  }

  array(field: string, value: unknown): value is Record<string, unknown> {
    if (typeof value === 'object' && value !== null) return true;
    this.add(field, `The ${attributeName(field)} field must be an array.`);
    return false;
  }

  failure(): ValidationFailure | undefined {
    const messages = Object.values(this.errors).flat();
    const first = messages[0];
    if (first === undefined) return undefined;
    const more = messages.length - 1;
    const message = more === 0 ? first : `${first} (and ${more} more ${more === 1 ? 'error' : 'errors'})`;
    return { message, errors: this.errors };
  }
}
