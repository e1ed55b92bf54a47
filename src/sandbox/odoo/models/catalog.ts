/**
 * Field catalogues of account.payment and account.payment.register as Odoo 18.0/19.0 describe them
 * (fields_get in shared/odoo-captures). The sandbox computes the fields a connector uses; the others
 * exist so fields_get and read answer with the same keys as Odoo, holding empty values.
 */
import type { FieldDef, FieldType, Selection } from '../fields.js';

export type CatalogueEntry = readonly [
  name: string,
  type: FieldType,
  label: string,
  extra?: { selection?: Selection; required?: boolean },
];

const PAYMENT: readonly CatalogueEntry[] = [
  ['activity_ids', 'one2many', 'Activities'],
  [
    'activity_state',
    'selection',
    'Activity State',
    {
      selection: [
        ['overdue', 'Overdue'],
        ['today', 'Today'],
        ['planned', 'Planned'],
      ],
    },
  ],
  ['activity_user_id', 'many2one', 'Responsible User'],
  ['activity_type_id', 'many2one', 'Next Activity Type'],
  ['activity_type_icon', 'char', 'Activity Type Icon'],
  ['activity_date_deadline', 'date', 'Next Activity Deadline'],
  ['my_activity_date_deadline', 'date', 'My Activity Deadline'],
  ['activity_summary', 'char', 'Next Activity Summary'],
  [
    'activity_exception_decoration',
    'selection',
    'Activity Exception Decoration',
    {
      selection: [
        ['warning', 'Alert'],
        ['danger', 'Error'],
      ],
    },
  ],
  ['activity_exception_icon', 'char', 'Icon'],
  ['message_is_follower', 'boolean', 'Is Follower'],
  ['message_follower_ids', 'one2many', 'Followers'],
  ['message_partner_ids', 'many2many', 'Followers (Partners)'],
  ['message_ids', 'one2many', 'Messages'],
  ['has_message', 'boolean', 'Has Message'],
  ['message_needaction', 'boolean', 'Action Needed'],
  ['message_needaction_counter', 'integer', 'Number of Actions'],
  ['message_has_error', 'boolean', 'Message Delivery error'],
  ['message_has_error_counter', 'integer', 'Number of errors'],
  ['message_attachment_count', 'integer', 'Attachment Count'],
  ['website_message_ids', 'one2many', 'Website Messages'],
  ['message_has_sms_error', 'boolean', 'SMS Delivery error'],
  ['message_main_attachment_id', 'many2one', 'Main Attachment'],
  ['name', 'char', 'Number'],
  ['date', 'date', 'Date'],
  ['move_id', 'many2one', 'Journal Entry'],
  ['journal_id', 'many2one', 'Journal'],
  ['company_id', 'many2one', 'Company'],
  [
    'state',
    'selection',
    'State',
    {
      selection: [
        ['draft', 'Draft'],
        ['in_process', 'In Process'],
        ['paid', 'Paid'],
        ['canceled', 'Canceled'],
        ['rejected', 'Rejected'],
      ],
    },
  ],
  ['is_reconciled', 'boolean', 'Is Reconciled'],
  ['is_matched', 'boolean', 'Is Matched With a Bank Statement'],
  ['is_sent', 'boolean', 'Is Sent'],
  ['available_partner_bank_ids', 'many2many', 'Available Partner Bank'],
  ['partner_bank_id', 'many2one', 'Recipient Bank Account'],
  ['qr_code', 'html', 'QR Code URL'],
  ['paired_internal_transfer_payment_id', 'many2one', 'Paired Internal Transfer Payment'],
  ['payment_method_line_id', 'many2one', 'Payment Method'],
  ['available_payment_method_line_ids', 'many2many', 'Available Payment Method Line'],
  ['payment_method_id', 'many2one', 'Method'],
  ['available_journal_ids', 'many2many', 'Available Journal'],
  ['amount', 'monetary', 'Amount'],
  [
    'payment_type',
    'selection',
    'Payment Type',
    {
      selection: [
        ['outbound', 'Send'],
        ['inbound', 'Receive'],
      ],
    },
  ],
  [
    'partner_type',
    'selection',
    'Partner Type',
    {
      selection: [
        ['customer', 'Customer'],
        ['supplier', 'Vendor'],
      ],
    },
  ],
  ['memo', 'char', 'Memo'],
  ['payment_reference', 'char', 'Payment Reference'],
  ['currency_id', 'many2one', 'Currency'],
  ['company_currency_id', 'many2one', 'Company Currency'],
  ['partner_id', 'many2one', 'Customer/Vendor'],
  ['outstanding_account_id', 'many2one', 'Outstanding Account'],
  ['destination_account_id', 'many2one', 'Destination Account'],
  ['invoice_ids', 'many2many', 'Invoices'],
  ['reconciled_invoice_ids', 'many2many', 'Reconciled Invoices'],
  ['reconciled_invoices_count', 'integer', '# Reconciled Invoices'],
  [
    'reconciled_invoices_type',
    'selection',
    'Reconciled Invoices Type',
    {
      selection: [
        ['credit_note', 'Credit Note'],
        ['invoice', 'Invoice'],
      ],
    },
  ],
  ['reconciled_bill_ids', 'many2many', 'Reconciled Bills'],
  ['reconciled_bills_count', 'integer', '# Reconciled Bills'],
  ['reconciled_statement_line_ids', 'many2many', 'Reconciled Statement Lines'],
  ['reconciled_statement_lines_count', 'integer', '# Reconciled Statement Lines'],
  ['payment_method_code', 'char', 'Code'],
  ['payment_receipt_title', 'char', 'Payment Receipt Title'],
  ['need_cancel_request', 'boolean', 'Need Cancel Request'],
  ['show_partner_bank_account', 'boolean', 'Show Partner Bank Account'],
  ['require_partner_bank_account', 'boolean', 'Require Partner Bank Account'],
  ['country_code', 'char', 'Country Code'],
  ['amount_signed', 'monetary', 'Amount Signed'],
  ['amount_company_currency_signed', 'monetary', 'Amount Company Currency Signed'],
  ['duplicate_payment_ids', 'many2many', 'Duplicate Payment'],
  ['attachment_ids', 'one2many', 'Attachments'],
  ['payment_transaction_id', 'many2one', 'Payment Transaction'],
  ['payment_token_id', 'many2one', 'Saved Payment Token'],
  ['amount_available_for_refund', 'monetary', 'Amount Available For Refund'],
  ['suitable_payment_token_ids', 'many2many', 'Suitable Payment Token'],
  ['use_electronic_payment_method', 'boolean', 'Use Electronic Payment Method'],
  ['source_payment_id', 'many2one', 'Source Payment'],
  ['refunds_count', 'integer', 'Refunds Count'],
];

const PAYMENT_REGISTER: readonly CatalogueEntry[] = [
  ['payment_date', 'date', 'Payment Date', { required: true }],
  ['amount', 'monetary', 'Amount'],
  ['hide_writeoff_section', 'boolean', 'Hide Writeoff Section'],
  ['communication', 'char', 'Memo'],
  ['group_payment', 'boolean', 'Group Payments'],
  ['early_payment_discount_mode', 'boolean', 'Early Payment Discount Mode'],
  ['currency_id', 'many2one', 'Currency'],
  ['journal_id', 'many2one', 'Journal'],
  ['available_journal_ids', 'many2many', 'Available Journal'],
  ['available_partner_bank_ids', 'many2many', 'Available Partner Bank'],
  ['partner_bank_id', 'many2one', 'Recipient Bank Account'],
  ['company_currency_id', 'many2one', 'Company Currency'],
  ['qr_code', 'html', 'QR Code URL'],
  ['batches', 'binary', 'Batches'],
  [
    'installments_mode',
    'selection',
    'Installments Mode',
    {
      selection: [
        ['next', 'Next Installment'],
        ['overdue', 'Overdue Amount'],
        ['before_date', 'Before Next Payment Date'],
        ['full', 'Full Amount'],
      ],
    },
  ],
  ['installments_switch_html', 'html', 'Installments Switch Html'],
  ['installments_switch_amount', 'monetary', 'Installments Switch Amount'],
  ['custom_user_amount', 'monetary', 'Custom User Amount'],
  ['custom_user_currency_id', 'many2one', 'Custom User Currency'],
  ['line_ids', 'many2many', 'Journal items'],
  [
    'payment_type',
    'selection',
    'Payment Type',
    {
      selection: [
        ['outbound', 'Send Money'],
        ['inbound', 'Receive Money'],
      ],
    },
  ],
  [
    'partner_type',
    'selection',
    'Partner Type',
    {
      selection: [
        ['customer', 'Customer'],
        ['supplier', 'Vendor'],
      ],
    },
  ],
  ['source_amount', 'monetary', 'Amount to Pay (company currency)'],
  ['source_amount_currency', 'monetary', 'Amount to Pay (foreign currency)'],
  ['source_currency_id', 'many2one', 'Source Currency'],
  ['can_edit_wizard', 'boolean', 'Can Edit Wizard'],
  ['can_group_payments', 'boolean', 'Can Group Payments'],
  ['company_id', 'many2one', 'Company'],
  ['partner_id', 'many2one', 'Customer/Vendor'],
  ['payment_method_line_id', 'many2one', 'Payment Method'],
  ['available_payment_method_line_ids', 'many2many', 'Available Payment Method Line'],
  ['payment_difference', 'monetary', 'Payment Difference'],
  [
    'payment_difference_handling',
    'selection',
    'Payment Difference Handling',
    {
      selection: [
        ['open', 'Keep open'],
        ['reconcile', 'Mark as fully paid'],
      ],
    },
  ],
  ['writeoff_account_id', 'many2one', 'Difference Account'],
  ['writeoff_label', 'char', 'Journal Item Label'],
  ['writeoff_is_exchange_account', 'boolean', 'Writeoff Is Exchange Account'],
  ['show_payment_difference', 'boolean', 'Show Payment Difference'],
  ['show_partner_bank_account', 'boolean', 'Show Partner Bank Account'],
  ['require_partner_bank_account', 'boolean', 'Require Partner Bank Account'],
  ['country_code', 'char', 'Country Code'],
  ['duplicate_payment_ids', 'many2many', 'Duplicate Payment'],
  ['is_register_payment_on_draft', 'boolean', 'Is Register Payment On Draft'],
  ['actionable_errors', 'json', 'Actionable Errors'],
  ['untrusted_bank_ids', 'many2many', 'Untrusted Bank'],
  ['total_payments_amount', 'integer', 'Total Payments Amount'],
  ['untrusted_payments_count', 'integer', 'Untrusted Payments Count'],
  ['missing_account_partners', 'many2many', 'Missing Account Partners'],
  ['payment_token_id', 'many2one', 'Saved payment token'],
  ['suitable_payment_token_ids', 'many2many', 'Suitable Payment Token'],
  ['use_electronic_payment_method', 'boolean', 'Use Electronic Payment Method'],
  ['payment_method_code', 'char', 'Code'],
];

export function toFields(entries: readonly CatalogueEntry[]): { [name: string]: FieldDef } {
  const fields: { [name: string]: FieldDef } = {};
  for (const [name, type, label, extra] of entries) {
    fields[name] = {
      type,
      string: label,
      ...(extra?.selection ? { selection: extra.selection } : {}),
      ...(extra?.required ? { required: true } : {}),
    };
  }
  return fields;
}

export const PAYMENT_FIELDS = toFields(PAYMENT);
export const PAYMENT_REGISTER_FIELDS = toFields(PAYMENT_REGISTER);
