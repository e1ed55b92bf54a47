import { afterEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { silentLogger } from '../log.js';
import { type OdooSandbox, startOdooSandbox } from '../sandbox/odoo/server.js';
import { RpcOdooClient } from './client.js';
import { classifyOdooError, OdooError } from './errors.js';
import { describeFault, XmlRpcTransport } from './xmlrpc.js';
import { decodeMethodResponse, encodeFault, encodeMethodCall } from './xmlrpc-codec.js';

const running: OdooSandbox[] = [];

async function sandbox(version: '18.0' | '19.0'): Promise<OdooSandbox> {
  const started = await startOdooSandbox({ version, bot: {} });
  running.push(started);
  return started;
}

afterEach(async () => {
  for (const started of running.splice(0)) await started.close();
});

async function failure(run: () => Promise<unknown>): Promise<OdooError> {
  try {
    await run();
  } catch (error) {
    if (error instanceof OdooError) return error;
    throw error;
  }
  throw new Error('expected an OdooError');
}

describe('XmlRpcTransport', () => {
  it.each(['18.0', '19.0'] as const)(
    'drives RpcOdooClient on %s with the bot’s password',
    async (version) => {
      const odoo = await sandbox(version);
      const partner = odoo.models.createPartner({ name: 'Azure Interior' });
      const invoice = odoo.models.createInvoice({ partnerId: partner, amount: '120.50' });
      const client = new RpcOdooClient(
        new XmlRpcTransport({ url: odoo.url, timeoutMs: 5_000 }),
        { db: odoo.db, login: odoo.bot!.login, password: odoo.bot!.password },
        silentLogger,
      );
      expect((await client.version()).major).toBe(Number.parseInt(version, 10));
      const rows = await client.searchRead(
        'account.move',
        [['id', '=', invoice]],
        z.object({ id: z.number(), amount_total: z.number(), partner_id: z.tuple([z.number(), z.string()]) }),
        { companyIds: [1], fields: ['amount_total', 'partner_id'] },
      );
      expect(rows).toEqual([{ id: invoice, amount_total: 120.5, partner_id: [partner, 'Azure Interior'] }]);
      await client.write('account.move', [invoice], { ref: 'over xml-rpc' }, { companyIds: [1] });
      expect(odoo.models.getInvoice(invoice).ref).toBe('over xml-rpc');
    },
  );

  it('answers a wrong password at login with false, which halts the client', async () => {
    const odoo = await sandbox('19.0');
    const client = new RpcOdooClient(
      new XmlRpcTransport({ url: odoo.url, timeoutMs: 5_000 }),
      { db: odoo.db, login: odoo.bot!.login, password: 'not-the-password' },
      silentLogger,
    );
    const error = await failure(() => client.searchCount('account.move', [], { companyIds: [1] }));
    expect(error.kind).toBe('access_denied');
    expect(error.message).not.toContain('not-the-password');
    expect(client.halted).toBeDefined();
  });

  it('times out per call, and reports a dead server as a network error', async () => {
    const odoo = await sandbox('19.0');
    odoo.faults.latencyMs = 300;
    const slow = await failure(() =>
      new XmlRpcTransport({ url: odoo.url, timeoutMs: 50 }).common('version', []),
    );
    expect(slow.kind).toBe('timeout');
    odoo.faults.latencyMs = 0;
    odoo.faults.down = true;
    const down = await failure(() =>
      new XmlRpcTransport({ url: odoo.url, timeoutMs: 1_000 }).common('version', []),
    );
    expect(down.kind).toBe('network');
  });

  it('classifies an injected fault like JSON-RPC does (SerializationFailure is retryable)', async () => {
    const odoo = await sandbox('19.0');
    odoo.faults.failNext(
      { method: 'search_count' },
      {
        name: 'psycopg2.errors.SerializationFailure',
        message: 'could not serialize access due to concurrent update',
      },
    );
    const error = await failure(() =>
      new XmlRpcTransport({ url: odoo.url, timeoutMs: 5_000 }).executeKw(
        { db: odoo.db, uid: 2, password: odoo.password },
        'account.move',
        'search_count',
        [[]],
        {},
      ),
    );
    expect(error.kind).toBe('concurrency');
    expect(error.retryable).toBe(true);
  });
});

describe('the sandbox’s /xmlrpc/2 (raw answers)', () => {
  async function raw(odoo: OdooSandbox, service: string, method: string, params: unknown[]) {
    const response = await fetch(`${odoo.url}/xmlrpc/2/${service}`, {
      method: 'POST',
      headers: { 'Content-Type': 'text/xml' },
      body: encodeMethodCall(method, params),
    });
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^text\/xml/);
    return decodeMethodResponse(await response.text());
  }

  it('answers faults with Odoo’s codes: 3 AccessDenied, 4 AccessError, 2 UserError, 1 with a traceback', async () => {
    const odoo = await sandbox('19.0');
    const invoice = odoo.models.createInvoice({
      partnerId: odoo.models.createPartner({ name: 'P' }),
      amount: '5.00',
    });
    const admin = (model: string, method: string, args: unknown[], kwargs: Record<string, unknown> = {}) =>
      raw(odoo, 'object', 'execute_kw', [odoo.db, 2, odoo.password, model, method, args, kwargs]);
    expect(await raw(odoo, 'common', 'authenticate', [odoo.db, odoo.login, odoo.password, {}])).toEqual({
      ok: true,
      value: 2,
    });
    expect(
      await raw(odoo, 'object', 'execute_kw', [odoo.db, 2, 'wrong', 'account.move', 'search_count', [[]]]),
    ).toEqual({
      ok: false,
      fault: { faultCode: 3, faultString: 'Access Denied' },
    });
    const bot = odoo.bot!;
    expect(
      await raw(odoo, 'object', 'execute_kw', [
        odoo.db,
        bot.uid,
        bot.password,
        'ir.config_parameter',
        'get_param',
        ['database.uuid'],
      ]),
    ).toMatchObject({ ok: false, fault: { faultCode: 4 } });
    expect(
      await admin('account.move', 'write', [
        [invoice],
        { partner_id: odoo.models.createPartner({ name: 'Q' }) },
      ]),
    ).toEqual({
      ok: false,
      fault: {
        faultCode: 2,
        faultString: 'You cannot modify the following readonly fields on a posted move: partner_id',
      },
    });
    const keyError = await admin('account.move', 'write', [[invoice], { x_nope: 1 }]);
    expect(keyError.ok).toBe(false);
    if (!keyError.ok) {
      expect(keyError.fault.faultCode).toBe(1);
      expect(keyError.fault.faultString).toMatch(
        /^Traceback \(most recent call last\):\n[\s\S]*\nKeyError: 'x_nope'\n$/,
      );
    }
  });
});

describe('describeFault (Odoo /xmlrpc/2 fault codes)', () => {
  const traceback = (last: string) =>
    `Traceback (most recent call last):\n  File "/opt/odoo/odoo/http.py", line 2275, in _serve_db\n    return service_model.retrying(serve_func, env=self.env)\n           ^^^^^^^^^^^^^^^^\n${last}\n`;

  it.each([
    [{ faultCode: 3, faultString: 'Access Denied' }, 'odoo.exceptions.AccessDenied', 'access_denied'],
    [
      { faultCode: 4, faultString: "You are not allowed to access 'System Parameter'" },
      'odoo.exceptions.AccessError',
      'access',
    ],
    [
      { faultCode: 2, faultString: "Object x.nonexistent.model doesn't exist" },
      'odoo.exceptions.UserError',
      'unknown_model',
    ],
    [
      {
        faultCode: 2,
        faultString: 'Record does not exist or has been deleted.\n(Record: account.move(999999,), User: 2)',
      },
      'odoo.exceptions.MissingError',
      'missing',
    ],
    [
      { faultCode: 2, faultString: 'You cannot modify the following readonly fields' },
      'odoo.exceptions.UserError',
      'user',
    ],
    [
      { faultCode: 1, faultString: traceback("KeyError: 'x_does_not_exist'") },
      'builtins.KeyError',
      'unknown_field',
    ],
    [
      { faultCode: 1, faultString: traceback("ValueError: Invalid field 'x_foo' on 'account.move'") },
      'builtins.ValueError',
      'unknown_field',
    ],
    [
      {
        faultCode: 1,
        faultString: traceback("AttributeError: The method 'account.move.nope' does not exist"),
      },
      'builtins.AttributeError',
      'unknown_method',
    ],
    [
      {
        faultCode: 1,
        faultString: traceback(
          'psycopg2.OperationalError: connection to server at "127.0.0.1", port 5432 failed: FATAL:  database "nope" does not exist\n',
        ),
      },
      'psycopg2.OperationalError',
      'unknown_database',
    ],
  ])('%o is %s (%s)', (fault, name, kind) => {
    const described = describeFault(fault);
    expect(described.name).toBe(name);
    expect(classifyOdooError(described.name, described.message)).toBe(kind);
  });

  it('keeps the key of a KeyError as the message, as JSON-RPC does', () => {
    expect(describeFault({ faultCode: 1, faultString: "Traceback:\n  x\nKeyError: 'x_a'\n" }).message).toBe(
      'x_a',
    );
  });

  it('round-trips through the xmlrpc package the library is built on', async () => {
    expect(await decodeMethodResponse(encodeFault({ faultCode: 2, faultString: 'boom' }))).toEqual({
      ok: false,
      fault: { faultCode: 2, faultString: 'boom' },
    });
    expect(encodeMethodCall('version', [])).toContain('<methodName>version</methodName>');
  });
});
