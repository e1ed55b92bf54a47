/**
 * What differs between the Odoo versions the sandbox emulates, in one table: each model reads
 * its version's traits (`reg.traits`) instead of comparing version strings. Every row is taken
 * from real answers (shared/odoo-captures/<version>, README "## 17.0" and "## 16.0").
 */

export const ODOO_VERSIONS = ['16.0', '17.0', '18.0', '19.0'] as const;
export type OdooVersion = (typeof ODOO_VERSIONS)[number];

/** Labels of res.groups: 16.0–18.0 name them "Category/Name", 19.0 has privileges. */
export type GroupLabelEra = 'category' | 'privilege';

export interface VersionTraits {
  /** common.version's server_version (the build the captures came from). */
  readonly serverVersion: string;
  /** JSON-2 (`/json/2/<model>/<method>`, `/json/version`) exists since 19.0. */
  readonly hasJson2: boolean;
  /** JSON-RPC `error.code` of an ordinary error: 200 up to 18.0, 0 on 19.0. */
  readonly rpcErrorCode: number;

  // account.payment
  /** The payment's reference field (the wizard's communication): `ref` up to 17.0, `memo` since 18.0. */
  readonly paymentReferenceField: 'ref' | 'memo';
  /** State of a payment the register wizard made: `posted` up to 17.0, `paid` since 18.0. */
  readonly registeredPaymentState: 'posted' | 'paid';
  /** State after action_post of a draft payment: `posted` up to 17.0, `in_process` since 18.0. */
  readonly postedPaymentState: 'posted' | 'in_process';
  /** State of a cancelled payment: `cancel` up to 17.0, `canceled` since 18.0. */
  readonly canceledPaymentState: 'cancel' | 'canceled';
  /** account.payment.state's label and selection as fields_get shows them. */
  readonly paymentStateLabel: string;
  readonly paymentStates: readonly (readonly [string, string])[];
  /**
   * Which captured fields_get catalogue account.payment and its register wizard answer with
   * (models/catalog.ts for 18.0/19.0, catalog-legacy.ts before: up to 17.0 account.payment
   * `_inherits` account.move, so it lists the move's fields too).
   */
  readonly paymentCatalogue: '16.0' | '17.0' | '18.0';
  /**
   * Labels of a payment's journal items (and so of invoice_payments_widget entries): since 18.0
   * "Manual Payment: <memo>", before "Customer Payment $ 120.00 - Deco Addict - 11/21/2026".
   */
  readonly paymentLineLabel: 'method-and-memo' | 'type-amount-partner-date';
  /** account.payment.invoice_ids (a stored many2many) exists since 18.0. */
  readonly hasInvoiceIds: boolean;
  /** The non-stored reconciled_invoice_ids can be searched on 19.0 only. */
  readonly reconciledInvoiceIdsSearchable: boolean;
  /** Name of a journal's manual payment method line, and whether its display name adds the journal. */
  readonly manualMethodLineName: 'Manual' | 'Manual Payment';
  readonly methodLineNameShowsJournal: boolean;

  // account.move
  /** account.move.matched_payment_ids exists since 18.0. */
  readonly hasMatchedPaymentIds: boolean;
  /** payment_state `blocked` exists since 18.0. */
  readonly hasBlockedPaymentState: boolean;
  /**
   * What a write of a locked field on a posted invoice meets: up to 17.0 only a reconciled entry
   * refuses it (33 vs 33x); since 18.0 every posted move does.
   */
  readonly postedMoveLock: 'reconciled-only' | 'posted';
  /** Each payment widget entry says whether it is a refund (19.0). */
  readonly paymentWidgetHasIsRefund: boolean;
  /** Text of the wizard's refusal when nothing is left to pay. */
  readonly nothingLeftToPay: string;

  // mail
  /** message_post returns [id] on 19.0, the id before. */
  readonly messagePostReturnsList: boolean;
  /** Up to 18.0 an author without email cannot post (51); 19.0 posts with email_from False. */
  readonly authorEmailRequired: boolean;
  /**
   * How a `str` body is stored: escaped unless `body_is_html` since 17.0; 16.0 has no such
   * parameter (its **kwargs swallow it) and keeps the body as HTML.
   */
  readonly messageBody: 'html' | 'escaped-unless-flag';

  // ORM and views
  /** get_views' models[model]: 17.0 gives the fields dict itself, 18.0+ `{fields, has_activities}`. */
  readonly getViewsShape: 'fields' | 'fields-and-activities';
  /** Field attributes carry `groupable` since 18.0. */
  readonly fieldsHaveGroupable: boolean;
  /** Every model has the magic `__last_update` field up to 16.0. */
  readonly hasLastUpdate: boolean;
  /**
   * A domain leaf on a non-stored field without a search method: up to 18.0 Odoo logs an ERROR
   * and drops the leaf (so the search returns too much, 58/58x); 19.0 raises ValueError.
   */
  readonly unsearchableLeafDropped: boolean;
  /**
   * search_read with an unknown field in both domain and fields: 18.0+ (search_fetch) names the
   * field, 17.0 (search, then read) the domain leaf (17.0/58b).
   */
  readonly searchReadChecksFieldsFirst: boolean;
  /**
   * An unknown field in a domain (17.0/58b "… in leaf (…)", 19.0/json2/63d "… in condition (…)")
   * and in read/search_read `fields` (16.0/57c "… on model 'm'", 19.0/json2/63e "… on 'm'").
   */
  readonly domainLeafWord: 'leaf' | 'condition';
  readonly fetchFieldModelWord: 'on model' | 'on';
  readonly unknownMethodMessage: (model: string, method: string) => string;
  /**
   * How an ir.actions.server `object_write` names what it sets: `fields_lines` (ir.server.object.lines
   * with col1/value/evaluation_type) on 16.0; 17.0 removed them for `update_path` + `value`
   * (odoo/odoo 0a744acc, odoo/documentation#17705).
   */
  readonly serverActionWrite: 'update_path' | 'fields_lines';
  readonly privateMethodMessage: (model: string, method: string) => string;

  // users, groups and the setup
  /** res.users' groups field: groups_id up to 18.0, group_ids since 19.0. */
  readonly userGroupsField: 'groups_id' | 'group_ids';
  /** The user's groups field lists implied groups too (up to 18.0). */
  readonly userGroupsIncludeImplied: boolean;
  readonly groupLabels: GroupLabelEra;
  /** A field-access refusal lists every refused field (up to 18.0) or names the first (19.0). */
  readonly fieldAccessErrorListsAll: boolean;
  /** The chart's outstanding accounts have codes (up to 18.0). */
  readonly outstandingAccountsHaveCodes: boolean;
  /** A fresh database's sale journal. */
  readonly saleJournalName: string;
  /** A fresh database has a cash journal (up to 18.0). */
  readonly hasCashJournal: boolean;
  /** The identity check action's name and whether it asks for a medium dialog (19.0). */
  readonly identityCheckTitle: string;
  readonly identityCheckDialogSize: boolean;
  /** Whether the receipts-only `invisible` of account.move's payment_reference lists out_invoice (up to 17.0). */
  readonly moveFormPaymentReferenceTypes: string;
  /** /web/session/authenticate's session_info: 19.0 changed it (settings, currencies, store). */
  readonly sessionInfoShape: 'up-to-18.0' | '19.0';
  /** session_info's websocket_worker_version (16.0/17.0 not captured). */
  readonly websocketWorkerVersion: string;
}

const PAYMENT_STATES_UP_TO_17 = [
  ['draft', 'Draft'],
  ['posted', 'Posted'],
  ['cancel', 'Cancelled'],
] as const;

const PAYMENT_STATES_SINCE_18 = [
  ['draft', 'Draft'],
  ['in_process', 'In Process'],
  ['paid', 'Paid'],
  ['canceled', 'Canceled'],
  ['rejected', 'Rejected'],
] as const;

const NOTHING_LEFT_TO_PAY =
  "You can't register a payment because there is nothing left to pay on the selected journal items.";

const V17: VersionTraits = {
  serverVersion: '17.0',
  hasJson2: false,
  rpcErrorCode: 200,
  paymentReferenceField: 'ref',
  registeredPaymentState: 'posted',
  postedPaymentState: 'posted',
  canceledPaymentState: 'cancel',
  paymentStateLabel: 'Status',
  paymentStates: PAYMENT_STATES_UP_TO_17,
  paymentCatalogue: '17.0',
  paymentLineLabel: 'type-amount-partner-date',
  hasInvoiceIds: false,
  reconciledInvoiceIdsSearchable: false,
  manualMethodLineName: 'Manual',
  methodLineNameShowsJournal: false,
  hasMatchedPaymentIds: false,
  hasBlockedPaymentState: false,
  postedMoveLock: 'reconciled-only',
  paymentWidgetHasIsRefund: false,
  nothingLeftToPay: NOTHING_LEFT_TO_PAY,
  messagePostReturnsList: false,
  authorEmailRequired: true,
  messageBody: 'escaped-unless-flag',
  getViewsShape: 'fields',
  fieldsHaveGroupable: false,
  hasLastUpdate: false,
  unsearchableLeafDropped: true,
  searchReadChecksFieldsFirst: false,
  domainLeafWord: 'leaf',
  fetchFieldModelWord: 'on model',
  serverActionWrite: 'update_path',
  unknownMethodMessage: (model, method) => `The method '${method}' does not exist on the model '${model}'`,
  privateMethodMessage: (_model, method) => `Private methods (such as ${method}) cannot be called remotely.`,
  userGroupsField: 'groups_id',
  userGroupsIncludeImplied: true,
  groupLabels: 'category',
  fieldAccessErrorListsAll: true,
  outstandingAccountsHaveCodes: true,
  saleJournalName: 'Customer Invoices',
  hasCashJournal: true,
  identityCheckTitle: 'Security Control',
  identityCheckDialogSize: false,
  moveFormPaymentReferenceTypes:
    "('out_invoice', 'out_refund', 'in_invoice', 'in_refund', 'out_receipt', 'in_receipt')",
  sessionInfoShape: 'up-to-18.0',
  websocketWorkerVersion: '17.0-1',
};

const V18: VersionTraits = {
  ...V17,
  serverVersion: '18.0-20250702',
  paymentReferenceField: 'memo',
  registeredPaymentState: 'paid',
  postedPaymentState: 'in_process',
  canceledPaymentState: 'canceled',
  paymentStateLabel: 'State',
  paymentStates: PAYMENT_STATES_SINCE_18,
  paymentCatalogue: '18.0',
  paymentLineLabel: 'method-and-memo',
  hasInvoiceIds: true,
  manualMethodLineName: 'Manual Payment',
  methodLineNameShowsJournal: true,
  hasMatchedPaymentIds: true,
  hasBlockedPaymentState: true,
  searchReadChecksFieldsFirst: true,
  postedMoveLock: 'posted',
  getViewsShape: 'fields-and-activities',
  fieldsHaveGroupable: true,
  unknownMethodMessage: (model, method) => `The method '${model}.${method}' does not exist`,
  privateMethodMessage: (model, method) =>
    `Private methods (such as '${model}.${method}') cannot be called remotely.`,
  moveFormPaymentReferenceTypes: "('in_invoice', 'in_refund', 'out_receipt', 'in_receipt')",
  websocketWorkerVersion: '18.0-5',
};

export const VERSION_TRAITS: { readonly [version in OdooVersion]: VersionTraits } = {
  '16.0': {
    ...V17,
    serverVersion: '16.0',
    paymentCatalogue: '16.0',
    hasLastUpdate: true,
    messageBody: 'html',
    serverActionWrite: 'fields_lines',
  },
  '17.0': V17,
  '18.0': V18,
  '19.0': {
    ...V18,
    serverVersion: '19.0-20251227',
    hasJson2: true,
    rpcErrorCode: 0,
    reconciledInvoiceIdsSearchable: true,
    unsearchableLeafDropped: false,
    domainLeafWord: 'condition',
    fetchFieldModelWord: 'on',
    paymentWidgetHasIsRefund: true,
    nothingLeftToPay:
      "There's nothing left to pay for the selected journal items, so no payment registration is necessary. You've got your finances under control like a boss!",
    messagePostReturnsList: true,
    authorEmailRequired: false,
    userGroupsField: 'group_ids',
    userGroupsIncludeImplied: false,
    groupLabels: 'privilege',
    fieldAccessErrorListsAll: false,
    outstandingAccountsHaveCodes: false,
    saleJournalName: 'Sales',
    hasCashJournal: false,
    identityCheckTitle: 'Access Control',
    identityCheckDialogSize: true,
    moveFormPaymentReferenceTypes: "('in_invoice', 'in_refund', 'in_receipt')",
    sessionInfoShape: '19.0',
    websocketWorkerVersion: '19.0-2',
  },
};

export function traitsOf(version: OdooVersion): VersionTraits {
  return VERSION_TRAITS[version];
}
