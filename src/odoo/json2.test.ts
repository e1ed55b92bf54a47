import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { silentLogger } from '../log.js';
import { type OdooSandbox, startOdooSandbox } from '../sandbox/odoo/server.js';
import { type CallOptions, RpcOdooClient } from './client.js';
import { isOdooError, OdooError, type OdooErrorKind } from './errors.js';
import { Json2Transport, json2Body } from './json2.js';
import { JsonRpcTransport } from './jsonrpc.js';
import type { OdooTransport } from './transport.js';
import { XmlRpcTransport } from './xmlrpc.js';

const BOT_KEY = 'abcdef0123456789abcdef0123456789abcdef01';
const WRONG_KEY = '0000000000000000000000000000000000000000';
const call: CallOptions = { companyIds: [1] };

type Wire = 'jsonrpc' | 'json2' | 'xmlrpc';

function transportFor(wire: Wire, url: string, timeoutMs = 5_000): OdooTransport {
  const options = { url, timeoutMs };
  if (wire === 'json2') return new Json2Transport(options);
  if (wire === 'xmlrpc') return new XmlRpcTransport(options);
  return new JsonRpcTransport(options);
}

let odoo: OdooSandbox;
let openInvoice: number;
let paidInvoice: number;

beforeAll(async () => {
  odoo = await startOdooSandbox({ version: '19.0', bot: {} });
  odoo.addApiKey(BOT_KEY, odoo.bot!.uid);
  const partner = odoo.models.createPartner({ name: 'Deco Addict', email: 'deco@example.com' });
  openInvoice = odoo.models.createInvoice({ partnerId: partner, amount: '250.00', ref: 'OPEN' });
  paidInvoice = odoo.models.createInvoice({ partnerId: partner, amount: '100.00', ref: 'PAID' });
  odoo.models.payByOtherMeans(paidInvoice, { memo: 'PAID-BEFORE' });
  odoo.models.createCustomField({ model: 'account.move', name: 'x_mytpe_link_id', label: 'MyTPE link' });
});

afterAll(async () => {
  await odoo?.close();
});

function clientFor(wire: Wire, password = BOT_KEY): RpcOdooClient {
  return new RpcOdooClient(
    transportFor(wire, odoo.url),
    { db: odoo.db, login: odoo.bot!.login, password },
    silentLogger,
  );
}

async function failure(run: () => Promise<unknown>): Promise<OdooError> {
  try {
    await run();
  } catch (error) {
    if (error instanceof OdooError) return error;
    throw error;
  }
  throw new Error('expected an OdooError');
}

const invoiceSchema = z.object({ id: z.number(), name: z.string(), amount_total: z.number() }).loose();

describe.each(['jsonrpc', 'json2', 'xmlrpc'] as const)(
  'RpcOdooClient over %s (19.0, bot API key)',
  (wire) => {
    it('logs in as the key’s user and reads the version', async () => {
      const client = clientFor(wire);
      expect((await client.version()).major).toBe(19);
      const [row] = await client.read('res.users', [odoo.bot!.uid], z.object({ id: z.number() }).loose(), {
        ...call,
        fields: ['login'],
      });
      expect(row).toMatchObject({ id: odoo.bot!.uid, login: odoo.bot!.login });
    });

    it('search_read, read, write, create, message_post and fields_get act on the same records', async () => {
      const client = clientFor(wire);
      const found = await client.searchRead(
        'account.move',
        [
          ['id', '=', openInvoice],
          ['state', '=', 'posted'],
        ],
        invoiceSchema,
        { ...call, fields: ['name', 'amount_total'], limit: 5, order: 'id desc' },
      );
      expect(found).toEqual([expect.objectContaining({ id: openInvoice, amount_total: 250 })]);
      expect(await client.searchCount('account.move', [['id', 'in', [openInvoice, paidInvoice]]], call)).toBe(
        2,
      );

      await client.write('account.move', [openInvoice], { x_mytpe_link_id: `link-${wire}` }, call);
      const [read] = await client.read(
        'account.move',
        [openInvoice],
        z.object({ x_mytpe_link_id: z.string() }),
        {
          ...call,
          fields: ['x_mytpe_link_id'],
        },
      );
      expect(read?.x_mytpe_link_id).toBe(`link-${wire}`);
      expect(odoo.models.invoiceFieldValue(openInvoice, 'x_mytpe_link_id')).toBe(`link-${wire}`);

      const partnerId = await client.create('res.partner', { name: `Created over ${wire}` }, call);
      expect(partnerId).toBeGreaterThan(0);

      const posted = await client.call('account.move', 'message_post', [[openInvoice]], z.unknown(), {
        ...call,
        kwargs: { body: `note over ${wire}`, message_type: 'comment', subtype_xmlid: 'mail.mt_note' },
      });
      expect(posted).toEqual([expect.any(Number)]);
      expect(odoo.models.messages(openInvoice).map((message) => message.body)).toContain(
        `<p>note over ${wire}</p>`,
      );

      const fields = await client.call(
        'account.move',
        'fields_get',
        [],
        z.record(z.string(), z.object({ type: z.string() }).loose()),
        { ...call, kwargs: { attributes: ['type'] } },
      );
      expect(fields.x_mytpe_link_id?.type).toBe('char');
      expect(fields.amount_total?.type).toBe('monetary');
    });
  },
);

/** Each failure, and the kind JSON-RPC gives it: JSON-2 and XML-RPC must give the same. */
const FAILURES: ReadonlyArray<{ what: string; kind: OdooErrorKind; run: (wire: Wire) => Promise<unknown> }> =
  [
    {
      what: 'a wrong API key at login',
      kind: 'access_denied',
      run: (wire) => clientFor(wire, WRONG_KEY).searchCount('account.move', [], call),
    },
    {
      what: 'a wrong API key on a call',
      kind: 'access_denied',
      run: (wire) =>
        transportFor(wire, odoo.url).executeKw(
          { db: odoo.db, uid: odoo.bot!.uid, password: WRONG_KEY },
          'account.move',
          'search_count',
          [[]],
          {},
        ),
    },
    {
      what: 'an unknown model',
      kind: 'unknown_model',
      run: (wire) => clientFor(wire).searchCount('x.nonexistent.model', [], call),
    },
    {
      what: 'an unknown method',
      kind: 'unknown_method',
      run: (wire) => clientFor(wire).call('account.move', 'no_such_method', [], z.unknown(), call),
    },
    {
      what: 'an unknown field in write',
      kind: 'unknown_field',
      run: (wire) => clientFor(wire).write('account.move', [openInvoice], { x_does_not_exist: 'boom' }, call),
    },
    {
      what: 'an unknown field in search_read fields',
      kind: 'unknown_field',
      run: (wire) =>
        clientFor(wire).searchRead('account.move', [], z.unknown(), { ...call, fields: ['x_mytpe_linkid'] }),
    },
    {
      what: 'a payment on a paid invoice (UserError)',
      kind: 'user',
      run: (wire) =>
        clientFor(wire).create(
          'account.payment.register',
          { amount: 10 },
          {
            ...call,
            context: { active_model: 'account.move', active_ids: [paidInvoice] },
          },
        ),
    },
    {
      what: 'a deleted record (MissingError)',
      kind: 'missing',
      run: (wire) => clientFor(wire).write('account.move', [999_999], { ref: 'x' }, call),
    },
    {
      what: 'a model the bot may not read (AccessError)',
      kind: 'access',
      run: (wire) =>
        clientFor(wire).call('ir.config_parameter', 'get_param', ['database.uuid'], z.unknown(), call),
    },
  ];

describe.each(['jsonrpc', 'json2', 'xmlrpc'] as const)('failures over %s', (wire) => {
  it.each(FAILURES)('$what → $kind', async ({ kind, run }) => {
    const error = await failure(() => run(wire));
    expect(error.kind).toBe(kind);
    expect(error.message).not.toContain(BOT_KEY);
    expect(error.message).not.toContain(WRONG_KEY);
  });
});

describe('Json2Transport', () => {
  it('halts the client for good after a refused key, without asking Odoo again', async () => {
    const client = clientFor('json2', WRONG_KEY);
    await expect(client.searchCount('account.move', [], call)).rejects.toMatchObject({
      kind: 'access_denied',
    });
    odoo.calls.length = 0;
    await expect(client.searchCount('account.move', [], call)).rejects.toMatchObject({
      kind: 'access_denied',
    });
    expect(odoo.calls).toEqual([]);
    expect(client.halted?.kind).toBe('access_denied');
  });

  it("refuses the bot's key under another login, and halts with the usual message", async () => {
    // The key is the bot's; the config names the admin: a bearer key alone would act as the bot.
    const client = new RpcOdooClient(
      transportFor('json2', odoo.url),
      { db: odoo.db, login: odoo.login, password: BOT_KEY },
      silentLogger,
    );
    const error = await failure(() => client.searchCount('account.move', [], call));
    expect(error.kind).toBe('access_denied');
    expect(error.message).toBe(
      `Odoo refused the login "${odoo.login}" on database "${odoo.db}": check odoo.login and the password or API key`,
    );
    expect(error.message).not.toContain(BOT_KEY);
    expect(client.halted?.kind).toBe('access_denied');
  });

  it("checks the key's owner by reading the bot's own login, which a Billing user may", async () => {
    odoo.calls.length = 0;
    const transport = transportFor('json2', odoo.url);
    const uid = await transport.common('authenticate', [odoo.db, odoo.bot!.login, BOT_KEY, {}]);
    expect(uid).toBe(odoo.bot!.uid);
    expect(odoo.calls.map((entry) => [entry.wire, entry.model, entry.modelMethod, entry.kwargs])).toEqual([
      ['json2', 'res.users', 'context_get', {}],
      ['json2', 'res.users', 'read', { fields: ['login'] }],
    ]);
    expect(odoo.calls[1]?.args).toEqual([[odoo.bot!.uid]]);
  });

  it('sends named arguments, the database header and the key as bearer', async () => {
    const seen: { url: string; headers: Headers; body: unknown }[] = [];
    const spy: typeof fetch = async (input, init) => {
      seen.push({
        url: String(input),
        headers: new Headers(init?.headers),
        body: init?.body ? JSON.parse(String(init.body)) : undefined,
      });
      return fetch(input, init);
    };
    const transport = new Json2Transport({ url: odoo.url, timeoutMs: 5_000, fetch: spy });
    const credentials = { db: odoo.db, uid: odoo.bot!.uid, password: BOT_KEY };
    await transport.executeKw(credentials, 'account.move', 'write', [[openInvoice], { ref: 'named' }], {
      context: { allowed_company_ids: [1] },
    });
    expect(seen[0]?.url).toBe(`${odoo.url}/json/2/account.move/write`);
    expect(seen[0]?.headers.get('authorization')).toBe(`bearer ${BOT_KEY}`);
    expect(seen[0]?.headers.get('x-odoo-database')).toBe(odoo.db);
    expect(seen[0]?.body).toEqual({
      ids: [openInvoice],
      vals: { ref: 'named' },
      context: { allowed_company_ids: [1] },
    });
    expect(odoo.models.getInvoice(openInvoice).ref).toBe('named');
  });

  it('maps positional arguments by an explicit table and refuses what it cannot name', () => {
    expect(
      json2Body('account.move', 'search_read', [[['state', '=', 'posted']]], { fields: ['name'] }),
    ).toEqual({
      domain: [['state', '=', 'posted']],
      fields: ['name'],
    });
    expect(json2Body('account.payment.register', 'create', [[{ amount: 1 }]], {})).toEqual({
      vals_list: [{ amount: 1 }],
    });
    expect(json2Body('ir.config_parameter', 'get_param', ['database.uuid'], {})).toEqual({
      key: 'database.uuid',
    });
    expect(json2Body('account.move', 'action_post', [[7]], {})).toEqual({ ids: [7] });
    expect(json2Body('account.move', 'read', [[7], ['name']], {})).toEqual({ ids: [7], fields: ['name'] });
    expect(json2Body('account.move', 'get_views', [], { views: [[false, 'form']] })).toEqual({
      views: [[false, 'form']],
    });
    const refused = (() => {
      try {
        json2Body('account.move', 'button_draft', [[7]], {});
      } catch (error) {
        return error;
      }
    })();
    expect(isOdooError(refused, 'protocol')).toBe(true);
    expect((refused as Error).message).toMatch(/account\.move\.button_draft .*JSON2_SIGNATURES/);
  });

  it('says an 18.0 server has no JSON-2 (it redirects /json/2)', async () => {
    const old = await startOdooSandbox({ version: '18.0' });
    try {
      old.addApiKey(BOT_KEY);
      const error = await failure(() =>
        new Json2Transport({ url: old.url, timeoutMs: 5_000 }).executeKw(
          { db: old.db, uid: 2, password: BOT_KEY },
          'account.move',
          'search_count',
          [[]],
          {},
        ),
      );
      expect(error.kind).toBe('not_found');
      expect(error.details.httpStatus).toBe(303);
    } finally {
      await old.close();
    }
  });

  it('names a wrong database as such', async () => {
    const error = await failure(() =>
      new Json2Transport({ url: odoo.url, timeoutMs: 5_000 }).executeKw(
        { db: 'no_such_db', uid: 2, password: BOT_KEY },
        'account.move',
        'search_count',
        [[]],
        {},
      ),
    );
    expect(error.kind).toBe('unknown_database');
  });

  it('times out and reports an unreachable server like JSON-RPC', async () => {
    odoo.faults.latencyMs = 300;
    try {
      const error = await failure(() =>
        new Json2Transport({ url: odoo.url, timeoutMs: 50 }).common('version', []),
      );
      expect(error.kind).toBe('timeout');
    } finally {
      odoo.faults.latencyMs = 0;
    }
    const closed = await startOdooSandbox({ version: '19.0' });
    const url = closed.url;
    await closed.close();
    const error = await failure(() => new Json2Transport({ url, timeoutMs: 1_000 }).common('version', []));
    expect(error.kind).toBe('network');
  });
});
