import type { Invoice, PublishScope } from '../domain/invoice.js';
import type { Gateway } from '../gateways/gateway.js';
import type { Logger } from '../log.js';
import type { CursorRepository } from '../store/cursors.js';
import type { Db } from '../store/database.js';
import type { EventRepository } from '../store/events.js';
import type { LinkRepository, LinkRow } from '../store/links.js';
import type { NoteRepository } from '../store/notes.js';
import type { NoticeRepository } from '../store/notices.js';
import type { RunRepository } from '../store/runs.js';
import type { InvoiceRequestRepository, InvoiceStatusRepository } from '../store/statuses.js';
import type { Alerts } from './alerts.js';
import type { NoteStrings } from './notes.js';
import type { CompanyContact, InvoiceLedger } from './ports.js';
import type { ReminderSchedule } from './reminders.js';
import type { StepOutcome } from './steps.js';

/** One Odoo company served by the daemon and the gateway account its invoices are paid through. */
export interface CompanyRoute {
  readonly companyId: number;
  readonly journalId: number;
  readonly gateway: Gateway;
  /** The company's account at the gateway (MyTPE: instance uuid). */
  readonly merchantAccount: string;
}

/**
 * The Odoo database's reference prefix, known once the daemon has checked Odoo (it comes from
 * config, the store, or database.uuid); every link reference starts with it.
 */
export interface DatabaseIdentity {
  /** Throws when Odoo has not been checked yet. */
  readonly prefix: string;
}

export interface PipelineSettings {
  readonly concurrency: number;
  readonly batchSize: number;
  readonly cursorOverlapSeconds: number;
  readonly fullSweepMinutes: number;
  readonly maxAttempts: number;
  readonly backoffBaseMs: number;
  readonly backoffMaxMs: number;
  readonly leaseMs: number;
}

/** Hooks later features attach to without the pipeline knowing them (emails, metrics). */
export interface PipelineHooks {
  /**
   * Runs inside the transaction that records a new link, so its writes commit with it (the
   * invoice email, held until the link is on the invoice).
   */
  onLinkCreated?(link: LinkRow, context: { invoice: Invoice; company: CompanyContact }): void;
  /** Whether the customer will be emailed about this link once it is on the invoice. */
  emailWaitsFor?(link: LinkRow): boolean;
  /** Runs inside the transaction that records the link as shown on the invoice. */
  onLinkPublished?(link: LinkRow): void;
  /**
   * An accountant asked to email the link again (Action menu); runs inside the transaction that
   * records the request. Absent when customer emails are off.
   */
  onResendRequested?(link: LinkRow, context: { invoice: Invoice; company: CompanyContact }): void;
}

/**
 * What the pipeline tells an onlooker (metrics) without knowing it: called after the fact,
 * outside any transaction, and never allowed to change what happens.
 */
export interface PipelineObserver {
  /** What one advance of a link did, in order (`row` as claimed: its gateway and amount). */
  linkAdvanced?(row: LinkRow, outcomes: readonly StepOutcome[]): void;
  /** A pass ended: its kind (publish, confirm, events, …), how it ended and how long it took. */
  passFinished?(kind: string, outcome: 'ok' | 'partial' | 'failed', durationMs: number): void;
}

export interface PipelineDeps {
  readonly db: Db;
  readonly ledger: InvoiceLedger;
  readonly companies: readonly CompanyRoute[];
  readonly links: LinkRepository;
  readonly notes: NoteRepository;
  readonly notices: NoticeRepository;
  readonly alerts: Alerts;
  readonly identity: DatabaseIdentity;
  /** Which invoices the merchant lets the daemon link (filled in when Odoo is checked). */
  readonly scope: PublishScope;
  readonly events: EventRepository;
  readonly cursors: CursorRepository;
  readonly runs: RunRepository;
  readonly settings: PipelineSettings;
  readonly log: Logger;
  readonly now: () => number;
  /** Identifies this process's leases (host/pid/nonce). */
  readonly owner: string;
  readonly hooks?: PipelineHooks;
  readonly observer?: PipelineObserver;
  /** The invoice's stable pay address (the pay page), when http.publicUrl is set. */
  readonly payAddress?: (invoiceId: number) => string;
  /** The daemon's return and notice addresses for a gateway, when http.publicUrl is set. */
  readonly callbacks?: (gatewayId: string) => { returnUrl: string; notifyUrl: string };
  /** Reminder emails after the first one, when the merchant configured them. */
  readonly reminders?: ReminderSchedule;
  readonly random?: () => number;
  /** What each invoice shows of its online payment, and its To-Do when it needs a person. */
  readonly statuses: InvoiceStatusRepository;
  /** Requests from the invoice's Action menu already carried out. */
  readonly requests: InvoiceRequestRepository;
  /** To-Do activities for what needs a person (off: notes and the status only). */
  readonly activities?: {
    /** Who the To-Do is for: the configured user, else the invoice's responsible, else the bot. */
    assignee(invoice: { id: number; companyId: number }): Promise<number | null>;
  };
  /** The words of a company's chatter notes, in its accountants' language (English until Odoo is checked). */
  readonly noteStrings: (companyId: number) => NoteStrings;
}
