import { afterEach, describe, expect, it } from 'vitest';
import { type OdooSandbox, type OdooSandboxOptions, startOdooSandbox } from './server.js';

const running: OdooSandbox[] = [];

async function sandbox(options: OdooSandboxOptions = {}): Promise<OdooSandbox> {
  const started = await startOdooSandbox(options);
  running.push(started);
  return started;
}

afterEach(async () => {
  for (const started of running.splice(0)) await started.close();
});

type Envelope = {
  jsonrpc: string;
  id: unknown;
  result?: unknown;
  error?: { code: number; message: string; data: { name: string; message: string; arguments: unknown[] } };
};

async function post(url: string, body: unknown, headers: Record<string, string> = {}): Promise<Response> {
  return fetch(url, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
}

async function rpc(
  odoo: OdooSandbox,
  service: string,
  method: string,
  args: unknown[],
  id: unknown = 7,
): Promise<Envelope> {
  const response = await post(`${odoo.url}/jsonrpc`, {
    jsonrpc: '2.0',
    method: 'call',
    id,
    params: { service, method, args },
  });
  expect(response.status).toBe(200);
  return (await response.json()) as Envelope;
}

function executeKw(
  odoo: OdooSandbox,
  model: string,
  method: string,
  args: unknown[],
  kwargs: object = {},
  password = odoo.password,
) {
  return rpc(odoo, 'object', 'execute_kw', [odoo.db, 2, password, model, method, args, kwargs]);
}

async function webLogin(
  odoo: OdooSandbox,
  password = odoo.password,
): Promise<{ cookie: string; body: Envelope }> {
  const response = await post(`${odoo.url}/web/session/authenticate`, {
    jsonrpc: '2.0',
    method: 'call',
    id: 1,
    params: { db: odoo.db, login: odoo.login, password },
  });
  const cookie = (response.headers.get('set-cookie') ?? '').split(';')[0] ?? '';
  return { cookie, body: (await response.json()) as Envelope };
}

describe('JSON-RPC envelope', () => {
  it('answers common.version, login and authenticate like Odoo 18.0', async () => {
    const odoo = await sandbox();
    expect(odoo.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(await rpc(odoo, 'common', 'version', [], 'abc')).toEqual({
      jsonrpc: '2.0',
      id: 'abc',
      result: {
        server_version: '18.0-20250702',
        server_version_info: [18, 0, 0, 'final', 0, ''],
        server_serie: '18.0',
        protocol_version: 1,
      },
    });
    expect((await rpc(odoo, 'common', 'login', [odoo.db, 'admin', 'admin'])).result).toBe(2);
    expect((await rpc(odoo, 'common', 'authenticate', [odoo.db, 'admin', 'wrong', {}])).result).toBe(false);
  });

  it('raises AccessDenied for a wrong password on execute_kw, with error.code 200 on 18.0 and 0 on 19.0', async () => {
    for (const version of ['18.0', '19.0'] as const) {
      const odoo = await sandbox({ version });
      const answer = await executeKw(odoo, 'res.partner', 'search_count', [[]], {}, 'wrong');
      expect(answer.error).toMatchObject({
        code: version === '18.0' ? 200 : 0,
        message: 'Odoo Server Error',
        data: {
          name: 'odoo.exceptions.AccessDenied',
          message: 'Access Denied',
          arguments: ['Access Denied'],
        },
      });
      expect(Object.keys(answer).sort()).toEqual(['error', 'id', 'jsonrpc']);
    }
  });

  it('names the database error of an unknown db like psycopg2 does', async () => {
    const odoo = await sandbox({ db: 'paylink' });
    const answer = await rpc(odoo, 'common', 'login', ['nope', 'admin', 'admin']);
    expect(answer.error?.data.name).toBe('psycopg2.OperationalError');
    expect(answer.error?.data.message).toContain('database "nope" does not exist');
  });

  it('answers HTTP errors for what is not JSON-RPC: 400 plain text, 415, 405, 404', async () => {
    const odoo = await sandbox();
    const bad = await post(`${odoo.url}/jsonrpc`, 'not json');
    expect([bad.status, await bad.text()]).toEqual([400, 'Invalid JSON data']);
    const list = await post(`${odoo.url}/jsonrpc`, '[1, 2]');
    expect([list.status, await list.text()]).toEqual([400, 'Invalid JSON-RPC data']);
    const form = await post(`${odoo.url}/jsonrpc`, '{}', { 'Content-Type': 'text/plain' });
    expect(form.status).toBe(415);
    expect((await fetch(`${odoo.url}/jsonrpc`)).status).toBe(405);
    expect((await fetch(`${odoo.url}/nowhere`)).status).toBe(404);
  });

  it('reports Python errors for mis-shaped calls', async () => {
    const odoo = await sandbox();
    const missing = await post(`${odoo.url}/jsonrpc`, {
      jsonrpc: '2.0',
      id: 1,
      params: { service: 'common', method: 'version' },
    });
    expect(((await missing.json()) as Envelope).error?.data.name).toBe('builtins.TypeError');
    expect((await rpc(odoo, 'nope', 'x', [])).error?.data.name).toBe('builtins.KeyError');
    expect((await rpc(odoo, 'object', 'run', [])).error?.data).toMatchObject({
      name: 'builtins.NameError',
      message: 'Method not available run',
    });
  });

  it('serves /web/version per version', async () => {
    const v18 = await sandbox();
    const v19 = await sandbox({ version: '19.0' });
    expect(await (await fetch(`${v18.url}/web/version`)).json()).toEqual({
      version_info: [18, 0, 0, 'final', 0, ''],
      version: '18.0',
    });
    expect(await (await fetch(`${v19.url}/web/version`)).json()).toEqual({
      version_info: [19, 0, 0, 'final', 0, ''],
      version: '19.0',
    });
  });

  it('supports execute (positional) as well as execute_kw', async () => {
    const odoo = await sandbox({ seed: 'demo' });
    const answer = await rpc(odoo, 'object', 'execute', [
      odoo.db,
      2,
      odoo.password,
      'account.move',
      'search_count',
      [['move_type', '=', 'out_invoice']],
    ]);
    expect(answer.result).toBe(6);
  });
});

describe('web session, call_kw and the invoice PDF', () => {
  it('opens a session cookie and answers session info', async () => {
    const odoo = await sandbox();
    const refused = await webLogin(odoo, 'wrong');
    expect(refused.body.error?.data.name).toBe('odoo.exceptions.AccessDenied');
    const { cookie, body } = await webLogin(odoo);
    expect(cookie).toMatch(/^session_id=.+/);
    expect(body.result).toMatchObject({
      uid: 2,
      db: odoo.db,
      username: 'admin',
      partner_display_name: 'YourCompany, Mitchell Admin',
    });
  });

  it('runs call_kw for the session user, and answers SessionExpired without a session', async () => {
    const odoo = await sandbox({ seed: 'demo' });
    const anonymous = await post(`${odoo.url}/web/dataset/call_kw/account.move/search_count`, {
      jsonrpc: '2.0',
      id: 3,
      params: { model: 'account.move', method: 'search_count', args: [[]], kwargs: {} },
    });
    expect(((await anonymous.json()) as Envelope).error).toMatchObject({
      code: 100,
      message: 'Odoo Session Expired',
      data: { name: 'odoo.http.SessionExpiredException' },
    });
    const { cookie } = await webLogin(odoo);
    const answer = await post(
      `${odoo.url}/web/dataset/call_kw/account.move/search_count`,
      {
        jsonrpc: '2.0',
        id: 4,
        params: {
          model: 'account.move',
          method: 'search_count',
          args: [[['move_type', '=', 'out_invoice']]],
          kwargs: {},
        },
      },
      { Cookie: cookie },
    );
    expect(((await answer.json()) as Envelope).result).toBe(6);
  });

  it('makes an API key through the web session that then works as the password', async () => {
    for (const version of ['18.0', '19.0'] as const) {
      const odoo = await sandbox({ version });
      const { cookie } = await webLogin(odoo);
      const callKw = async (model: string, method: string, args: unknown[], kwargs: object = {}) => {
        const response = await post(
          `${odoo.url}/web/dataset/call_kw/${model}/${method}`,
          { jsonrpc: '2.0', id: 1, params: { model, method, args, kwargs } },
          { Cookie: cookie },
        );
        return (await response.json()) as Envelope;
      };
      const overRpc = await executeKw(odoo, 'res.users.apikeys.description', 'make_key', [[]]);
      expect(overRpc.error?.data.message).toBe('This method can only be accessed over HTTP');
      const description = (
        await callKw('res.users.apikeys.description', 'create', [{ name: 'paylink', duration: '0' }])
      ).result;
      const check = (await callKw('res.users.apikeys.description', 'make_key', [[description]])).result as {
        res_id: number;
      };
      // 18.0 writes the password on the identity check; 19.0 passes it in the context.
      if (version === '18.0') {
        await callKw('res.users.identitycheck', 'write', [[check.res_id], { password: 'admin' }]);
      }
      const shown = await callKw(
        'res.users.identitycheck',
        'run_check',
        [[check.res_id]],
        version === '18.0' ? {} : { context: { password: 'admin' } },
      );
      const key = (shown.result as { context: { default_key: string } }).context.default_key;
      expect(key).toMatch(/^[0-9a-f]{40}$/);
      expect((await rpc(odoo, 'common', 'authenticate', [odoo.db, 'admin', key, {}])).result).toBe(2);
      expect((await executeKw(odoo, 'res.partner', 'search_count', [[]], {}, key)).result).toBeGreaterThan(0);
    }
  });

  it('accepts keys added with addApiKey', async () => {
    const odoo = await sandbox();
    odoo.addApiKey('0123456789abcdef0123456789abcdef01234567');
    const answer = await executeKw(
      odoo,
      'res.partner',
      'search_count',
      [[]],
      {},
      '0123456789abcdef0123456789abcdef01234567',
    );
    expect(answer.result).toBeGreaterThan(0);
  });

  it('serves the invoice report as a PDF to a session, and redirects to /web/login without one', async () => {
    const odoo = await sandbox({ seed: 'demo' });
    const redirect = await fetch(`${odoo.url}/report/pdf/account.report_invoice/1`, { redirect: 'manual' });
    expect(redirect.status).toBe(303);
    expect(redirect.headers.get('location')).toBe(
      '/web/login?redirect=%2Freport%2Fpdf%2Faccount.report_invoice%2F1',
    );
    const { cookie } = await webLogin(odoo);
    const report = await fetch(`${odoo.url}/report/pdf/account.report_invoice/1`, {
      headers: { Cookie: cookie },
    });
    expect(report.status).toBe(200);
    expect(report.headers.get('content-type')).toBe('application/pdf');
    const bytes = Buffer.from(await report.arrayBuffer());
    expect(bytes.subarray(0, 5).toString()).toBe('%PDF-');
    expect(bytes.toString('latin1')).toContain(odoo.models.getInvoice(1).name);
    const missing = await fetch(`${odoo.url}/report/pdf/account.report_invoice/999`, {
      headers: { Cookie: cookie },
    });
    expect(missing.status).toBe(500);
  });

  it('applies record rules to the report: another company needs the cids cookie', async () => {
    const odoo = await sandbox();
    const company = odoo.models.createCompany({ name: 'Other', currency: 'EUR' });
    const partner = odoo.models.createPartner({ name: 'Client' });
    const invoice = odoo.models.createInvoice({ partnerId: partner, companyId: company, amount: '10.00' });
    const { cookie } = await webLogin(odoo);
    const url = `${odoo.url}/report/pdf/account.report_invoice/${invoice}`;
    expect((await fetch(url, { headers: { Cookie: cookie } })).status).toBe(500);
    expect((await fetch(url, { headers: { Cookie: `${cookie}; cids=${company}-1` } })).status).toBe(200);
  });
});

describe('faults and the call log', () => {
  it('cuts every connection while down', async () => {
    const odoo = await sandbox();
    odoo.faults.down = true;
    await expect(rpc(odoo, 'common', 'version', [])).rejects.toThrow();
    odoo.faults.down = false;
    expect((await rpc(odoo, 'common', 'version', [])).result).toBeTruthy();
  });

  it('adds latency to every request', async () => {
    const odoo = await sandbox({ latencyMs: 60 });
    const started = Date.now();
    await rpc(odoo, 'common', 'version', []);
    expect(Date.now() - started).toBeGreaterThanOrEqual(55);
    odoo.faults.latencyMs = 0;
  });

  it('fails object calls at errorRate with a transient SerializationFailure', async () => {
    const odoo = await sandbox();
    odoo.faults.errorRate = 1;
    const answer = await executeKw(odoo, 'res.partner', 'search_count', [[]]);
    expect(answer.error?.data).toMatchObject({
      name: 'psycopg2.errors.SerializationFailure',
      message: 'could not serialize access due to concurrent update',
    });
    expect((await rpc(odoo, 'common', 'version', [])).result).toBeTruthy();
    odoo.faults.errorRate = 0;
    expect((await executeKw(odoo, 'res.partner', 'search_count', [[]])).result).toBeGreaterThan(0);
  });

  it('fails the next matching calls with exactly the scripted Odoo error', async () => {
    const odoo = await sandbox({ version: '19.0', seed: 'demo' });
    odoo.faults.failNext(
      { model: 'account.payment.register', method: 'action_create_payments' },
      { name: 'odoo.exceptions.LockError', message: 'Cannot lock the record' },
      2,
    );
    const other = await executeKw(odoo, 'account.move', 'search_count', [[]]);
    expect(other.result).toBeGreaterThan(0);
    for (let attempt = 0; attempt < 2; attempt++) {
      const failed = await executeKw(odoo, 'account.payment.register', 'action_create_payments', [[1]]);
      expect(failed.error).toMatchObject({
        code: 0,
        data: { name: 'odoo.exceptions.LockError', message: 'Cannot lock the record' },
      });
    }
    const ctx = { context: { active_model: 'account.move', active_ids: [1] } };
    const wizard = await executeKw(
      odoo,
      'account.payment.register',
      'create',
      [{ communication: 'GW:1' }],
      ctx,
    );
    const done = await executeKw(
      odoo,
      'account.payment.register',
      'action_create_payments',
      [[wizard.result]],
      ctx,
    );
    expect(done.result).toMatchObject({ res_model: 'account.payment' });
    odoo.faults.failNext(
      { method: 'authenticate' },
      { name: 'odoo.exceptions.AccessDenied', message: 'Access Denied' },
    );
    expect(
      (await rpc(odoo, 'common', 'authenticate', [odoo.db, 'admin', 'admin', {}])).error?.data.name,
    ).toBe('odoo.exceptions.AccessDenied');
  });

  it('can lose the answer of a call that Odoo carried out', async () => {
    const odoo = await sandbox({ seed: 'demo' });
    const ctx = { context: { active_model: 'account.move', active_ids: [2] } };
    const wizard = await executeKw(
      odoo,
      'account.payment.register',
      'create',
      [{ communication: 'GW:lost' }],
      ctx,
    );
    odoo.faults.dropResponseNext({ method: 'action_create_payments' });
    await expect(
      executeKw(odoo, 'account.payment.register', 'action_create_payments', [[wizard.result]], ctx),
    ).rejects.toThrow();
    expect(odoo.models.paymentsByMemo('GW:lost')).toHaveLength(1);
    expect(odoo.models.getInvoice(2).payment_state).toBe('paid');
  });

  it('logs every call with model, method and kwargs (context included), never the password', async () => {
    const odoo = await sandbox();
    await rpc(odoo, 'common', 'authenticate', [odoo.db, 'admin', 'admin', {}]);
    await executeKw(odoo, 'account.move', 'search_read', [[['state', '=', 'posted']]], {
      fields: ['name'],
      context: { allowed_company_ids: [1] },
    });
    expect(
      odoo.calls.map(({ service, method, model, modelMethod }) => ({ service, method, model, modelMethod })),
    ).toEqual([
      { service: 'common', method: 'authenticate', model: undefined, modelMethod: undefined },
      { service: 'object', method: 'execute_kw', model: 'account.move', modelMethod: 'search_read' },
    ]);
    expect(odoo.calls[1]?.kwargs).toEqual({ fields: ['name'], context: { allowed_company_ids: [1] } });
    expect(JSON.stringify(odoo.calls)).not.toContain('"admin","admin"');
    odoo.calls.length = 0;
    expect(odoo.calls).toEqual([]);
  });
});
