import { afterEach, describe, expect, it } from 'vitest';
import { silentLogger } from '../log.js';
import { openDatabase } from '../store/database.js';
import { EventRepository } from '../store/events.js';
import { LinkRepository } from '../store/links.js';
import { createHttpServer, type Readiness, type ReadinessReason } from './server.js';

const db = openDatabase(':memory:');
let readiness: Readiness = { ok: true };
const server = createHttpServer({
  gateways: new Map(),
  events: new EventRepository(db),
  links: new LinkRepository(db),
  recordOf: () => undefined,
  log: silentLogger,
  now: Date.now,
  onEvent: () => {},
  ready: () => readiness,
});

afterEach(() => {
  readiness = { ok: true };
});

describe('/readyz', () => {
  it('answers 200 when ready', async () => {
    const response = await server.inject({ method: 'GET', url: '/readyz' });
    expect(response.statusCode).toBe(200);
    expect(response.json()).toEqual({ status: 'ready' });
  });

  it.each<ReadinessReason>([
    'odoo_credentials_refused',
    'odoo_unknown_database',
    'odoo_fields_missing',
    'odoo_identity_missing',
    'odoo_unavailable',
  ])('answers 503 with nothing but the code %s', async (reason) => {
    readiness = { ok: false, reason };
    const response = await server.inject({ method: 'GET', url: '/readyz' });
    expect(response.statusCode).toBe(503);
    expect(response.json()).toEqual({ status: 'not_ready', reason });
  });
});
