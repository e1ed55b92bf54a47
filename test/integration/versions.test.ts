import { afterEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import type { OdooVersion } from '../../src/sandbox/odoo/versions.js';
import { type Stack, startStack } from '../support/stack.js';

/**
 * The whole cycle on every Odoo version the daemon supports, as the Billing bot: a posted invoice
 * gets a MyTPE link written back, the customer pays, and the payment is registered in Odoo once,
 * the invoice paid, the version's reference field holding the reference.
 */

type Transport = 'jsonrpc';

interface VersionRow {
  readonly version: OdooVersion;
  readonly transport: Transport;
  /** What Odoo of this version shows (captures), written out here rather than read from the sandbox. */
  readonly referenceField: 'ref' | 'memo';
  readonly registeredState: 'posted' | 'paid';
}

/**
 * version × transport. Only JSON-RPC for now: the transport work adds JSON-2 (19.0 only) and
 * XML-RPC, each as more rows of this table.
 */
const MATRIX: readonly VersionRow[] = [
  { version: '16.0', transport: 'jsonrpc', referenceField: 'ref', registeredState: 'posted' },
  { version: '17.0', transport: 'jsonrpc', referenceField: 'ref', registeredState: 'posted' },
  { version: '18.0', transport: 'jsonrpc', referenceField: 'memo', registeredState: 'paid' },
  { version: '19.0', transport: 'jsonrpc', referenceField: 'memo', registeredState: 'paid' },
];

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

/** The daemon's config, speaking `transport`. */
function over(stack: Stack, transport: Transport) {
  const odoo = stack.config.odoo;
  if (!odoo) throw new Error('the stack has no Odoo config');
  return { config: { odoo: { ...odoo, protocol: transport } } };
}

let stack: Stack | undefined;

afterEach(async () => {
  await stack?.close();
  stack = undefined;
});

describe.each(MATRIX)(
  'Odoo $version over $transport',
  ({ version, transport, referenceField, registeredState }) => {
    it('publishes a link, and registers the customer payment once with the reference', async () => {
      stack = await startStack({ odoo: { version } });
      const current = stack;
      const [invoiceId] = current.createInvoices(1, '1500.00');
      if (invoiceId === undefined) throw new Error('no invoice');
      const app = await current.readyApp(over(current, transport));

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
      const app = await current.readyApp(over(current, transport));
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
