import type { Config } from '../config/schema.js';
import type { Gateway } from './gateway.js';
import { createMyTpeGateway } from './mytpe/gateway.js';

/**
 * Builds the configured gateways. Adding a gateway means adding its folder and one entry here;
 * the pipeline only ever sees the Gateway interface.
 */
export function createGateways(
  config: Config,
  fetchImpl?: typeof fetch,
  /** Webhook secrets `setup-gateway` registered, by gateway and account (config wins). */
  storedSecrets: Readonly<Record<string, Readonly<Record<string, string>>>> = {},
): Map<string, Gateway> {
  const gateways = new Map<string, Gateway>();
  const { mytpe } = config.gateways;
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
        fetch: fetchImpl,
      }),
    );
  }
  return gateways;
}
