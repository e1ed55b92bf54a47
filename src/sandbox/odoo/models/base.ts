/** res.company, res.partner, res.users and res.currency as a payment connector sees them. */
import { type Json, validationError } from '../errors.js';
import type { ComputeContext, Row, Selection } from '../fields.js';
import type { Env, Registry } from '../registry.js';

/** Odoo's multi-company record rule: no company, or one of env.companies. */
export function companyRule(field = 'company_id') {
  return (row: Row, env: Env): boolean => {
    const company = row[field];
    return (
      company === false ||
      company === undefined ||
      (typeof company === 'number' && env.companyIds.includes(company))
    );
  };
}

export const LANGUAGES: Selection = [
  ['en_US', 'English (US)'],
  ['en_GB', 'English (UK)'],
  ['fr_FR', 'French / Français'],
  ['fr_BE', 'French (BE) / Français (BE)'],
  ['ar_001', 'Arabic / الْعَرَبيّة'],
  ['es_ES', 'Spanish / Español'],
  ['de_DE', 'German / Deutsch'],
  ['nl_NL', 'Dutch / Nederlands'],
  ['pt_BR', 'Portuguese (BR) / Português (BR)'],
  ['it_IT', 'Italian / Italiano'],
];

export function defineBaseModels(reg: Registry): void {
  reg.define({
    name: 'res.currency',
    description: 'Currency',
    order: 'active desc, name',
    fields: {
      name: { type: 'char', string: 'Currency', required: true },
      full_name: { type: 'char', string: 'Name' },
      symbol: { type: 'char', string: 'Symbol', required: true },
      decimal_places: { type: 'integer', string: 'Decimal Places' },
      rounding: { type: 'float', string: 'Rounding Factor' },
      position: {
        type: 'selection',
        string: 'Symbol Position',
        selection: [
          ['after', 'After Amount'],
          ['before', 'Before Amount'],
        ],
      },
      currency_unit_label: { type: 'char', string: 'Currency Unit' },
      currency_subunit_label: { type: 'char', string: 'Currency Subunit' },
      rate: { type: 'float', string: 'Current Rate', store: false, compute: () => 1 },
      active: { type: 'boolean', string: 'Active' },
    },
  });

  // Rates relative to the company currency (which has none, i.e. 1), one row per day that has one.
  reg.define({
    name: 'res.currency.rate',
    description: 'Currency Rate',
    order: 'name desc',
    fields: {
      name: { type: 'date', string: 'Date', required: true },
      rate: { type: 'float', string: 'Technical Rate', required: true },
      currency_id: { type: 'many2one', string: 'Currency', relation: 'res.currency', required: true },
      company_id: { type: 'many2one', string: 'Company', relation: 'res.company' },
    },
    rule: companyRule(),
  });

  reg.define({
    name: 'res.partner',
    description: 'Contact',
    order: 'complete_name ASC, id DESC',
    fields: {
      name: { type: 'char', string: 'Name' },
      complete_name: { type: 'char', string: 'Complete Name' },
      email: { type: 'char', string: 'Email' },
      phone: { type: 'char', string: 'Phone' },
      lang: { type: 'selection', string: 'Language', selection: LANGUAGES },
      tz: { type: 'char', string: 'Timezone' },
      company_id: { type: 'many2one', string: 'Company', relation: 'res.company' },
      category_id: { type: 'many2many', string: 'Tags', relation: 'res.partner.category' },
      parent_id: { type: 'many2one', string: 'Related Company', relation: 'res.partner' },
      commercial_partner_id: {
        type: 'many2one',
        string: 'Commercial Entity',
        relation: 'res.partner',
        store: false,
        compute: (row) => (typeof row.parent_id === 'number' ? row.parent_id : row.id),
      },
      is_company: { type: 'boolean', string: 'Is a Company' },
      vat: { type: 'char', string: 'Tax ID' },
      ref: { type: 'char', string: 'Reference' },
      street: { type: 'char', string: 'Street' },
      city: { type: 'char', string: 'City' },
      zip: { type: 'char', string: 'Zip' },
      active: { type: 'boolean', string: 'Active' },
    },
    displayName: (row, registry) => {
      const name = typeof row.name === 'string' ? row.name : '';
      if (typeof row.parent_id === 'number' && !row.is_company) {
        const parent = registry.model('res.partner').rows.get(row.parent_id);
        if (typeof parent?.name === 'string') return `${parent.name}, ${name}`;
      }
      return name;
    },
    rule: companyRule(),
    defaults: (vals) => {
      if (typeof vals.name !== 'string' || vals.name.trim() === '') {
        throw validationError('Contacts require a name');
      }
      return { active: true, ...vals };
    },
    afterCreate: (row, _vals, _env, registry) => refreshCompleteName(row, registry),
    afterWrite: (rows, _vals, _env, registry) => {
      for (const row of rows) refreshCompleteName(row, registry);
    },
  });

  reg.define({
    name: 'res.partner.category',
    description: 'Partner Tags',
    order: 'name',
    fields: {
      name: { type: 'char', string: 'Tag Name', required: true },
      active: { type: 'boolean', string: 'Active' },
    },
    defaults: (vals) => ({ active: true, ...vals }),
  });

  reg.define({
    name: 'res.company',
    description: 'Companies',
    order: 'sequence, name',
    fields: {
      name: { type: 'char', string: 'Company Name', required: true },
      currency_id: { type: 'many2one', string: 'Currency', relation: 'res.currency', required: true },
      partner_id: { type: 'many2one', string: 'Partner', relation: 'res.partner' },
      email: { type: 'char', string: 'Email' },
      website: { type: 'char', string: 'Website Link' },
      sequence: { type: 'integer', string: 'Sequence' },
      parent_id: { type: 'many2one', string: 'Parent Company', relation: 'res.company' },
      active: { type: 'boolean', string: 'Active' },
    },
    // Odoo's rule on companies: only the companies of the current call.
    rule: (row, env) => env.companyIds.includes(row.id),
  });

  reg.define({
    name: 'res.groups',
    description: 'Access Groups',
    order: 'name',
    fields: {
      name: { type: 'char', string: 'Name', required: true },
      category_name: { type: 'char', string: 'Category' },
      full_name: {
        type: 'char',
        string: 'Group Name',
        compute: (row) =>
          typeof row.category_name === 'string' && row.category_name
            ? `${row.category_name} / ${String(row.name)}`
            : String(row.name),
      },
      implied_ids: { type: 'many2many', string: 'Inherits', relation: 'res.groups' },
      api_key_duration: { type: 'float', string: 'API Keys maximum duration days' },
      share: { type: 'boolean', string: 'Share Group' },
    },
    displayName: (row) =>
      typeof row.category_name === 'string' && row.category_name
        ? `${row.category_name} / ${String(row.name)}`
        : String(row.name),
  });

  const groupsField = reg.userGroupsField;
  reg.define({
    name: 'res.users',
    description: 'User',
    order: 'name, login',
    fields: {
      name: { type: 'char', string: 'Name' },
      login: { type: 'char', string: 'Login', required: true },
      partner_id: { type: 'many2one', string: 'Related Partner', relation: 'res.partner' },
      // res.users _inherits res.partner: the email lives on the partner.
      email: {
        type: 'char',
        string: 'Email',
        compute: (row, { reg: registry }) =>
          typeof row.partner_id === 'number'
            ? (registry.model('res.partner').rows.get(row.partner_id)?.email ?? false)
            : false,
      },
      [groupsField]: { type: 'many2many', string: 'Groups', relation: 'res.groups' },
      ...(groupsField === 'group_ids'
        ? {
            all_group_ids: {
              type: 'many2many' as const,
              string: 'Groups and implied groups',
              relation: 'res.groups',
              compute: (row: Row, { reg: registry }: ComputeContext) =>
                [...registry.groupsOfUser(row.id)]
                  .map((xmlid) => registry.ref(xmlid)?.id)
                  .filter((id): id is number => id !== undefined)
                  .sort((a, b) => a - b),
            },
          }
        : {}),
      company_id: { type: 'many2one', string: 'Company', relation: 'res.company' },
      company_ids: { type: 'many2many', string: 'Companies', relation: 'res.company' },
      tz: { type: 'char', string: 'Timezone' },
      lang: { type: 'selection', string: 'Language', selection: LANGUAGES },
      share: { type: 'boolean', string: 'Share User' },
      active: { type: 'boolean', string: 'Active' },
    },
    defaults: (vals, _env, registry) => {
      const taken = [...registry.model('res.users').rows.values()].some((user) => user.login === vals.login);
      if (taken) throw validationError('You can not have two users with the same login!');
      return { active: true, share: false, ...vals };
    },
    afterWrite: (rows, vals, env, registry) => {
      if (!('email' in vals)) return;
      for (const user of rows) {
        const partner =
          typeof user.partner_id === 'number'
            ? registry.model('res.partner').rows.get(user.partner_id)
            : undefined;
        if (partner) registry.update('res.partner', partner, { email: vals.email ?? false }, env);
      }
    },
    methods: {
      context_get: {
        model: true,
        params: [],
        run: ({ reg: registry, env }) => {
          const user = registry.model('res.users').rows.get(env.uid);
          return {
            lang: (user?.lang as Json) || 'en_US',
            tz: (user?.tz as Json) || false,
            uid: env.uid,
          };
        },
      },
    },
  });
}

function refreshCompleteName(row: Row, reg: Registry): void {
  row.complete_name = reg.displayName('res.partner', row.id);
}
