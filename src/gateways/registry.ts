import type { Config } from '../config/schema.js';
import type { Gateway } from './gateway.js';
import { createMpChatGateway } from './mpchat/gateway.js';
import { createMyTpeGateway } from './mytpe/gateway.js';
import { type GatewayCall, observedFetch } from './observed-fetch.js';
import { createTendoPayGateway } from './tendopay/gateway.js';
import { createTiloPayGateway } from './tilopay/gateway.js';

/**
 * Builds the configured gateways. Adding a gateway means adding its folder and one entry here;
 * the pipeline only ever sees the Gateway interface.
 */
export function createGateways(
  config: Config,
  fetchImpl?: typeof fetch,
  /** Webhook secrets `setup-gateway` registered, by gateway and account (config wins). */
  storedSecrets: Readonly<Record<string, Readonly<Record<string, string>>>> = {},
  /** The daemon's clock: order lifetimes and signature freshness are judged on it. */
  now: () => number = Date.now,
  /** Told of every HTTP call each gateway makes (metrics). */
  onCall?: (call: GatewayCall) => void,
): Map<string, Gateway> {
  const fetchOf = (gateway: string): typeof fetch | undefined =>
    onCall ? observedFetch(gateway, fetchImpl ?? ((input, init) => fetch(input, init)), onCall) : fetchImpl;
  const gateways = new Map<string, Gateway>();
  const { mytpe, tilopay, tendopay, mpchat } = config.gateways;
  if (mytpe) {
    gateways.set(
      'mytpe',
      createMyTpeGateway({
        baseUrl: mytpe.baseUrl,
        apiKey: mytpe.apiKey,
        apiSecret: mytpe.apiSecret,
        timeoutMs: mytpe.timeoutMs,
        webhookSecrets: {
          byInstance: { ...storedSecrets.mytpe, ...mytpe.webhookSecrets },
          shared: mytpe.webhookSecret,
        },
        fetch: fetchOf('mytpe'),
      }),
    );
  }
  if (tilopay) {
    gateways.set(
      'tilopay',
      createTiloPayGateway({
        baseUrl: tilopay.baseUrl,
        accounts: tilopay.accounts,
        currencies: tilopay.currencies,
        orderTtlMs: tilopay.orderTtlMinutes * 60_000,
        timeoutMs: tilopay.timeoutMs,
        fetch: fetchOf('tilopay'),
        now,
      }),
    );
  }
  if (tendopay) {
    gateways.set(
      'tendopay',
      createTendoPayGateway({
        baseUrl: tendopay.baseUrl,
        accounts: tendopay.accounts,
        orderTtlMs: tendopay.orderTtlHours * 3_600_000,
        centavos: tendopay.centavos,
        timeoutMs: tendopay.timeoutMs,
        fetch: fetchOf('tendopay'),
        now,
      }),
    );
  }
  if (mpchat) {
    const registered = storedSecrets.mpchat ?? {};
    gateways.set(
      'mpchat',
      createMpChatGateway({
        baseUrl: mpchat.baseUrl,
        accounts: Object.fromEntries(
          Object.entries(mpchat.accounts).map(([name, account]) => {
            const webhookSecret = account.webhookSecret ?? registered[name];
            return [name, { ...account, ...(webhookSecret ? { webhookSecret } : {}) }];
          }),
        ),
        network: mpchat.network,
        tolerancePercent: mpchat.tolerancePercent,
        overpayment: mpchat.overpayment,
        usdtPerUsd: mpchat.usdtPerUsd,
        invoiceCurrencies: mpchat.invoiceCurrencies,
        webhookSigning: mpchat.webhookSigning,
        timeoutMs: mpchat.timeoutMs,
        fetch: fetchOf('mpchat'),
        now,
      }),
    );
  }
  return gateways;
}
