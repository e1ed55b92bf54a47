import { afterEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import type { OdooVersion } from '../../src/sandbox/odoo/versions.js';
import { type Stack, startStack } from '../support/stack.js';

/**
 * The whole cycle on every Odoo version the daemon supports, as the Billing bot: a posted invoice
 * gets a MyTPE link written back, the customer pays, and the payment is registered in Odoo once,
 * the invoice paid, the version's reference field holding the reference.
 */

/** odoo.protocol as configured; 'auto' lets the daemon pick. */
type Transport = 'jsonrpc' | 'xmlrpc' | 'json2' | 'auto';
/** The HTTP face the sandbox saw the daemon's model calls come through (OdooCallInfo.wire). */
type Wire = 'jsonrpc' | 'xmlrpc' | 'json2';

interface VersionRow {
  readonly version: OdooVersion;
  readonly transport: Transport;
  readonly wire: Wire;
  /** JSON-2 authenticates with an API key of the bot (odoo.apiKey). */
  readonly apiKey?: boolean;
  /** What Odoo of this version shows (captures), written out here rather than read from the sandbox. */
  readonly referenceField: 'ref' | 'memo';
  readonly registeredState: 'posted' | 'paid';
}

const UP_TO_17 = { referenceField: 'ref', registeredState: 'posted' } as const;
const SINCE_18 = { referenceField: 'memo', registeredState: 'paid' } as const;

/**
 * version × transport, as real Odoo has them: JSON-RPC and XML-RPC on every version, JSON-2 on
 * 19.0 only; and 'auto' with an API key on 19.0, which must speak JSON-2.
 */
const MATRIX: readonly VersionRow[] = [
  { version: '16.0', transport: 'jsonrpc', wire: 'jsonrpc', ...UP_TO_17 },
  { version: '17.0', transport: 'jsonrpc', wire: 'jsonrpc', ...UP_TO_17 },
  { version: '18.0', transport: 'jsonrpc', wire: 'jsonrpc', ...SINCE_18 },
  { version: '19.0', transport: 'jsonrpc', wire: 'jsonrpc', ...SINCE_18 },
  { version: '16.0', transport: 'xmlrpc', wire: 'xmlrpc', ...UP_TO_17 },
  { version: '17.0', transport: 'xmlrpc', wire: 'xmlrpc', ...UP_TO_17 },
  { version: '18.0', transport: 'xmlrpc', wire: 'xmlrpc', ...SINCE_18 },
  { version: '19.0', transport: 'xmlrpc', wire: 'xmlrpc', ...SINCE_18 },
  { version: '19.0', transport: 'json2', wire: 'json2', apiKey: true, ...SINCE_18 },
  { version: '19.0', transport: 'auto', wire: 'json2', apiKey: true, ...SINCE_18 },
];

/** A key of the bot's, as Preferences → Account Security → New API Key would make. */
const BOT_API_KEY = '0123456789abcdef0123456789abcdef01234567';

const rpcAnswer = z.union([
  z.object({ result: z.unknown() }),
  z.object({ error: z.object({ data: z.object({ name: z.string(), message: z.string() }) }) }),
]);

/** An admin's execute_kw over the sandbox's /jsonrpc, in the stack's company: what a person would see in Odoo. */
async function adminCall(
  stack: Stack,
  model: string,
  method: string,
  args: unknown[],
  kwargs: Record<string, unknown>,
): Promise<unknown> {
  const { db, login, password } = stack.admin;
  const uid = 2;
  const response = await fetch(`${stack.odoo.url}/jsonrpc`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({
      jsonrpc: '2.0',
      method: 'call',
      id: 1,
      params: {
        service: 'object',
        method: 'execute_kw',
        args: [
          db,
          uid,
          password,
          model,
          method,
          args,
          { ...kwargs, context: { allowed_company_ids: [stack.companyId] } },
        ],
      },
    }),
  });
  const answer = rpcAnswer.parse(await response.json());
  if ('error' in answer) throw new Error(`${login}: ${answer.error.data.name}: ${answer.error.data.message}`);
  return answer.result;
}

const reference = z.union([z.string(), z.literal(false)]).optional();
const paymentRow = z.object({
  id: z.number(),
  state: z.string(),
  amount: z.number(),
  reconciled_invoice_ids: z.array(z.number()),
  memo: reference,
  ref: reference,
});

/** The daemon's config, speaking `transport`; with `apiKey`, the bot's key is made and configured. */
function over(stack: Stack, transport: Transport, apiKey = false) {
  const odoo = stack.config.odoo;
  const bot = stack.odoo.bot;
  if (!odoo || !bot) throw new Error('the stack has no Odoo config');
  // The stack's setup spoke /jsonrpc as the admin: the log starts again with the daemon's calls.
  stack.odoo.calls.length = 0;
  if (!apiKey) return { config: { odoo: { ...odoo, protocol: transport } } };
  stack.odoo.addApiKey(BOT_API_KEY, bot.uid);
  return { config: { odoo: { ...odoo, protocol: transport, apiKey: BOT_API_KEY } } };
}

/**
 * The wires the daemon's model calls came through since `over` (the sandbox's call log), so a row
 * proves what was spoken and not only what was configured. 'auto' may ask common.version over
 * /jsonrpc first: that asks no model.
 */
function wiresUsed(stack: Stack): Set<string | undefined> {
  return new Set(stack.odoo.calls.filter((call) => call.model !== undefined).map((call) => call.wire));
}

let stack: Stack | undefined;

afterEach(async () => {
  await stack?.close();
  stack = undefined;
});

describe.each(MATRIX)(
  'Odoo $version over $transport',
  ({ version, transport, wire, apiKey, referenceField, registeredState }) => {
    it('publishes a link, and registers the customer payment once with the reference', async () => {
      stack = await startStack({ odoo: { version } });
      const current = stack;
      const [invoiceId] = current.createInvoices(1, '1500.00');
      if (invoiceId === undefined) throw new Error('no invoice');
      const app = await current.readyApp(over(current, transport, apiKey));

      const published = await app.pipeline.publish();
      expect(published.linksCreated).toBe(1);
      const linkId = current.odoo.models.invoiceFieldValue(invoiceId, 'x_mytpe_link_id');
      expect(typeof linkId).toBe('string');
      const [link] = current.mytpe.links();
      expect(link?.id).toBe(linkId);
      expect(current.odoo.models.invoiceFieldValue(invoiceId, 'x_mytpe_payment_link')).toBe(
        `${current.mytpe.url}/pay/${link?.slug}`,
      );

      const transaction = current.mytpe.pay(String(linkId));
      await app.pipeline.confirm();
      await app.pipeline.confirm();
      // Before adminCall, which speaks /jsonrpc itself.
      expect(wiresUsed(current)).toEqual(new Set([wire]));

      const [invoice] = z
        .array(z.object({ id: z.number(), payment_state: z.string(), amount_residual: z.number() }))
        .parse(
          await adminCall(current, 'account.move', 'read', [[invoiceId]], {
            fields: ['payment_state', 'amount_residual'],
          }),
        );
      expect(invoice).toEqual({ payment_state: 'paid', amount_residual: 0, id: invoiceId });
      const payments = z.array(paymentRow).parse(
        await adminCall(current, 'account.payment', 'search_read', [[]], {
          fields: ['state', 'amount', 'reconciled_invoice_ids', referenceField],
        }),
      );
      // Exactly one payment, the invoice's: a second confirm pass registered nothing more.
      expect(payments.filter((payment) => payment.reconciled_invoice_ids.includes(invoiceId))).toHaveLength(
        1,
      );
      expect(payments).toHaveLength(1);
      expect(payments[0]).toMatchObject({
        state: registeredState,
        amount: 1500,
        reconciled_invoice_ids: [invoiceId],
        [referenceField]: `MyTPE ${transaction.id}`,
      });
      expect(app.links.countsByState()).toEqual([{ state: 'registered', count: 1 }]);
    });

    it("finds its payment by the reference after a lost answer, and not another invoice's", async () => {
      stack = await startStack({ odoo: { version } });
      const current = stack;
      const [invoiceId, otherId] = current.createInvoices(2, '1500.00');
      if (invoiceId === undefined || otherId === undefined) throw new Error('no invoices');
      const app = await current.readyApp(over(current, transport, apiKey));
      await app.pipeline.publish();
      const linkId = current.odoo.models.invoiceFieldValue(invoiceId, 'x_mytpe_link_id');
      const transaction = current.mytpe.pay(String(linkId));
      // Another invoice's payment with the very reference: never taken for this invoice's.
      current.odoo.models.payByOtherMeans(otherId, { memo: `MyTPE ${transaction.id}` });
      // Odoo registers the payment, but the answer to action_create_payments is lost.
      current.odoo.faults.dropResponseNext({
        model: 'account.payment.register',
        method: 'action_create_payments',
      });
      await app.pipeline.confirm();
      await app.pipeline.confirm();
      expect(wiresUsed(current)).toEqual(new Set([wire]));
      const payments = z.array(paymentRow).parse(
        await adminCall(current, 'account.payment', 'search_read', [[]], {
          fields: ['state', 'amount', 'reconciled_invoice_ids'],
        }),
      );
      expect(payments.map((payment) => payment.reconciled_invoice_ids).sort()).toEqual([
        [invoiceId],
        [otherId],
      ]);
      expect(app.links.ofInvoice(invoiceId).at(-1)?.state).toBe('registered');
    });
  },
);
