import { describe, expect, it } from 'vitest';
import {
  andDomains,
  compileDomain,
  type DomainOperand,
  type DomainSchema,
  likeRegExp,
  matchOperand,
  normalizeDomain,
} from './domain.js';
import { OdooError } from './errors.js';

interface Invoice {
  id: number;
  name: string | false;
  state: string;
  amount: number;
  due: string | false;
  written: string;
  paid: boolean;
  partner: { id: number; name: string; email: string | false } | null;
  tags: { id: number; name: string }[];
}

const schema: DomainSchema<Invoice> = {
  model: 'account.move',
  resolve(path) {
    switch (path) {
      case 'id':
        return (r) => ({ kind: 'scalar', type: 'number', value: r.id });
      case 'name':
        return (r) => ({ kind: 'scalar', type: 'char', value: r.name });
      case 'state':
        return (r) => ({ kind: 'scalar', type: 'char', value: r.state });
      case 'amount_total':
        return (r) => ({ kind: 'scalar', type: 'number', value: r.amount });
      case 'invoice_date_due':
        return (r) => ({ kind: 'scalar', type: 'date', value: r.due });
      case 'write_date':
        return (r) => ({ kind: 'scalar', type: 'datetime', value: r.written });
      case 'is_paid':
        return (r) => ({ kind: 'scalar', type: 'boolean', value: r.paid });
      case 'partner_id':
        return (r) => ({
          kind: 'relation',
          ids: r.partner ? [r.partner.id] : [],
          names: r.partner ? [r.partner.name] : [],
        });
      case 'tag_ids':
        return (r) => ({ kind: 'relation', ids: r.tags.map((t) => t.id), names: r.tags.map((t) => t.name) });
      case 'partner_id.email':
        return (r) => ({ kind: 'values', type: 'char', values: r.partner ? [r.partner.email] : [] });
      default:
        return undefined;
    }
  },
};

const invoices: Invoice[] = [
  {
    id: 1,
    name: 'INV/2026/00001',
    state: 'posted',
    amount: 1500,
    due: '2026-12-01',
    written: '2026-11-20 10:00:00',
    paid: false,
    partner: { id: 7, name: 'Deco Addict', email: 'deco@example.com' },
    tags: [{ id: 1, name: 'VIP' }],
  },
  {
    id: 2,
    name: 'INV/2026/00002',
    state: 'posted',
    amount: 120.5,
    due: false,
    written: '2026-11-21 00:00:00',
    paid: true,
    partner: { id: 8, name: 'Azure Interior', email: false },
    tags: [],
  },
  {
    id: 3,
    name: '/',
    state: 'draft',
    amount: 0,
    due: '2026-11-30',
    written: '2026-11-21 08:30:00',
    paid: false,
    partner: null,
    tags: [
      { id: 1, name: 'VIP' },
      { id: 2, name: 'Late_payer' },
    ],
  },
  {
    id: 4,
    name: false,
    state: 'cancel',
    amount: 99.99,
    due: '2027-01-15',
    written: '2026-11-22 12:00:00',
    paid: false,
    partner: { id: 7, name: 'Deco Addict', email: 'deco@example.com' },
    tags: [],
  },
];

function ids(domain: unknown): number[] {
  const predicate = compileDomain(domain, schema);
  return invoices.filter(predicate).map((r) => r.id);
}

function odooError(run: () => unknown): OdooError {
  try {
    run();
  } catch (error) {
    if (error instanceof OdooError) return error;
    throw error;
  }
  throw new Error('expected an Odoo error');
}

describe('normalizeDomain', () => {
  it('makes the implicit & between consecutive terms explicit, like Odoo', () => {
    expect(
      normalizeDomain([
        ['a', '=', 1],
        ['b', '=', 2],
        ['c', '=', 3],
      ]),
    ).toEqual(['&', '&', ['a', '=', 1], ['b', '=', 2], ['c', '=', 3]]);
    expect(normalizeDomain(['|', ['a', '=', 1], ['b', '=', 2], ['c', '=', 3]])).toEqual([
      '&',
      '|',
      ['a', '=', 1],
      ['b', '=', 2],
      ['c', '=', 3],
    ]);
  });

  it('turns an empty domain into the true leaf', () => {
    expect(normalizeDomain([])).toEqual([[1, '=', 1]]);
  });

  it('rejects a malformed leaf with ValueError "Invalid leaf"', () => {
    const error = odooError(() => normalizeDomain([['state', 'equals', 'posted']]));
    expect(error.className).toBe('builtins.ValueError');
    expect(error.message).toBe("Invalid leaf ('state', 'equals', 'posted')");
    expect(odooError(() => normalizeDomain([['state', '=']])).message).toBe("Invalid leaf ('state', '=')");
    expect(odooError(() => normalizeDomain(['state'])).message).toBe("Invalid leaf 'state'");
    expect(odooError(() => normalizeDomain([['', '=', 1]])).message).toContain('Invalid leaf');
  });

  it('is case-sensitive on operators, like Odoo', () => {
    expect(odooError(() => normalizeDomain([['state', 'IN', ['posted']]])).message).toContain('Invalid leaf');
  });

  it('rejects a domain that is not a list, and one with missing operands', () => {
    expect(odooError(() => normalizeDomain('state = posted')).className).toBe('builtins.ValueError');
    const error = odooError(() => normalizeDomain(['&', ['state', '=', 'posted']]));
    expect(error.message).toBe("Domain ['&', ['state', '=', 'posted']] is syntactically not correct.");
    expect(odooError(() => normalizeDomain(['!'])).message).toContain('syntactically not correct');
  });
});

describe('andDomains', () => {
  it('combines domains like expression.AND (the __domain of read_group)', () => {
    expect(
      andDomains([
        [['move_type', '=', 'out_invoice']],
        [['state', '=', 'posted']],
        [['payment_state', '=', 'paid']],
      ]),
    ).toEqual([
      '&',
      '&',
      ['move_type', '=', 'out_invoice'],
      ['state', '=', 'posted'],
      ['payment_state', '=', 'paid'],
    ]);
    expect(andDomains([[], []])).toEqual([[1, '=', 1]]);
  });
});

describe('compileDomain: structure', () => {
  it('matches everything with an empty domain', () => {
    expect(ids([])).toEqual([1, 2, 3, 4]);
  });

  it('ands consecutive terms', () => {
    expect(
      ids([
        ['state', '=', 'posted'],
        ['amount_total', '>', 1000],
      ]),
    ).toEqual([1]);
  });

  it('supports prefix | and nesting', () => {
    expect(ids(['|', ['state', '=', 'draft'], ['state', '=', 'cancel']])).toEqual([3, 4]);
    expect(
      ids(['|', '&', ['state', '=', 'posted'], ['amount_total', '<', 200], ['state', '=', 'draft']]),
    ).toEqual([2, 3]);
    expect(ids(['&', '|', ['id', '=', 1], ['id', '=', 2], ['amount_total', '>', 500]])).toEqual([1]);
  });

  it('supports ! (negation of the next term)', () => {
    expect(ids(['!', ['state', '=', 'posted']])).toEqual([3, 4]);
    expect(ids(['!', '|', ['id', '=', 1], ['id', '=', 2]])).toEqual([3, 4]);
  });

  it('evaluates the true and false leaves', () => {
    expect(ids([[1, '=', 1]])).toEqual([1, 2, 3, 4]);
    expect(ids([[0, '=', 1]])).toEqual([]);
  });

  it('raises ValueError for an unknown field, naming model and leaf like Odoo', () => {
    const error = odooError(() => compileDomain([['x_foo', '=', 'abc']], schema));
    expect(error.className).toBe('builtins.ValueError');
    expect(error.message).toBe("Invalid field account.move.x_foo in leaf ('x_foo', '=', 'abc')");
  });

  it('refuses any / not any, which the sandbox does not model', () => {
    expect(
      odooError(() => compileDomain([['tag_ids', 'any', [['name', '=', 'VIP']]]], schema)).className,
    ).toBe('builtins.ValueError');
  });
});

describe('compileDomain: scalar operators', () => {
  it('= and != compare values; != includes NULLs as in SQL with Odoo’s rewrite', () => {
    expect(ids([['state', '=', 'posted']])).toEqual([1, 2]);
    expect(ids([['state', '!=', 'posted']])).toEqual([3, 4]);
    expect(ids([['name', '!=', '/']])).toEqual([1, 2, 4]);
    expect(ids([['state', '<>', 'posted']])).toEqual([3, 4]);
  });

  it('= False is IS NULL (and empty text), != False is IS NOT NULL', () => {
    expect(ids([['name', '=', false]])).toEqual([4]);
    expect(ids([['name', '!=', false]])).toEqual([1, 2, 3]);
    expect(ids([['invoice_date_due', '=', false]])).toEqual([2]);
    expect(ids([['invoice_date_due', '!=', false]])).toEqual([1, 3, 4]);
  });

  it('booleans: = False matches false, = True matches true', () => {
    expect(ids([['is_paid', '=', true]])).toEqual([2]);
    expect(ids([['is_paid', '=', false]])).toEqual([1, 3, 4]);
    expect(ids([['is_paid', '!=', true]])).toEqual([1, 3, 4]);
  });

  it('in / not in, with False meaning NULL inside the list', () => {
    expect(ids([['state', 'in', ['draft', 'cancel']]])).toEqual([3, 4]);
    expect(ids([['state', 'not in', ['draft', 'cancel']]])).toEqual([1, 2]);
    expect(ids([['id', 'in', []]])).toEqual([]);
    expect(ids([['id', 'not in', []]])).toEqual([1, 2, 3, 4]);
    expect(ids([['invoice_date_due', 'in', [false, '2026-12-01']]])).toEqual([1, 2]);
    expect(ids([['invoice_date_due', 'not in', ['2026-12-01']]])).toEqual([2, 3, 4]);
    expect(ids([['invoice_date_due', 'not in', [false, '2026-12-01']]])).toEqual([3, 4]);
  });

  it('accepts a single value for in, and a list for =', () => {
    expect(ids([['id', 'in', 2]])).toEqual([2]);
    expect(ids([['id', '=', [1, 3]]])).toEqual([1, 3]);
  });

  it('orders numbers numerically and never matches NULL', () => {
    expect(ids([['amount_total', '>', 100]])).toEqual([1, 2]);
    expect(ids([['amount_total', '>=', 120.5]])).toEqual([1, 2]);
    expect(ids([['amount_total', '<', 100]])).toEqual([3, 4]);
    expect(ids([['amount_total', '<=', 0]])).toEqual([3]);
    expect(ids([['invoice_date_due', '<', '2026-12-31']])).toEqual([1, 3]);
  });

  it('compares datetimes with a date as midnight, and accepts ISO "T" separators', () => {
    expect(ids([['write_date', '>=', '2026-11-21']])).toEqual([2, 3, 4]);
    expect(ids([['write_date', '>', '2026-11-21']])).toEqual([3, 4]);
    expect(ids([['write_date', '=', '2026-11-21']])).toEqual([2]);
    expect(ids([['write_date', '>=', '2026-11-21T08:30:00']])).toEqual([3, 4]);
    expect(ids([['write_date', '>=', '2026-11-21T08:30:00.000Z']])).toEqual([3, 4]);
  });

  it('like is case-sensitive and wraps the value in %, ilike ignores case', () => {
    expect(ids([['name', 'like', '2026/0000']])).toEqual([1, 2]);
    expect(ids([['name', 'like', 'inv']])).toEqual([]);
    expect(ids([['name', 'ilike', 'inv']])).toEqual([1, 2]);
    expect(ids([['name', 'ilike', '00002']])).toEqual([2]);
  });

  it('not like / not ilike include NULLs', () => {
    expect(ids([['name', 'not ilike', 'inv']])).toEqual([3, 4]);
    expect(ids([['name', 'not like', '00001']])).toEqual([2, 3, 4]);
  });

  it('=like / =ilike use the pattern as given, with % and _ wildcards', () => {
    expect(ids([['name', '=like', 'INV/%/00001']])).toEqual([1]);
    expect(ids([['name', '=ilike', 'inv/2026/0000_']])).toEqual([1, 2]);
    expect(ids([['name', '=like', 'INV']])).toEqual([]);
  });

  it('=? is true when the value is unset, = otherwise', () => {
    expect(ids([['state', '=?', false]])).toEqual([1, 2, 3, 4]);
    expect(ids([['state', '=?', 'draft']])).toEqual([3]);
  });
});

describe('compileDomain: relations', () => {
  it('compares a many2one by id', () => {
    expect(ids([['partner_id', '=', 7]])).toEqual([1, 4]);
    expect(ids([['partner_id', 'in', [8, 99]]])).toEqual([2]);
    expect(ids([['partner_id', 'not in', [7]]])).toEqual([2, 3]);
    expect(ids([['partner_id', '!=', 7]])).toEqual([2, 3]);
  });

  it('= False on a many2one is "not set"', () => {
    expect(ids([['partner_id', '=', false]])).toEqual([3]);
    expect(ids([['partner_id', '!=', false]])).toEqual([1, 2, 4]);
  });

  it('compares a many2one with a string through its display name', () => {
    expect(ids([['partner_id', '=', 'Deco Addict']])).toEqual([1, 4]);
    expect(ids([['partner_id', 'ilike', 'azure']])).toEqual([2]);
    expect(ids([['partner_id', 'not ilike', 'azure']])).toEqual([1, 3, 4]);
    expect(ids([['partner_id', 'in', ['Azure Interior']]])).toEqual([2]);
  });

  it('x2many: = id means "contains", = False means empty', () => {
    expect(ids([['tag_ids', '=', 1]])).toEqual([1, 3]);
    expect(ids([['tag_ids', 'in', [2]]])).toEqual([3]);
    expect(ids([['tag_ids', '=', false]])).toEqual([2, 4]);
    expect(ids([['tag_ids', 'ilike', 'late_']])).toEqual([3]);
  });

  it('dotted paths hold when a related record satisfies the leaf', () => {
    expect(ids([['partner_id.email', '=', 'deco@example.com']])).toEqual([1, 4]);
    expect(ids([['partner_id.email', '=', false]])).toEqual([2]);
    expect(ids([['partner_id.email', '!=', false]])).toEqual([1, 4]);
  });

  it('child_of / parent_of behave as in without a hierarchy', () => {
    expect(ids([['partner_id', 'child_of', 8]])).toEqual([2]);
  });
});

describe('matchOperand and likeRegExp', () => {
  it('treats LIKE metacharacters and escapes like PostgreSQL', () => {
    expect(likeRegExp('a\\%b', false).test('a%b')).toBe(true);
    expect(likeRegExp('a\\%b', false).test('axb')).toBe(false);
    expect(likeRegExp('a.c', false).test('abc')).toBe(false);
    expect(likeRegExp('%(x)%', true).test('ab(X)cd')).toBe(true);
  });

  it('matches relation names lazily computed by the caller', () => {
    let computed = 0;
    const operand: DomainOperand = {
      kind: 'relation',
      ids: [5],
      get names() {
        computed += 1;
        return ['Gemini Furniture'];
      },
    };
    expect(matchOperand(operand, '=', 5)).toBe(true);
    expect(computed).toBe(0);
    expect(matchOperand(operand, 'ilike', 'gemini')).toBe(true);
    expect(computed).toBe(1);
  });
});
