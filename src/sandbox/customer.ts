import type { MpChatSandbox } from './mpchat/server.js';
import type { MyTpeSandbox } from './mytpe/server.js';
import type { TendoPaySandbox } from './tendopay/server.js';
import type { TiloPaySandbox } from './tilopay/server.js';

/**
 * A customer's browser, without the browser: opens an invoice's pay address, follows the
 * daemon's redirect to the gateway's hosted page, acts there as a click on the sandbox page
 * would, and follows the gateway's redirect back to the daemon's /return page. Sandbox mode and
 * the integration tests pay through it, so the whole path a real customer takes is exercised.
 */
export interface GatewaySandboxes {
  readonly mytpe?: MyTpeSandbox | undefined;
  readonly tilopay?: TiloPaySandbox | undefined;
  readonly tendopay?: TendoPaySandbox | undefined;
  readonly mpchat?: MpChatSandbox | undefined;
}

export type CustomerChoice = 'pay' | 'decline' | 'abandon';

export interface CustomerVisit {
  /** The gateway whose page the pay address led to; undefined when it answered with a page. */
  readonly gateway: keyof GatewaySandboxes | undefined;
  /** The hosted page the daemon sent the customer to. */
  readonly hostedPage: string | undefined;
  /** The daemon's last answer: its pay page, or the /return result page. */
  readonly status: number;
  readonly html: string;
}

async function get(url: string): Promise<Response> {
  return fetch(url, { redirect: 'manual', headers: { 'accept-language': 'en' } });
}

/** Follows redirects back to the daemon until it answers with a page. */
async function landOn(url: string): Promise<{ status: number; html: string }> {
  let next = url;
  for (let hop = 0; hop < 5; hop++) {
    const answer = await get(next);
    const location = answer.headers.get('location');
    if (answer.status >= 300 && answer.status < 400 && location) {
      await answer.body?.cancel();
      next = new URL(location, next).toString();
      continue;
    }
    return { status: answer.status, html: await answer.text() };
  }
  throw new Error(`too many redirects from ${url}`);
}

function sameOrigin(a: string, b: string): boolean {
  return new URL(a).origin === new URL(b).origin;
}

export async function visitPayAddress(
  payAddress: string,
  sandboxes: GatewaySandboxes,
  choice: CustomerChoice = 'pay',
): Promise<CustomerVisit> {
  const first = await get(payAddress);
  const location = first.headers.get('location');
  if (first.status < 300 || first.status >= 400 || !location) {
    return { gateway: undefined, hostedPage: undefined, status: first.status, html: await first.text() };
  }
  await first.body?.cancel();
  const hostedPage = new URL(location, payAddress).toString();
  const { mytpe, tilopay, tendopay, mpchat } = sandboxes;
  if (mytpe && sameOrigin(hostedPage, mytpe.url)) {
    const link = mytpe.links().find((candidate) => candidate.payment_link === hostedPage);
    if (!link) throw new Error(`the MyTPE sandbox has no link at ${hostedPage}`);
    if (choice === 'pay') mytpe.pay(link.id);
    else if (choice === 'decline') mytpe.pay(link.id, { outcome: 'failed' });
    return { gateway: 'mytpe', hostedPage, status: 200, html: '' };
  }
  if (tilopay && sameOrigin(hostedPage, tilopay.url)) {
    const order = tilopay.orders().find((candidate) => candidate.pageUrls.includes(hostedPage));
    if (!order) throw new Error(`the TiloPay sandbox has no order with page ${hostedPage}`);
    if (choice === 'abandon') return { gateway: 'tilopay', hostedPage, status: 200, html: '' };
    const { redirectUrl } = await tilopay.pay(order.orderNumber, choice === 'pay' ? 'approved' : 'declined');
    return { gateway: 'tilopay', hostedPage, ...(await landOn(redirectUrl)) };
  }
  if (tendopay && sameOrigin(hostedPage, tendopay.url)) {
    if (choice === 'abandon') return { gateway: 'tendopay', hostedPage, status: 200, html: '' };
    const { redirectUrl } = tendopay.finish(hostedPage, { outcome: choice === 'pay' ? 'pay' : 'fail' });
    return { gateway: 'tendopay', hostedPage, ...(await landOn(redirectUrl)) };
  }
  if (mpchat && sameOrigin(hostedPage, mpchat.url)) {
    const order = mpchat.orders().find((candidate) => candidate.payment_url === hostedPage);
    if (typeof order?.id !== 'string') throw new Error(`the MPChat sandbox has no order at ${hostedPage}`);
    // A crypto transfer cannot be declined; the customer who does not pay walks away.
    const { returnUrl } = mpchat.buyer(order.id, choice === 'pay' ? 'pay' : 'abandon');
    const back = returnUrl ? await landOn(returnUrl) : { status: 200, html: '' };
    return { gateway: 'mpchat', hostedPage, ...back };
  }
  throw new Error(`the pay address led to ${hostedPage}, which is none of the sandboxes`);
}
