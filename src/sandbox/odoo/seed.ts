/**
 * Data of a fresh Odoo database with Invoicing installed (company "YourCompany" in USD, the admin
 * user, currencies, accounts, journals), and the demo scene used by `npm start` without config.
 */
import { randomUUID } from 'node:crypto';
import { GROUP_XMLIDS, GROUPS, type GroupXmlid, groupClosure } from './access.js';
import { seedConfigParameters } from './models/config.js';
import { seedViews } from './models/views.js';
import type { Registry } from './registry.js';
import type { SandboxModels } from './scene.js';

interface CurrencySeed {
  name: string;
  symbol: string;
  position: 'before' | 'after';
  decimals: number;
  fullName: string;
}

/** Seeded in this order, so ids are stable: USD is 1 as in Odoo's captures. */
export const SEEDED_CURRENCIES: readonly CurrencySeed[] = [
  { name: 'USD', symbol: '$', position: 'before', decimals: 2, fullName: 'United States dollar' },
  { name: 'EUR', symbol: '€', position: 'after', decimals: 2, fullName: 'Euro' },
  { name: 'DZD', symbol: 'DA', position: 'after', decimals: 2, fullName: 'Algerian dinar' },
  { name: 'JPY', symbol: '¥', position: 'before', decimals: 0, fullName: 'Japanese yen' },
  { name: 'KWD', symbol: 'KD', position: 'after', decimals: 3, fullName: 'Kuwaiti dinar' },
  { name: 'TND', symbol: 'DT', position: 'after', decimals: 3, fullName: 'Tunisian dinar' },
  { name: 'GBP', symbol: '£', position: 'before', decimals: 2, fullName: 'Pound sterling' },
  { name: 'MAD', symbol: 'DH', position: 'after', decimals: 2, fullName: 'Moroccan dirham' },
  { name: 'CHF', symbol: 'CHF', position: 'after', decimals: 2, fullName: 'Swiss franc' },
  { name: 'XOF', symbol: 'CFA', position: 'after', decimals: 0, fullName: 'West African CFA franc' },
  { name: 'CRC', symbol: '₡', position: 'before', decimals: 2, fullName: 'Costa Rican colón' },
  { name: 'PHP', symbol: '₱', position: 'before', decimals: 2, fullName: 'Philippine peso' },
];

export interface BaseSeedOptions {
  login: string;
  password: string;
  /** ir.config_parameter database.uuid (default: a random uuid v4). */
  databaseUuid?: string;
  /** A neutralized copy: database.is_neutralized is stored, as Odoo's neutralization does. */
  neutralized?: boolean;
}

/** res.groups rows, each with its external id; ids follow this order. */
function seedGroups(reg: Registry): void {
  const env = reg.superEnv(1);
  for (const xmlid of GROUP_XMLIDS) {
    const group = GROUPS[xmlid];
    const [category, name] = group.label[reg.traits.groupLabels];
    const implied = group.implied.map((other) => reg.ref(other)?.id).filter((id) => id !== undefined);
    const row = reg.insert(
      'res.groups',
      {
        name,
        category_name: category,
        implied_ids: implied,
        api_key_duration: group.apiKeyDays,
        share: false,
      },
      env,
    );
    reg.registerXmlid(xmlid, 'res.groups', row.id);
  }
}

/** The res.groups ids of a user's groups: all implied ones up to 18.0 (groups_id), the given ones on 19.0. */
export function userGroupIds(reg: Registry, groups: Iterable<GroupXmlid>): number[] {
  const xmlids = reg.traits.userGroupsIncludeImplied ? groupClosure(groups) : new Set(groups);
  return [...xmlids]
    .map((xmlid) => reg.ref(xmlid)?.id)
    .filter((id): id is number => id !== undefined)
    .sort((a, b) => a - b);
}

/** Ids every sandbox has: company 1, admin uid 2 (partner 3), bank journal, as in a real database. */
export function seedBase(reg: Registry, options: BaseSeedOptions): void {
  const env = reg.superEnv(1);
  for (const currency of SEEDED_CURRENCIES) {
    reg.insert(
      'res.currency',
      {
        name: currency.name,
        full_name: currency.fullName,
        symbol: currency.symbol,
        position: currency.position,
        decimal_places: currency.decimals,
        rounding: 10 ** -currency.decimals,
        active: true,
      },
      env,
    );
  }
  reg.insert(
    'res.partner',
    { name: 'YourCompany', complete_name: 'YourCompany', is_company: true, active: true },
    env,
  );
  reg.insert(
    'res.partner',
    { name: 'OdooBot', complete_name: 'OdooBot', email: 'odoobot@example.com', active: false },
    env,
  );
  reg.insert(
    'res.partner',
    {
      name: 'Mitchell Admin',
      complete_name: 'YourCompany, Mitchell Admin',
      parent_id: 1,
      email: 'admin@yourcompany.example.com',
      lang: 'en_US',
      active: true,
    },
    env,
  );
  // The company of Odoo's demo data, as the captures read it (59).
  const company = reg.insert(
    'res.company',
    {
      name: 'YourCompany',
      currency_id: 1,
      partner_id: 1,
      email: 'info@yourcompany.com',
      website: 'http://www.example.com',
      sequence: 0,
      active: true,
    },
    env,
  );
  reg.registerXmlid('base.main_company', 'res.company', company.id);
  seedGroups(reg);
  const everyGroup = userGroupIds(reg, GROUP_XMLIDS);
  reg.insert(
    'res.users',
    {
      name: 'OdooBot',
      login: '__system__',
      partner_id: 2,
      company_id: 1,
      company_ids: [1],
      [reg.userGroupsField]: everyGroup,
      active: false,
    },
    env,
  );
  reg.insert(
    'res.users',
    {
      name: 'Mitchell Admin',
      login: options.login,
      partner_id: 3,
      company_id: 1,
      company_ids: [1],
      [reg.userGroupsField]: everyGroup,
      tz: 'Europe/Brussels',
      lang: 'en_US',
      active: true,
    },
    env,
  );
  reg.passwords.set(2, options.password);
  reg.registerXmlid('base.user_root', 'res.users', 1);
  reg.registerXmlid('base.user_admin', 'res.users', 2);
  reg.registerXmlid('base.partner_root', 'res.partner', 2);
  reg.registerXmlid('base.partner_admin', 'res.partner', 3);

  for (const [xmlid, subtype] of [
    ['mail.mt_comment', { name: 'Discussions', internal: false, sequence: 0 }],
    ['mail.mt_note', { name: 'Note', internal: true, sequence: 100 }],
    ['mail.mt_activities', { name: 'Activities', internal: false, sequence: 90 }],
    ['account.mt_invoice_validated', { name: 'Validated', internal: false, sequence: 0 }],
  ] as const) {
    reg.registerXmlid(xmlid, 'mail.message.subtype', reg.insert('mail.message.subtype', subtype, env).id);
  }
  seedConfigParameters(reg, {
    'database.uuid': options.databaseUuid ?? randomUUID(),
    'database.create_date': reg.now(),
    ...(options.neutralized ? { 'database.is_neutralized': 'true' } : {}),
  });
  seedViews(reg);

  const accounts: [string | false, string, string][] = [
    ['121000', 'Account Receivable', 'asset_receivable'],
    ['101401', 'Bank', 'asset_cash'],
    ['101501', 'Cash', 'asset_cash'],
    // Odoo 19's chart shows the outstanding accounts without a code.
    [reg.traits.outstandingAccountsHaveCodes ? '101403' : false, 'Outstanding Receipts', 'asset_current'],
    [reg.traits.outstandingAccountsHaveCodes ? '101404' : false, 'Outstanding Payments', 'asset_current'],
    ['400000', 'Product Sales', 'income'],
  ];
  for (const [code, name, accountType] of accounts) {
    reg.insert(
      'account.account',
      { code, name, account_type: accountType, reconcile: accountType === 'asset_receivable', active: true },
      env,
    );
  }
  seedCompanyJournals(reg, 1, { bank: true });
}

/** The journals Odoo's chart of accounts gives a company; bank (and cash on 18.0) only when asked. */
export function seedCompanyJournals(reg: Registry, companyId: number, options: { bank: boolean }): void {
  const env = reg.superEnv(companyId);
  const sale = reg.traits.saleJournalName;
  reg.create(env, 'account.journal', {
    name: sale,
    code: 'INV',
    type: 'sale',
    company_id: companyId,
    sequence: 5,
  });
  reg.create(env, 'account.journal', {
    name: 'Miscellaneous Operations',
    code: 'MISC',
    type: 'general',
    company_id: companyId,
    sequence: 9,
  });
  if (!options.bank) return;
  reg.create(env, 'account.journal', {
    name: 'Bank',
    code: 'BNK1',
    type: 'bank',
    company_id: companyId,
    sequence: 10,
  });
  // A fresh 19.0 database has no cash journal (see the 19.0 journal capture).
  if (reg.traits.hasCashJournal) {
    reg.create(env, 'account.journal', {
      name: 'Cash',
      code: 'CSH1',
      type: 'cash',
      company_id: companyId,
      sequence: 10,
    });
  }
}

export interface DemoSeedOptions {
  /** Posted invoices to create (default 6). */
  invoices?: number;
}

export interface DemoSeed {
  companyId: number;
  bankJournalId: number;
  partnerIds: number[];
  invoiceIds: number[];
}

const DEMO_PARTNERS = [
  { name: 'Atlas Distribution SARL', email: 'comptabilite@atlas-distribution.example.com', lang: 'fr_FR' },
  { name: 'Sahara Solar Systems', email: 'billing@sahara-solar.example.com', lang: 'en_US' },
  { name: 'Nour El Houda Trading', email: 'finance@nour-trading.example.com', lang: 'ar_001' },
  { name: 'Café des Oasis', email: 'contact@cafe-oasis.example.com', lang: 'fr_FR' },
  { name: 'Kader Bâtiment', lang: 'fr_FR' },
] as const;

const DEMO_AMOUNTS = [
  '1500.00',
  '24990.50',
  '320.00',
  '87000.00',
  '4599.99',
  '12500.00',
  '760.25',
  '199000.00',
];

/**
 * The demo scene: company 1 is renamed "Sandbox SARL" and switched to DZD (a fresh database's only
 * company, like a real first setup), its existing "Bank" journal is the payment journal, and five
 * partners (en_US, fr_FR, ar_001, one without email) get posted invoices with varied amounts.
 */
export function seedDemo(reg: Registry, models: SandboxModels, options: DemoSeedOptions = {}): DemoSeed {
  const env = reg.superEnv(1);
  const dzd = models.currencyId('DZD');
  const company = reg.model('res.company').rows.get(1);
  if (!company) throw new Error('the sandbox has no company 1');
  reg.update(
    'res.company',
    company,
    { name: 'Sandbox SARL', currency_id: dzd, email: 'facturation@sandbox-sarl.example.com' },
    env,
  );
  const companyPartner = reg.model('res.partner').rows.get(1);
  if (companyPartner)
    reg.update('res.partner', companyPartner, { name: 'Sandbox SARL', complete_name: 'Sandbox SARL' }, env);
  const bank = [...reg.model('account.journal').rows.values()].find(
    (journal) => journal.company_id === 1 && journal.type === 'bank',
  );
  if (!bank) throw new Error('the sandbox company has no bank journal');
  const partnerIds = DEMO_PARTNERS.map((partner) => models.createPartner(partner));
  const count = options.invoices ?? 6;
  const today = new Date(`${reg.today()}T00:00:00Z`);
  const day = (offset: number): string =>
    new Date(today.getTime() + offset * 86_400_000).toISOString().slice(0, 10);
  const invoiceIds: number[] = [];
  for (let index = 0; index < count; index += 1) {
    const partnerId = partnerIds[index % partnerIds.length] ?? partnerIds[0] ?? 0;
    const amount = DEMO_AMOUNTS[index % DEMO_AMOUNTS.length] ?? '1000.00';
    invoiceIds.push(
      models.createInvoice({
        partnerId,
        companyId: 1,
        currency: 'DZD',
        amount,
        date: day(-(index % 10)),
        dueDate: day(15 + (index % 4) * 15),
      }),
    );
  }
  return { companyId: 1, bankJournalId: bank.id, partnerIds, invoiceIds };
}
