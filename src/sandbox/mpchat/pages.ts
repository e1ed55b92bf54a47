import { escapeHtml } from '../mytpe/pages.js';

/** The sandbox's hosted checkout: what `payment_url` opens in a browser. */

function layout(title: string, body: string): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)} · MP Merchant SANDBOX</title>
<style>
body{font-family:system-ui,sans-serif;background:#0f172a;margin:0;color:#0f172a}
.banner{background:#b45309;color:#fff;text-align:center;padding:.4rem;font-weight:600}
main{max-width:30rem;margin:2rem auto;background:#fff;border-radius:.75rem;padding:1.5rem 2rem}
.amount{font-size:2rem;font-weight:700}
code{word-break:break-all}
button{display:block;width:100%;margin-top:.6rem;padding:.6rem;border:0;border-radius:.4rem;font-size:1rem;cursor:pointer}
.full{background:#16a34a;color:#fff}.alt{background:#e2e8f0}
input{width:100%;box-sizing:border-box;padding:.5rem}
</style>
</head>
<body>
<div class="banner">SANDBOX — no blockchain transaction happens</div>
<main>
${body}
</main>
</body>
</html>`;
}

export interface CheckoutOrder {
  readonly id: string;
  readonly orderNumber: string;
  readonly amount: string;
  readonly network: string;
  readonly address: string;
  readonly description: string | null;
  readonly expireAt: string;
  /** Suggested amounts for the buttons. */
  readonly underpay: string;
  readonly overpay: string;
}

export function checkoutPage(order: CheckoutOrder): string {
  const action = `/pay/${encodeURIComponent(order.id)}`;
  return layout(
    order.orderNumber,
    `<p>${escapeHtml(order.orderNumber)}${order.description ? ` — ${escapeHtml(order.description)}` : ''}</p>
<div class="amount">${escapeHtml(order.amount)} USDT</div>
<p>Network ${escapeHtml(order.network)} · send to <code>${escapeHtml(order.address)}</code></p>
<p>Expires ${escapeHtml(order.expireAt)}</p>
<form method="post" action="${escapeHtml(action)}">
<button class="full" name="action" value="full">Pay ${escapeHtml(order.amount)} USDT</button>
<button class="alt" name="action" value="underpay">Underpay (${escapeHtml(order.underpay)} USDT)</button>
<button class="alt" name="action" value="overpay">Overpay (${escapeHtml(order.overpay)} USDT)</button>
<button class="alt" name="action" value="expire">Let it expire</button>
</form>
<form method="post" action="${escapeHtml(action)}">
<label for="amount">Other amount</label><input id="amount" name="amount" inputmode="decimal">
<button class="alt" name="action" value="custom">Send this amount</button>
</form>`,
  );
}

export function messagePage(title: string, message: string, returnUrl?: string): string {
  const back = returnUrl ? `<p><a href="${escapeHtml(returnUrl)}">Back to the merchant</a></p>` : '';
  return layout(title, `<h1>${escapeHtml(title)}</h1><p>${escapeHtml(message)}</p>${back}`);
}
