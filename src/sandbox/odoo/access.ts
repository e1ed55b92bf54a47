/**
 * Users' groups and access rights the way Odoo checks them for a non-superuser call: the groups
 * the sandbox knows (with their implications and labels per version), the model access table
 * (Odoo's ir.model.access.csv, reduced to what a payment connector meets) and the AccessError
 * texts, copied from real 18.0/19.0 answers (shared/odoo-captures 53, 53b, 53c, 60f, 62, 62e).
 */
import { accessError, type OdooError } from './errors.js';
import { type GroupLabelEra, type OdooVersion, traitsOf } from './versions.js';

export type Operation = 'read' | 'write' | 'create' | 'unlink';

export const GROUP_XMLIDS = [
  'base.group_user',
  'account.group_account_invoice',
  'account.group_account_manager',
  'base.group_erp_manager',
  'base.group_system',
] as const;
export type GroupXmlid = (typeof GROUP_XMLIDS)[number];

export interface GroupSpec {
  readonly xmlid: GroupXmlid;
  /**
   * Category (the module category up to 18.0, Odoo 19's privilege) and name; no category shows
   * the name alone.
   */
  readonly label: { readonly [era in GroupLabelEra]: readonly [string | false, string] };
  readonly implied: readonly GroupXmlid[];
  /** res.groups.api_key_duration: the longest API key (days) a member may make himself. */
  readonly apiKeyDays: number;
}

/**
 * Labels of Administration/Access Rights and /Settings (18.0) and "Access Rights" and
 * "Role / Administrator" (19.0) are the captured ones; the others follow the same pattern.
 */
export const GROUPS: { readonly [xmlid in GroupXmlid]: GroupSpec } = {
  'base.group_user': {
    xmlid: 'base.group_user',
    label: { category: ['User types', 'Internal User'], privilege: ['Role', 'User'] },
    implied: [],
    // README of the captures: "90" is the most an Internal User may have.
    apiKeyDays: 90,
  },
  'account.group_account_invoice': {
    xmlid: 'account.group_account_invoice',
    label: { category: ['Invoicing', 'Billing'], privilege: ['Invoicing', 'Billing'] },
    implied: ['base.group_user'],
    apiKeyDays: 0,
  },
  'account.group_account_manager': {
    xmlid: 'account.group_account_manager',
    label: { category: ['Invoicing', 'Administrator'], privilege: ['Invoicing', 'Administrator'] },
    implied: ['account.group_account_invoice'],
    apiKeyDays: 0,
  },
  'base.group_erp_manager': {
    xmlid: 'base.group_erp_manager',
    label: { category: ['Administration', 'Access Rights'], privilege: [false, 'Access Rights'] },
    implied: ['base.group_user'],
    apiKeyDays: 0,
  },
  'base.group_system': {
    xmlid: 'base.group_system',
    label: { category: ['Administration', 'Settings'], privilege: ['Role', 'Administrator'] },
    implied: ['base.group_erp_manager'],
    apiKeyDays: 0,
  },
};

/** Short names for scene helpers: `createUser({ groups: ['billing'] })`. */
export const USER_GROUP_NAMES = {
  internal: ['base.group_user'],
  billing: ['account.group_account_invoice'],
  accountant: ['account.group_account_manager'],
  accessRights: ['base.group_erp_manager'],
  settings: ['base.group_system'],
  admin: ['account.group_account_manager', 'base.group_system'],
} as const satisfies { [name: string]: readonly GroupXmlid[] };
export type UserGroupName = keyof typeof USER_GROUP_NAMES;

/** The groups and every group they imply. */
export function groupClosure(groups: Iterable<GroupXmlid>): Set<GroupXmlid> {
  const closure = new Set<GroupXmlid>();
  const pending = [...groups];
  for (let group = pending.pop(); group !== undefined; group = pending.pop()) {
    if (closure.has(group)) continue;
    closure.add(group);
    pending.push(...GROUPS[group].implied);
  }
  return closure;
}

/** "Category / Name" (res.groups.full_name), or the name alone. */
export function groupFullName(xmlid: GroupXmlid, era: GroupLabelEra): string {
  const [category, name] = GROUPS[xmlid].label[era];
  return category ? `${category} / ${name}` : name;
}

type ModelAccess = { readonly [operation in Operation]?: readonly GroupXmlid[] };

const EVERYTHING = (groups: readonly GroupXmlid[]): ModelAccess => ({
  read: groups,
  write: groups,
  create: groups,
  unlink: groups,
});
const READ_BY = (reader: readonly GroupXmlid[], editor: readonly GroupXmlid[]): ModelAccess => ({
  read: reader,
  write: editor,
  create: editor,
  unlink: editor,
});

const BILLING: readonly GroupXmlid[] = ['account.group_account_invoice'];
const ACCOUNT_MANAGER: readonly GroupXmlid[] = ['account.group_account_manager'];
const INTERNAL: readonly GroupXmlid[] = ['base.group_user'];
const ACCESS_RIGHTS: readonly GroupXmlid[] = ['base.group_erp_manager'];
const SETTINGS: readonly GroupXmlid[] = ['base.group_system'];

/**
 * Which groups hold each right on a model, as Odoo's ir.model.access rows grant them. A model
 * missing here, or an operation missing on a model, is open to every internal user (the
 * sandbox has no portal or public users).
 */
export const MODEL_ACCESS: { readonly [model: string]: ModelAccess } = {
  // 53, 53b, 53c: the Billing bot may not even read the model catalogue.
  'ir.model': EVERYTHING(ACCESS_RIGHTS),
  'ir.model.fields': EVERYTHING(ACCESS_RIGHTS),
  'ir.model.data': READ_BY(INTERNAL, ACCESS_RIGHTS),
  // 62, 62c, 62e: get_param and search_read alike.
  'ir.config_parameter': EVERYTHING(SETTINGS),
  'ir.ui.view': READ_BY(INTERNAL, SETTINGS),
  // Server actions are made by administrators; users run them from the Action menu.
  'ir.actions.server': EVERYTHING(SETTINGS),
  'ir.server.object.lines': EVERYTHING(SETTINGS),
  'mail.activity.type': READ_BY(INTERNAL, SETTINGS),
  'mail.tracking.value': EVERYTHING(SETTINGS),
  'mail.message.subtype': READ_BY(INTERNAL, SETTINGS),
  'res.users': READ_BY(INTERNAL, ACCESS_RIGHTS),
  'res.groups': READ_BY(INTERNAL, ACCESS_RIGHTS),
  'res.company': READ_BY(INTERNAL, ACCESS_RIGHTS),
  // Every internal user reads partner tags; changing them is for contact managers.
  'res.partner.category': READ_BY(INTERNAL, ACCESS_RIGHTS),
  'res.currency': READ_BY(INTERNAL, [...ACCOUNT_MANAGER, ...SETTINGS]),
  'res.currency.rate': READ_BY(INTERNAL, [...ACCOUNT_MANAGER, ...SETTINGS]),
  'account.move': EVERYTHING(BILLING),
  'account.move.line': EVERYTHING(BILLING),
  'account.payment': EVERYTHING(BILLING),
  'account.payment.register': EVERYTHING(BILLING),
  'account.move.reversal': EVERYTHING(BILLING),
  'account.partial.reconcile': EVERYTHING(BILLING),
  'account.journal': READ_BY(BILLING, ACCOUNT_MANAGER),
  'account.account': READ_BY(BILLING, ACCOUNT_MANAGER),
  'account.payment.method.line': READ_BY(BILLING, ACCOUNT_MANAGER),
  // mail: employees read templates and may change only their own (mail_template_employee_rule;
  // ours is the administrator's), use the composer, never touch mail.mail or mail servers.
  'mail.template': READ_BY(INTERNAL, SETTINGS),
  'mail.compose.message': { read: INTERNAL, write: INTERNAL, create: INTERNAL, unlink: SETTINGS },
  'mail.mail': EVERYTHING(SETTINGS),
  'ir.mail_server': EVERYTHING(SETTINGS),
  'ir.actions.report': READ_BY(INTERNAL, SETTINGS),
};

export function groupsAllowed(model: string, operation: Operation): readonly GroupXmlid[] | undefined {
  return MODEL_ACCESS[model]?.[operation];
}

const ACCESS_ERROR_HEADER: { [operation in Operation]: string } = {
  read: 'You are not allowed to access',
  write: 'You are not allowed to modify',
  create: 'You are not allowed to create',
  unlink: 'You are not allowed to delete',
};

/** ir.model.access's refusal; up to 18.0 it lists groups as "Category/Name", 19.0 as their display name. */
export function modelAccessError(
  version: OdooVersion,
  model: string,
  description: string,
  operation: Operation,
  groups: readonly GroupXmlid[],
): OdooError {
  const era = traitsOf(version).groupLabels;
  const labels = groups
    .map((xmlid) => {
      const [category, name] = GROUPS[xmlid].label[era];
      if (!category) return name;
      return era === 'category' ? `${category}/${name}` : `${category} / ${name}`;
    })
    .sort();
  const groupInfo =
    labels.length > 0
      ? `This operation is allowed for the following groups:\n${labels.map((label) => `\t- ${label}`).join('\n')}`
      : 'No group currently allows this operation.';
  return accessError(
    `${ACCESS_ERROR_HEADER[operation]} '${description}' (${model}) records.\n\n${groupInfo}\n\n` +
      'Contact your administrator to request access if necessary.',
  );
}

/**
 * A field restricted to groups (`groups=` on the field): 18.0 lists every refused field, 19.0
 * names the first one. Both show the user and groups, as for an internal user (who has
 * Technical Features in Odoo).
 */
export function fieldAccessError(
  version: OdooVersion,
  model: string,
  description: string,
  uid: number,
  operation: 'read' | 'write',
  fields: readonly { name: string; groups: readonly GroupXmlid[] }[],
): OdooError {
  const traits = traitsOf(version);
  const allowed = (groups: readonly GroupXmlid[]) =>
    `allowed for groups ${groups.map((xmlid) => `'${groupFullName(xmlid, traits.groupLabels)}'`).join(', ')}`;
  if (traits.fieldAccessErrorListsAll) {
    return accessError(
      `You do not have enough rights to access the fields "${fields.map((field) => field.name).join(',')}" on ${description} (${model}). Please contact your system administrator.\n\n` +
        `Operation: ${operation}\nUser: ${uid}\nFields:\n` +
        fields.map((field) => `- ${field.name} (${allowed(field.groups)})`).join('\n'),
    );
  }
  const [first] = fields;
  return accessError(
    `You do not have enough rights to access the field "${first?.name ?? ''}" on ${description} (${model}). Please contact your system administrator.\n\n` +
      `Operation: ${operation}\nUser: ${uid}\nGroups: ${allowed(first?.groups ?? [])}`,
  );
}
