import { z } from 'zod';
import { isReferencePrefix, REFERENCE_PREFIX_MAX } from '../domain/reference.js';
import { reminderPolicySchema } from '../domain/reminders.js';
import { isValidCron } from '../jobs/scheduler.js';
import { smtpConfigSchema } from '../mail/transport.js';

/**
 * The whole configuration as one schema. Every key has a default that works in sandbox mode;
 * production values come from a JSON file and, for secrets, from the environment.
 */

const cronExpression = z
  .string()
  .trim()
  .regex(/^(\S+\s+){4,5}\S+$/, {
    message: 'must be a cron expression with 5 or 6 fields, e.g. "*/30 * * * * *"',
    abort: true,
  })
  // The same check the scheduler's node-cron makes, so a bad field stops the start, not a pass later.
  .refine(isValidCron, "is not a cron expression node-cron accepts: check each field's range and syntax");

/** An IANA zone name Intl knows (Africa/Algiers, UTC); node-cron computes its schedules with Intl. */
function isTimeZone(zone: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: zone });
    return true;
  } catch {
    return false;
  }
}

const ODOO_PASSWORD_MESSAGE =
  'must be the password or, better, an API key of that user (env ODOO_PASSWORD), unless odoo.apiKey (env ODOO_API_KEY) is set';

const odooFields = z.object({
  url: z.url({ message: 'must be the base URL of the Odoo server, e.g. https://erp.example.com' }),
  db: z.string().min(1, 'must name the Odoo database'),
  login: z.string().min(1, 'must be the login of the Odoo user the daemon acts as'),
  password: z.string().min(1, ODOO_PASSWORD_MESSAGE).optional(),
  /**
   * An API key of that user (env ODOO_API_KEY): JSON-2 (Odoo 19+) needs one, and JSON-RPC and
   * XML-RPC take it as the password, so with it `password` may be left out.
   */
  apiKey: z.string().min(1, 'must be an API key of the Odoo user (env ODOO_API_KEY)').optional(),
  /**
   * The wire to Odoo. 'auto' asks the server's version and takes JSON-2 on 19+ when apiKey is set,
   * JSON-RPC otherwise (src/odoo/connect.ts).
   */
  protocol: z.enum(['auto', 'jsonrpc', 'json2', 'xmlrpc']).default('auto'),
  timeoutMs: z.number().int().positive().default(30_000),
  /**
   * Try to create missing x_ fields at start. Off by default: creating fields needs an Odoo
   * administrator, which the daemon's Billing-rights user is not; `setup-odoo` does it.
   */
  createFields: z.boolean().default(false),
  /**
   * Starts every link reference (`<prefix>-inv-<id>-<n>`), unique to this Odoo database. Default:
   * derived from the database's uuid by `setup-odoo` and kept in the store; set it to keep working
   * when the store is lost, or when no administrator may run setup.
   */
  referencePrefix: z
    .string()
    .refine(isReferencePrefix, {
      message: `must be lowercase letters, digits and single dashes, at most ${REFERENCE_PREFIX_MAX} characters`,
    })
    .optional(),
  /**
   * Language of the chatter notes, as Odoo names it (fr_FR, ar_001, en_US). Default: each
   * company's own language (its partner's), English when the templates lack it.
   */
  notesLanguage: z.string().min(2).optional(),
  /**
   * What needs a person (an amount that does not match, a payment on a settled invoice, a link
   * refused, a customer without email) becomes a To-Do activity on the invoice, as well as a note.
   */
  activities: z.boolean().default(true),
  /** res.users id the To-Dos are for. Default: the invoice's responsible (Salesperson), else the daemon's user. */
  activityUserId: z.number().int().positive().optional(),
  /** Run against a neutralized database (a staging copy Odoo disarmed); refused by default. */
  allowNeutralized: z.boolean().default(false),
});

/** One of password and apiKey is needed; `password` is then always set (the key stands in for it). */
const odooSchema = odooFields.transform((odoo, ctx) => {
  const password = odoo.password ?? odoo.apiKey;
  if (password === undefined) {
    ctx.addIssue({ code: 'custom', path: ['password'], message: ODOO_PASSWORD_MESSAGE });
    return z.NEVER;
  }
  if (odoo.protocol === 'json2' && odoo.apiKey === undefined) {
    ctx.addIssue({
      code: 'custom',
      path: ['apiKey'],
      message:
        'must be set for odoo.protocol "json2": JSON-2 authenticates with an API key (env ODOO_API_KEY); or choose protocol "auto" or "jsonrpc"',
    });
    return z.NEVER;
  }
  return { ...odoo, password };
});

export const GATEWAY_IDS = ['mytpe', 'tilopay', 'tendopay', 'mpchat'] as const;
export type GatewayId = (typeof GATEWAY_IDS)[number];

const companySchema = z.object({
  /** res.company id in Odoo. */
  odooCompanyId: z.number().int().positive(),
  /** account.journal id (type bank or cash) that receives the payments. */
  journalId: z.number().int().positive(),
  gateway: z.enum(GATEWAY_IDS).default('mytpe'),
  /** MyTPE Pay instance uuid that owns this company's links (gateway mytpe). */
  mytpeInstanceId: z.string().min(1).optional(),
  /** The name of this company's credentials under gateways.<gateway>.accounts (other gateways); "default" when left out. */
  account: z.string().min(1).optional(),
});

const mytpeSchema = z.object({
  // No default: the docs show only the development host (dev.mytpe.app), and a production config
  // that left this out would send live keys there.
  baseUrl: z.url({
    message:
      "must be the MyTPE Pay v2 API base of your MyTPE environment, e.g. https://<host>/api/v2/mytpe-pay (https://dev.mytpe.app/api/v2/mytpe-pay is MyTPE's development server)",
  }),
  apiKey: z.string().min(1, 'must be the MyTPE API key (env MYTPE_API_KEY)'),
  apiSecret: z.string().min(1, 'must be the MyTPE API secret (env MYTPE_API_SECRET)'),
  /** The webhook secret of every instance (env MYTPE_WEBHOOK_SECRET) when one serves them all. */
  webhookSecret: z.string().min(1).optional(),
  /** Each instance's own webhook secret, by instance uuid (MyTPE gives every instance its own). */
  webhookSecrets: z.record(z.string(), z.string().min(1)).default({}),
  timeoutMs: z.number().int().positive().default(15_000),
});

/** A gateway's API address: https, or http on this machine (the sandboxes). */
const apiBaseUrl = (example: string) =>
  z
    .url({ message: `must be the gateway's API base URL, e.g. ${example}` })
    .refine(isHttpsOrLoopback, 'must be https (http only on 127.0.0.1 or localhost, for the sandboxes)');

/** Credentials by account name; companies pick one with `account` ("default" unless said). */
const accountsOf = <Shape extends z.core.$ZodShape>(shape: Shape) =>
  z.record(z.string().min(1), z.object(shape)).refine((accounts) => Object.keys(accounts).length > 0, {
    message: 'must name at least one account, e.g. { "default": { … } }',
  });

const tiloPaySchema = z.object({
  /** One host serves test and live keys; the credentials decide (TiloPay spec §1). */
  baseUrl: apiBaseUrl('https://app.tilopay.com/api/v1').default('https://app.tilopay.com/api/v1'),
  accounts: accountsOf({
    apiKey: z.string().min(1, 'must be the TiloPay API key (env TILOPAY_API_KEY)'),
    apiUser: z.string().min(1, 'must be the TiloPay API user (env TILOPAY_API_USER)'),
    apiPassword: z.string().min(1, 'must be the TiloPay API password (env TILOPAY_API_PASSWORD)'),
  }),
  currencies: z
    .array(z.enum(['CRC', 'USD']))
    .min(1)
    .default(['CRC', 'USD']),
  /** How long one hosted page is offered; past it the pay page makes a new one (TiloPay documents no expiry). */
  orderTtlMinutes: z
    .number()
    .int()
    .min(5)
    .max(7 * 24 * 60)
    .default(120),
  timeoutMs: z.number().int().positive().default(30_000),
});

const tendoPaySchema = z.object({
  // No default: a production config that left it out must not fall on the sandbox host, or the reverse.
  baseUrl: apiBaseUrl('https://app.tendopay.ph (production) or https://sandbox.tendopay.ph'),
  accounts: accountsOf({
    clientId: z.string().min(1, 'must be the TendoPay client id (env TENDOPAY_CLIENT_ID)'),
    clientSecret: z.string().min(1, 'must be the TendoPay client secret (env TENDOPAY_CLIENT_SECRET)'),
  }),
  /** How long an unused order is offered; TendoPay documents no expiry (spec §7). */
  orderTtlHours: z
    .number()
    .int()
    .min(1)
    .max(30 * 24)
    .default(24),
  /**
   * An invoice with centavos: sent as "1234.50" (the spec's recommendation) or refused with a note
   * (if TendoPay turns out to take whole pesos only).
   */
  centavos: z.enum(['decimal_string', 'refuse']).default('decimal_string'),
  timeoutMs: z.number().int().positive().default(15_000),
});

const decimalText = z.string().regex(/^\d+(\.\d+)?$/, 'must be a decimal written as text, e.g. "0.5"');

const mpChatSchema = z.object({
  baseUrl: apiBaseUrl('https://api.mpchat.com (production) or https://api-sandbox.mpchat.com'),
  accounts: accountsOf({
    keyId: z.string().min(1, 'must be the MPChat API key id (env MPCHAT_KEY_ID)'),
    secret: z.string().min(1, 'must be the MPChat API secret (env MPCHAT_SECRET)'),
    /** The signing secret MPChat shows for our webhook endpoint (env MPCHAT_WEBHOOK_SECRET). */
    webhookSecret: z.string().min(1).optional(),
  }),
  network: z.enum(['TRC20', 'ERC20']).default('TRC20'),
  /** Underpayment MPChat still marks PAID, in percent; the short payment is registered as partial. */
  tolerancePercent: decimalText.default('0.01'),
  /** A PAID order above its amount settles the invoice, or goes to a person. */
  overpayment: z.enum(['settle', 'needs_person']).default('settle'),
  /** USDT per 1 USD; "1" takes USDT at par. */
  usdtPerUsd: decimalText.default('1'),
  /** Invoice currencies taken, converted to USD at Odoo's rate of the invoice date. */
  invoiceCurrencies: z
    .array(z.string().regex(/^[A-Z]{3}$/))
    .min(1)
    .default(['USD']),
  /** What MPChat's webhook HMAC covers (the docs are unclear, spec §5): see the gateway README. */
  webhookSigning: z
    .object({
      layout: z.enum(['timestamp.body', 'body', 'timestamp_body']).default('timestamp.body'),
      keyEncoding: z.enum(['utf8', 'hex']).default('utf8'),
      toleranceSeconds: z.number().int().min(1).default(300),
    })
    .default({ layout: 'timestamp.body', keyEncoding: 'utf8', toleranceSeconds: 300 }),
  timeoutMs: z.number().int().positive().default(15_000),
});

function isHttpsOrLoopback(text: string): boolean {
  try {
    const url = new URL(text);
    return url.protocol === 'https:' || (url.protocol === 'http:' && isLoopbackHost(url.hostname));
  } catch {
    return false;
  }
}

function isLoopbackHost(hostname: string): boolean {
  return hostname === 'localhost' || hostname === '[::1]' || /^127\.\d+\.\d+\.\d+$/.test(hostname);
}

const pipelineSchema = z.object({
  /** Invoices handled at once within a pass (Odoo and gateway calls in flight). */
  concurrency: z.number().int().min(1).max(64).default(4),
  /** Invoices read from Odoo per page. */
  batchSize: z.number().int().min(1).max(1000).default(200),
  /** How far back each incremental read looks before the cursor, because write_date is a transaction's start time. */
  cursorOverlapSeconds: z.number().int().min(0).default(300),
  /** A full sweep of all open invoices runs this often, catching anything the cursor missed. */
  fullSweepMinutes: z.number().int().min(1).default(60),
  /**
   * Attempts at a step before the link is marked failed: a new link's creation refused in a way
   * that may pass (gateway down, 5xx, 429, instance not active), or any step refused for good.
   */
  maxAttempts: z.number().int().min(1).default(12),
  backoffBaseMs: z.number().int().min(1).default(5_000),
  backoffMaxMs: z.number().int().min(1).default(3_600_000),
  /** A claimed link is released after this long if its worker died. */
  leaseMs: z.number().int().min(1_000).default(300_000),
});

const scheduleSchema = z.object({
  publish: cronExpression.default('*/30 * * * * *'),
  confirm: cronExpression.default('*/30 * * * * *'),
  timezone: z
    .string()
    .refine(isTimeZone, 'must be an IANA time zone, e.g. "UTC" or "Africa/Algiers"')
    .default('UTC'),
});

const httpSchema = z.object({
  /** Where the webhook endpoint listens; put a TLS reverse proxy in front (gateways require HTTPS). */
  host: z.string().default('127.0.0.1'),
  port: z.number().int().min(0).max(65535).default(8089),
  /** The admin interface (/metrics): loopback by default, never the public one. */
  adminHost: z.string().default('127.0.0.1'),
  /** Its port; 0 turns it off. */
  adminPort: z.number().int().min(0).max(65535).default(9464),
  /**
   * The daemon's https address behind its reverse proxy, e.g. https://pay.example.com. With it,
   * every invoice has one pay address, <publicUrl>/pay/<token>, valid for the invoice's life:
   * emails, QR codes and chatter notes carry it instead of the gateway link.
   */
  publicUrl: z
    .url({ message: 'must be the https address the daemon is reached at, e.g. https://pay.example.com' })
    .refine(isHttpsOrLoopback, {
      message:
        'must be the https address the daemon is reached at, e.g. https://pay.example.com (http only on 127.0.0.1 or localhost)',
    })
    .transform((url) => url.replace(/\/+$/, ''))
    .optional(),
  /** Signs the pay page tokens (env PAYLINK_PAY_SECRET): a long random value of its own. */
  paySecret: z
    .string()
    .min(32, 'must be at least 32 characters of random text (env PAYLINK_PAY_SECRET)')
    .optional(),
  /** Pay page requests one client address, and one invoice's address, may make per minute. */
  payRequestsPerMinute: z
    .object({
      perAddress: z.number().int().min(1).default(60),
      perToken: z.number().int().min(1).default(20),
    })
    .default({ perAddress: 60, perToken: 20 }),
  /** Largest webhook body accepted, in bytes. */
  bodyLimit: z
    .number()
    .int()
    .min(1024)
    .default(256 * 1024),
});

const mailSchema = z.object({
  /** Sends the invoice email when a link is created; without smtp, no email is sent (logged at start). */
  enabled: z.boolean().default(true),
  /**
   * Who sends: 'smtp' renders our templates and sends through mail.smtp; 'odoo' has Odoo send
   * its invoice template with a Pay button (installed by setup-odoo) through the company's mail
   * server, the PDF attached and the email in the chatter (no mail.smtp needed).
   */
  via: z.enum(['smtp', 'odoo']).default('smtp'),
  smtp: smtpConfigSchema.optional(),
  /**
   * An https URL of the company logo for the email header ({companyId} is replaced), e.g.
   * "https://erp.example.com/logo.png?company={companyId}"; without it the header shows the name.
   */
  logoUrl: z.url().optional(),
  /** A folder whose files override the packaged templates (same relative paths). */
  templatesOverrideDir: z.string().optional(),
  /** Attach the invoice PDF downloaded from Odoo. */
  attachPdf: z.boolean().default(true),
  pdfTimeoutMs: z.number().int().positive().default(30_000),
});

const publishSchema = z.object({
  /**
   * 'YYYY-MM-DD': invoices dated earlier get no link and no email (those already linked go on).
   * Default: the day the daemon first ran against this database, kept in the store and found
   * again in Odoo (the oldest invoice it linked) when the store is lost.
   */
  since: z.iso.date({ message: 'must be a date like "2026-12-01"' }).optional(),
  /** Partner tags (res.partner.category names): their customers get no link and no email. */
  excludePartnerTags: z.array(z.string().trim().min(1)).default([]),
});

const reconcileSchema = z.object({
  /** When the daemon runs reconciliation by itself; empty string to disable. */
  schedule: z.union([cronExpression, z.literal('')]).default('0 30 2 * * *'),
  /** How many days back the nightly run looks. */
  windowDays: z.number().int().min(1).max(90).default(3),
  /**
   * Where `reconcile` (from cron) mails its report when discrepancies remain for a person, through
   * mail.smtp; `--mail-report <address>` does the same for one run.
   */
  reportTo: z.email({ message: 'must be an email address, e.g. "accounts@example.com"' }).optional(),
});

const logSchema = z.object({
  level: z.enum(['error', 'warn', 'info', 'debug']).default('info'),
  format: z.enum(['pretty', 'json']).default('pretty'),
});

const sandboxSchema = z.object({
  /** Seconds after a link is created before the simulated customer pays it. */
  payAfterSeconds: z.number().min(0).default(5),
  /** Share of links the simulated customer pays (0 to 1). */
  payShare: z.number().min(0).max(1).default(0.7),
  invoices: z.number().int().min(0).max(10_000).default(6),
});

/**
 * On SIGINT/SIGTERM the daemon takes no new work, lets the passes in flight finish for graceMs,
 * then aborts their Odoo and gateway calls (SHUTDOWN_ABORT_MS more at most): it is gone within
 * graceMs + SHUTDOWN_ABORT_MS, which PM2's kill_timeout and systemd's TimeoutStopSec must exceed.
 */
const shutdownSchema = z.object({
  graceMs: z.number().int().min(0).max(600_000).default(20_000),
});
/** How long the aborted passes get to write down where they stopped, after the grace period. */
export const SHUTDOWN_ABORT_MS = 5_000;

export const configSchema = z
  .object({
    odoo: odooSchema.optional(),
    companies: z.array(companySchema).default([]),
    gateways: z
      .object({
        mytpe: mytpeSchema.optional(),
        tilopay: tiloPaySchema.optional(),
        tendopay: tendoPaySchema.optional(),
        mpchat: mpChatSchema.optional(),
      })
      .default({}),
    store: z
      .object({
        path: z.string().min(1).default('var/paylink.db'),
        /** Days finished runs, handled events, posted notes and sent or failed emails are kept. */
        retentionDays: z.number().int().min(1).default(90),
      })
      .default({ path: 'var/paylink.db', retentionDays: 90 }),
    pipeline: pipelineSchema.default(pipelineSchema.parse({})),
    schedule: scheduleSchema.default(scheduleSchema.parse({})),
    http: httpSchema.default(httpSchema.parse({})),
    mail: mailSchema.default(mailSchema.parse({})),
    publish: publishSchema.default(publishSchema.parse({})),
    /**
     * Reminders after the first email. Off unless configured: the customer gets no more emails
     * than the merchant asked for. Writing a reminders section turns them on with its defaults.
     */
    reminders: reminderPolicySchema.default({ ...reminderPolicySchema.parse({}), enabled: false }),
    reconcile: reconcileSchema.default(reconcileSchema.parse({})),
    log: logSchema.default(logSchema.parse({})),
    sandbox: sandboxSchema.default(sandboxSchema.parse({})),
    shutdown: shutdownSchema.default(shutdownSchema.parse({})),
  })
  .superRefine((config, ctx) => {
    if (!config.odoo) return;
    if (config.companies.length === 0) {
      ctx.addIssue({
        code: 'custom',
        path: ['companies'],
        message: 'must list at least one company when odoo is configured',
      });
    }
    config.companies.forEach((company, index) => {
      const at = ['companies', index];
      if (company.gateway === 'mytpe') {
        if (!config.gateways.mytpe) {
          ctx.addIssue({
            code: 'custom',
            path: [...at, 'gateway'],
            message: 'uses mytpe, so gateways.mytpe (apiKey, apiSecret) must be configured',
          });
        }
        if (!company.mytpeInstanceId) {
          ctx.addIssue({
            code: 'custom',
            path: [...at, 'mytpeInstanceId'],
            message: "must be the uuid of the MyTPE Pay instance that owns this company's links",
          });
        }
        return;
      }
      const section = config.gateways[company.gateway];
      if (!section) {
        ctx.addIssue({
          code: 'custom',
          path: [...at, 'gateway'],
          message: `uses ${company.gateway}, so gateways.${company.gateway} must be configured`,
        });
      } else if (!Object.hasOwn(section.accounts, accountOf(company))) {
        ctx.addIssue({
          code: 'custom',
          path: [...at, 'account'],
          message: `names account "${accountOf(company)}", which gateways.${company.gateway}.accounts does not have (it has ${Object.keys(section.accounts).join(', ')})`,
        });
      }
    });
    // Their checkout orders live minutes to hours: the customer must always come through the pay
    // page, which makes a fresh order, and the gateway must have our return address.
    const orderStyle = config.companies.find((company) => company.gateway !== 'mytpe');
    if (orderStyle && !config.http.publicUrl) {
      ctx.addIssue({
        code: 'custom',
        path: ['http', 'publicUrl'],
        message: `must be set when a company uses ${orderStyle.gateway} (its orders expire, so customers go through the pay page, and it sends them back to <publicUrl>/return/${orderStyle.gateway})`,
      });
    }
    if (config.http.publicUrl && !config.http.paySecret) {
      ctx.addIssue({
        code: 'custom',
        path: ['http', 'paySecret'],
        message:
          'must be set when http.publicUrl is (env PAYLINK_PAY_SECRET, e.g. from `openssl rand -hex 32`)',
      });
    }
    if (config.reconcile.reportTo && !config.mail.smtp) {
      ctx.addIssue({
        code: 'custom',
        path: ['reconcile', 'reportTo'],
        message: 'is mailed through mail.smtp, which is not configured',
      });
    }
    const ids = config.companies.map((company) => company.odooCompanyId);
    if (new Set(ids).size !== ids.length) {
      ctx.addIssue({ code: 'custom', path: ['companies'], message: 'lists the same odooCompanyId twice' });
    }
  });

export type Config = z.infer<typeof configSchema>;

/** The gateway account a company's links are made in: its MyTPE instance, or its credentials' name. */
export function accountOf(company: z.infer<typeof companySchema>): string {
  return company.gateway === 'mytpe' ? (company.mytpeInstanceId ?? '') : (company.account ?? 'default');
}
export type OdooConfig = z.infer<typeof odooSchema>;
export type CompanyConfig = z.infer<typeof companySchema>;
export type MyTpeConfig = z.infer<typeof mytpeSchema>;
export type TiloPayConfig = z.infer<typeof tiloPaySchema>;
export type TendoPayConfig = z.infer<typeof tendoPaySchema>;
export type MpChatConfig = z.infer<typeof mpChatSchema>;
export type MailConfig = z.infer<typeof mailSchema>;
export type PipelineConfig = z.infer<typeof pipelineSchema>;
