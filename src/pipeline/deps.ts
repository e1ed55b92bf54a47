import type { Invoice } from '../domain/invoice.js';
import type { Gateway } from '../gateways/gateway.js';
import type { Logger } from '../log.js';
import type { CursorRepository } from '../store/cursors.js';
import type { Db } from '../store/database.js';
import type { EventRepository } from '../store/events.js';
import type { LinkRepository, LinkRow } from '../store/links.js';
import type { NoteRepository } from '../store/notes.js';
import type { RunRepository } from '../store/runs.js';
import type { CompanyContact, InvoiceLedger } from './ports.js';

/** One Odoo company served by the daemon and the gateway account its invoices are paid through. */
export interface CompanyRoute {
  readonly companyId: number;
  readonly journalId: number;
  readonly gateway: Gateway;
  /** The company's account at the gateway (MyTPE: instance uuid). */
  readonly merchantAccount: string;
}

export interface PipelineSettings {
  /** Odoo database name, part of every link reference. */
  readonly database: string;
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
  /** Runs inside the transaction that records a new link, so its writes commit with it. */
  onLinkCreated?(link: LinkRow, context: { invoice: Invoice; company: CompanyContact }): void;
}

export interface PipelineDeps {
  readonly db: Db;
  readonly ledger: InvoiceLedger;
  readonly companies: readonly CompanyRoute[];
  readonly links: LinkRepository;
  readonly notes: NoteRepository;
  readonly events: EventRepository;
  readonly cursors: CursorRepository;
  readonly runs: RunRepository;
  readonly settings: PipelineSettings;
  readonly log: Logger;
  readonly now: () => number;
  /** Identifies this process's leases (host/pid/nonce). */
  readonly owner: string;
  readonly hooks?: PipelineHooks;
  readonly random?: () => number;
}
