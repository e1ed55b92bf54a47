import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { createMetrics } from './metrics.js';

const noStore = {
  linksByState: () => [],
  oldestOpenLinkCreatedAt: () => undefined,
  eventsByState: () => [],
  pendingNotes: () => 0,
  unshownStatuses: () => 0,
  emailsByState: () => undefined,
  storeOpen: () => true,
  now: () => 0,
};

describe('metrics', () => {
  it('keeps each app in its own registry', async () => {
    const one = createMetrics(noStore);
    const two = createMetrics(noStore);
    one.webhook('mytpe', 'accepted');
    expect(await one.registry.getSingleMetricAsString('paylink_webhooks_total')).toContain(
      'paylink_webhooks_total{gateway="mytpe",verdict="accepted"} 1',
    );
    expect(await two.registry.getSingleMetricAsString('paylink_webhooks_total')).not.toContain('mytpe');
  });

  it('reads nothing from a closed store', async () => {
    const metrics = createMetrics({
      ...noStore,
      storeOpen: () => false,
      linksByState: () => {
        throw new Error('The database connection is not open');
      },
    });
    expect((await metrics.scrape()).body).toContain('# TYPE paylink_links gauge');
  });

  it('has every metric the Grafana dashboard charts', async () => {
    const dashboard = readFileSync(
      path.resolve(import.meta.dirname, '../../dashboards/odoo-paylink.json'),
      'utf8',
    );
    const charted = new Set([...dashboard.matchAll(/\bpaylink_[a-z_]+/g)].map(([name]) => name));
    const names = (await createMetrics(noStore).registry.getMetricsAsJSON()).map((metric) => metric.name);
    const known = new Set(names.flatMap((name) => [name, `${name}_bucket`, `${name}_count`, `${name}_sum`]));
    expect([...charted].filter((name) => !known.has(name))).toEqual([]);
    expect(charted.size).toBeGreaterThan(10);
  });
});
