import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';
import type { GatewayCall } from '../gateways/observed-fetch.js';
/** What a webhook delivery came to at the door (src/http/server.ts). */
import type { WebhookVerdict } from '../http/server.js';
import type { OdooCall } from '../odoo/observed.js';
import type { PipelineObserver } from '../pipeline/deps.js';
import type { StepOutcome } from '../pipeline/steps.js';
import type { LinkRow } from '../store/links.js';
import { Reachability } from './reachability.js';

export type { WebhookVerdict };

/** What the store says at scrape time; read only when Prometheus asks. */
export interface MetricSources {
  linksByState(): ReadonlyArray<{ state: string; count: number }>;
  /** Epoch ms of the oldest link waiting for its customer, if any. */
  oldestOpenLinkCreatedAt(): number | undefined;
  eventsByState(): ReadonlyArray<{ state: string; count: number }>;
  pendingNotes(): number;
  unshownStatuses(): number;
  /** The email outbox by state, when customer emails are on. */
  emailsByState(): Readonly<Record<string, number>> | undefined;
  /** False once the store is closed: nothing is read from it then. */
  storeOpen(): boolean;
  now(): number;
}

export interface Metrics {
  /** This app's own registry (never the global default: tests run several apps in one process). */
  readonly registry: Registry;
  readonly pipeline: PipelineObserver;
  odooCall(call: OdooCall): void;
  gatewayCall(call: GatewayCall): void;
  webhook(gateway: string, verdict: WebhookVerdict): void;
  /** Whether the latest calls to Odoo and to each gateway got answers (for /readyz). */
  readonly reachability: Reachability;
  /** The scrape body and its content type. */
  scrape(): Promise<{ contentType: string; body: string }>;
}

const CALL_BUCKETS = [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];
const PASS_BUCKETS = [0.05, 0.1, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300];

/**
 * The daemon's Prometheus metrics. The core never imports prom-client: it calls the observers
 * here (transport decorator, observed fetch, pipeline observer, webhook verdicts), and the
 * gauges read the store when scraped.
 */
export function createMetrics(sources: MetricSources): Metrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const reachability = new Reachability();
  const readStore = <T>(read: () => T, fallback: T): T => (sources.storeOpen() ? read() : fallback);

  new Gauge({
    name: 'paylink_links',
    help: 'Payment links in the store, by state.',
    labelNames: ['state'],
    registers: [registry],
    collect() {
      this.reset();
      for (const { state, count } of readStore(() => sources.linksByState(), [])) this.set({ state }, count);
    },
  });
  new Gauge({
    name: 'paylink_oldest_open_link_age_seconds',
    help: 'Age of the oldest link still waiting for its customer (0 when none).',
    registers: [registry],
    collect() {
      const at = readStore(() => sources.oldestOpenLinkCreatedAt(), undefined);
      this.set(at === undefined ? 0 : Math.max(0, (sources.now() - at) / 1000));
    },
  });
  new Gauge({
    name: 'paylink_queue_depth',
    help: 'Work waiting in the store: emails to send, chatter notes and invoice statuses to write to Odoo, webhook events to handle.',
    labelNames: ['queue'],
    registers: [registry],
    collect() {
      if (!sources.storeOpen()) return;
      const emails = sources.emailsByState();
      this.set({ queue: 'outbox' }, emails ? (emails.queued ?? 0) + (emails.sending ?? 0) : 0);
      this.set({ queue: 'notes' }, sources.pendingNotes());
      this.set({ queue: 'statuses' }, sources.unshownStatuses());
      const pending = sources.eventsByState().find((row) => row.state === 'pending');
      this.set({ queue: 'events' }, pending?.count ?? 0);
    },
  });
  new Gauge({
    name: 'paylink_emails',
    help: 'Customer emails in the outbox, by outcome (sent, failed, no_recipient, dropped, queued, sending).',
    labelNames: ['state'],
    registers: [registry],
    collect() {
      this.reset();
      const emails = readStore(() => sources.emailsByState(), undefined);
      for (const [state, count] of Object.entries(emails ?? {})) this.set({ state }, count);
    },
  });

  const linksCreated = new Counter({
    name: 'paylink_links_created_total',
    help: 'Payment links created at a gateway by this process.',
    labelNames: ['gateway'],
    registers: [registry],
  });
  const paymentsRegistered = new Counter({
    name: 'paylink_payments_registered_total',
    help: 'Payments registered on their invoice in Odoo by this process.',
    labelNames: ['gateway', 'currency'],
    registers: [registry],
  });
  // Minor units (cents, centimes), integers: exact, and summed without float arithmetic on
  // amounts; a dashboard divides by the currency's decimals only to display them.
  const amountRegistered = new Counter({
    name: 'paylink_payments_registered_minor_units_total',
    help: 'Sum of the payments registered in Odoo, in the currency minor units (e.g. cents).',
    labelNames: ['gateway', 'currency'],
    registers: [registry],
  });
  const linkOutcomes = new Counter({
    name: 'paylink_link_outcomes_total',
    help: 'What the steps did to links (created, written_back, paid, registered, retry, failed, ...).',
    labelNames: ['gateway', 'outcome'],
    registers: [registry],
  });
  const webhooks = new Counter({
    name: 'paylink_webhooks_total',
    help: 'Webhook deliveries received, by verdict.',
    labelNames: ['gateway', 'verdict'],
    registers: [registry],
  });
  const odooDuration = new Histogram({
    name: 'paylink_odoo_call_duration_seconds',
    help: 'Odoo calls, by operation (model.method) and outcome (ok, error).',
    labelNames: ['operation', 'outcome'],
    buckets: CALL_BUCKETS,
    registers: [registry],
  });
  const odooErrors = new Counter({
    name: 'paylink_odoo_call_errors_total',
    help: 'Failed Odoo calls, by operation and error class (network, timeout, access, validation, ...).',
    labelNames: ['operation', 'class'],
    registers: [registry],
  });
  const gatewayDuration = new Histogram({
    name: 'paylink_gateway_call_duration_seconds',
    help: 'HTTP calls to the gateways, by gateway, method and outcome (ok, error).',
    labelNames: ['gateway', 'method', 'outcome'],
    buckets: CALL_BUCKETS,
    registers: [registry],
  });
  const gatewayErrors = new Counter({
    name: 'paylink_gateway_call_errors_total',
    help: 'Failed HTTP calls to the gateways, by class (timeout, network, http_4xx, http_5xx).',
    labelNames: ['gateway', 'class'],
    registers: [registry],
  });
  const passDuration = new Histogram({
    name: 'paylink_pass_duration_seconds',
    help: 'Passes (publish, confirm, events, rebuild), by outcome (ok, partial, failed).',
    labelNames: ['pass', 'outcome'],
    buckets: PASS_BUCKETS,
    registers: [registry],
  });

  const pipeline: PipelineObserver = {
    linkAdvanced(row: LinkRow, outcomes: readonly StepOutcome[]) {
      for (const outcome of outcomes) {
        if (outcome === 'busy' || outcome === 'unchanged') continue;
        linkOutcomes.inc({ gateway: row.gateway, outcome });
        if (outcome === 'created') linksCreated.inc({ gateway: row.gateway });
        if (outcome === 'registered') {
          const labels = { gateway: row.gateway, currency: row.amount.currency };
          paymentsRegistered.inc(labels);
          amountRegistered.inc(labels, row.amount.minor);
        }
      }
    },
    passFinished(kind, outcome, durationMs) {
      passDuration.observe({ pass: kind, outcome }, durationMs / 1000);
    },
  };

  return {
    registry,
    pipeline,
    reachability,
    odooCall(call) {
      odooDuration.observe(
        { operation: call.operation, outcome: call.error ? 'error' : 'ok' },
        call.durationMs / 1000,
      );
      if (call.error) odooErrors.inc({ operation: call.operation, class: call.error });
      // An answer, even a refusal, says Odoo is there; only no answer at all says it is not.
      reachability.record('odoo', call.error !== 'network' && call.error !== 'timeout');
    },
    gatewayCall(call) {
      gatewayDuration.observe(
        { gateway: call.gateway, method: call.method, outcome: call.error ? 'error' : 'ok' },
        call.durationMs / 1000,
      );
      if (call.error) gatewayErrors.inc({ gateway: call.gateway, class: call.error });
      reachability.record(
        `gateway:${call.gateway}`,
        call.error !== 'network' && call.error !== 'timeout' && call.error !== 'http_5xx',
      );
    },
    webhook(gateway, verdict) {
      webhooks.inc({ gateway, verdict });
    },
    async scrape() {
      return { contentType: registry.contentType, body: await registry.metrics() };
    },
  };
}
