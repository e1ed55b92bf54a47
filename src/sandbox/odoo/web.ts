/**
 * The web client's side of Odoo: cookie sessions from /web/session/authenticate, the session
 * info it answers (same keys and types as real 18.0 / 19.0), and the invoice report as a PDF.
 */
import { randomBytes } from 'node:crypto';
import { serverVersion, versionInfo } from './dispatch.js';
import type { JsonObject } from './errors.js';
import { idList } from './fields.js';
import { formatAmount } from './models/invoice.js';
import { type InvoicePdfLine, renderInvoicePdf } from './pdf.js';
import type { Env, Registry } from './registry.js';

export interface WebSession {
  uid: number;
  db: string;
  login: string;
}

export class WebSessions {
  private readonly sessions = new Map<string, WebSession>();

  open(session: WebSession): string {
    const sid = randomBytes(30).toString('base64url');
    this.sessions.set(sid, session);
    return sid;
  }

  get(sid: string | undefined): WebSession | undefined {
    return sid === undefined ? undefined : this.sessions.get(sid);
  }

  close(sid: string | undefined): void {
    if (sid !== undefined) this.sessions.delete(sid);
  }
}

export function parseCookies(header: string | undefined): Record<string, string> {
  const cookies: Record<string, string> = {};
  for (const part of (header ?? '').split(';')) {
    const index = part.indexOf('=');
    if (index <= 0) continue;
    cookies[part.slice(0, index).trim()] = decodeURIComponent(part.slice(index + 1).trim());
  }
  return cookies;
}

export function sessionCookie(sid: string): string {
  const expires = new Date(Date.now() + 7 * 86_400_000).toUTCString();
  return `session_id=${sid}; Expires=${expires}; Max-Age=604800; HttpOnly; Path=/; SameSite=Lax`;
}

const VIEW_INFO: JsonObject = {
  list: { display_name: 'List', icon: 'oi oi-view-list', multi_record: true },
  form: { display_name: 'Form', icon: 'fa fa-address-card', multi_record: false },
  graph: { display_name: 'Graph', icon: 'fa fa-area-chart', multi_record: true },
  pivot: { display_name: 'Pivot', icon: 'oi oi-view-pivot', multi_record: true },
  calendar: { display_name: 'Calendar', icon: 'fa fa-calendar', multi_record: true },
  kanban: { display_name: 'Kanban', icon: 'oi oi-view-kanban', multi_record: true },
  search: { display_name: 'Search', icon: 'oi oi-search', multi_record: true },
  activity: { display_name: 'Activity', icon: 'fa fa-clock-o', multi_record: true },
};

function token(): string {
  return randomBytes(32).toString('hex');
}

/** The result of /web/session/authenticate: Odoo's session_info for the user. */
export function sessionInfo(reg: Registry, uid: number, db: string, baseUrl: string): JsonObject {
  // 16.0 and 17.0 were not captured here: they get 18.0's shape.
  const is18 = reg.traits.sessionInfoShape === 'up-to-18.0';
  const user = reg.model('res.users').rows.get(uid);
  const partnerId = typeof user?.partner_id === 'number' ? user.partner_id : false;
  const partner = typeof partnerId === 'number' ? reg.model('res.partner').rows.get(partnerId) : undefined;
  const companyIds = idList(user?.company_ids);
  const companies = reg.model('res.company');
  const allowed: JsonObject = {};
  const currencyIds = new Set<number>();
  for (const id of companyIds) {
    const company = companies.rows.get(id);
    if (!company) continue;
    const entry: JsonObject = {
      id,
      name: String(company.name),
      sequence: Number(company.sequence ?? 10),
      child_ids: [],
      parent_id: false,
    };
    if (!is18) entry.currency_id = company.currency_id ?? false;
    allowed[String(id)] = entry;
    if (typeof company.currency_id === 'number') currencyIds.add(company.currency_id);
  }
  // Odoo sends every active currency (res.currency.get_all_currencies), not only the companies' ones.
  for (const currency of reg.model('res.currency').rows.values())
    if (currency.active === true) currencyIds.add(currency.id);
  const currencies: JsonObject = {};
  for (const id of [...currencyIds].sort((a, b) => a - b)) {
    const currency = reg.model('res.currency').rows.get(id);
    if (!currency) continue;
    const entry: JsonObject = {
      symbol: String(currency.symbol),
      position: String(currency.position),
      digits: [69, Number(currency.decimal_places ?? 2)],
    };
    currencies[String(id)] = is18 ? entry : { name: String(currency.name), ...entry };
  }
  const userName = typeof user?.name === 'string' ? user.name : 'Administrator';
  const groups = reg.groupsOfUser(uid);
  const isSystem = groups.has('base.group_system');
  const isAdmin = groups.has('base.group_erp_manager');
  const writeDate = typeof partner?.write_date === 'string' ? partner.write_date : reg.now();
  const settings: JsonObject = is18
    ? {
        id: 1,
        user_id: { id: uid },
        is_discuss_sidebar_category_channel_open: true,
        is_discuss_sidebar_category_chat_open: true,
        push_to_talk_key: false,
        use_push_to_talk: false,
        voice_active_duration: 200,
        channel_notifications: false,
        mute_until_dt: false,
        volumes: [['ADD', []]],
      }
    : {
        id: 1,
        embedded_actions_config_ids: {},
        is_discuss_sidebar_category_channel_open: true,
        is_discuss_sidebar_category_chat_open: true,
        push_to_talk_key: false,
        use_push_to_talk: false,
        voice_active_duration: 200,
        channel_notifications: false,
        user_id: { id: uid },
        volumes: [['ADD', []]],
      };
  const bot: JsonObject = {
    active: false,
    avatar_128_access_token: token(),
    email: 'odoobot@example.com',
    id: 2,
    im_status: 'bot',
    is_company: false,
    name: 'OdooBot',
    write_date: writeDate,
  };
  const self: JsonObject = {
    active: true,
    avatar_128_access_token: token(),
    id: typeof partnerId === 'number' ? partnerId : 3,
    name: userName,
    write_date: writeDate,
  };
  const storeData: JsonObject = is18
    ? {
        Store: {
          action_discuss_id: 120,
          channel_types_with_seen_infos: ['chat', 'group'],
          hasGifPickerFeature: false,
          hasLinkPreviewFeature: true,
          hasMessageTranslationFeature: false,
          internalUserGroupId: 1,
          mt_comment_id: 1,
          odoobot: { id: 2, type: 'partner' },
          self: { id: self.id ?? 3, type: 'partner' },
          settings,
        },
        'res.partner': [
          { ...bot, isInternalUser: true, userId: 1 },
          {
            ...self,
            isAdmin,
            isInternalUser: true,
            notification_preference: 'email',
            signature: `<span data-o-mail-quote="1">-- <br data-o-mail-quote="1">${userName}</span>`,
            userId: uid,
          },
        ],
      }
    : {
        Store: {
          action_discuss_id: 119,
          channel_types_with_seen_infos: ['chat', 'group'],
          hasCannedResponses: true,
          hasGifPickerFeature: false,
          hasLinkPreviewFeature: true,
          hasMessageTranslationFeature: false,
          internalUserGroupId: 1,
          mt_comment: 1,
          mt_note: 2,
          odoobot: 2,
          self_partner: self.id ?? 3,
          settings,
        },
        'res.partner': [
          { ...bot, im_status_access_token: token(), main_user_id: 1 },
          { ...self, im_status: 'offline', im_status_access_token: token(), main_user_id: uid },
        ],
        'res.users': [
          { id: 1, share: false },
          {
            id: uid,
            is_admin: isAdmin,
            notification_type: 'email',
            share: false,
            signature: ['markup', `<div>${userName}</div>`],
          },
        ],
      };
  const info: JsonObject = {
    uid,
    is_system: isSystem,
    is_admin: isAdmin,
    is_public: false,
    is_internal_user: true,
    user_context: {
      lang: String(user?.lang || 'en_US'),
      tz: typeof user?.tz === 'string' && user.tz ? user.tz : false,
      uid,
    },
    db,
    ...(is18 ? {} : { registry_hash: token() }),
    user_settings: settings,
    server_version: serverVersion(reg),
    server_version_info: versionInfo(reg),
    support_url: 'https://www.odoo.com/buy',
    name: userName,
    username: String(user?.login ?? ''),
    ...(is18 ? {} : { quick_login: true }),
    partner_write_date: writeDate,
    partner_display_name:
      typeof partnerId === 'number' ? reg.displayName('res.partner', partnerId) : userName,
    partner_id: partnerId,
    'web.base.url': baseUrl,
    active_ids_limit: 20000,
    profile_session: null,
    profile_collectors: null,
    profile_params: null,
    max_file_upload_size: 134217728,
    home_action_id: false,
    ...(is18
      ? {
          cache_hashes: {
            translations: randomBytes(20).toString('hex'),
            load_menus: token(),
          },
        }
      : {}),
    currencies,
    bundle_params: { lang: String(user?.lang || 'en_US') },
    test_mode: false,
    view_info: VIEW_INFO,
    ...(is18 ? {} : { groups: { 'base.group_allow_export': isSystem } }),
    user_companies: {
      current_company: typeof user?.company_id === 'number' ? user.company_id : (companyIds[0] ?? 1),
      allowed_companies: allowed,
      disallowed_ancestor_companies: {},
    },
    show_effect: true,
    ...(is18 ? { display_switch_company_menu: companyIds.length > 1 } : {}),
    websocket_worker_version: reg.traits.websocketWorkerVersion,
    tour_enabled: false,
    current_tour: null,
    storeData,
    iap_company_enrich: true,
    can_insert_in_spreadsheet: false,
  };
  return info;
}

/** Companies of a web request: the `cids` cookie ("1-2" or "1,2") like the web client sets, else the user's company. */
export function webContext(cids: string | undefined): JsonObject {
  if (!cids) return {};
  const ids = cids
    .split(/[-,]/)
    .map((part) => Number.parseInt(part, 10))
    .filter((id) => Number.isInteger(id));
  return ids.length > 0 ? { allowed_company_ids: ids } : {};
}

/** /report/pdf/account.report_invoice/<ids>: reads the invoices with the user's rights, then renders them. */
export function invoiceReport(reg: Registry, env: Env, ids: readonly number[]): Buffer {
  const rows = reg.browse(env, 'account.move', ids);
  const lines: InvoicePdfLine[] = rows.map((row) => ({
    name: reg.displayName('account.move', row.id),
    company: typeof row.company_id === 'number' ? reg.displayName('res.company', row.company_id) : '',
    partner: typeof row.partner_id === 'number' ? reg.displayName('res.partner', row.partner_id) : '',
    amount: formatAmount(reg, row.currency_id, Number(row.amount_residual ?? 0)).replace('\u00a0', ' '),
    dueDate: typeof row.invoice_date_due === 'string' ? row.invoice_date_due : '',
    state: `${String(row.state)} / ${String(row.payment_state)}`,
  }));
  return renderInvoicePdf(lines);
}
