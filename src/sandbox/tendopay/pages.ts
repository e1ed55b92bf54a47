/** The sandbox's hosted pages: what authorize_url opens in a browser. */

export function escapeHtml(value: string): string {
  return value
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&#39;');
}

/** "1500" → "₱1,500", "1234.5" → "₱1,234.50". */
export function formatPesos(amountText: string): string {
  const [whole = '0', fraction] = amountText.split('.');
  const grouped = whole.replace(/\B(?=(\d{3})+(?!\d))/g, ',');
  return `₱${grouped}${fraction === undefined ? '' : `.${fraction.padEnd(2, '0')}`}`;
}

function layout(title: string, body: string): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)} · TendoPay SANDBOX</title>
<style>
body{font-family:system-ui,sans-serif;background:#f3f4f8;margin:0;color:#1f2430}
.banner{background:#b45309;color:#fff;text-align:center;padding:.4rem;font-weight:600;letter-spacing:.05em}
main{max-width:28rem;margin:2rem auto;background:#fff;border-radius:.75rem;padding:1.5rem 2rem;box-shadow:0 2px 10px #0001}
.amount{font-size:2rem;font-weight:700;margin:.5rem 0 1rem}
button{display:block;width:100%;margin-top:.75rem;padding:.7rem 1.2rem;border:0;border-radius:.4rem;font-size:1rem;cursor:pointer}
.pay{background:#4338ca;color:#fff}
.fail{background:#fee2e2;color:#991b1b}
.cancel{background:none;color:#6b7280;text-decoration:underline;font-size:.9rem}
.muted{color:#6b7280;font-size:.9rem}
</style>
</head>
<body>
<div class="banner">SANDBOX — no real credit is used</div>
<main>
${body}
</main>
</body>
</html>`;
}

export interface AuthorisePageOrder {
  readonly orderToken: string;
  readonly merchantOrderId: string;
  readonly amountText: string;
  readonly description: string;
}

/** The buyer's choice: approve (PAID), be declined (FAILED) or cancel (CANCELED). */
export function authorisePage(order: AuthorisePageOrder): string {
  const action = `/payments/authorise/${encodeURIComponent(order.orderToken)}`;
  return layout(
    'Authorise payment',
    `<h1>Pay with TendoPay</h1>
<p class="muted">Order ${escapeHtml(order.merchantOrderId)}</p>
${order.description ? `<p>${escapeHtml(order.description)}</p>` : ''}
<div class="amount">${escapeHtml(formatPesos(order.amountText))}</div>
<form method="post" action="${escapeHtml(action)}">
<button class="pay" type="submit" name="outcome" value="pay">Pay now</button>
<button class="fail" type="submit" name="outcome" value="fail">Simulate a decline (not enough credit)</button>
<button class="cancel" type="submit" name="outcome" value="cancel">Cancel and return to the merchant</button>
</form>`,
  );
}

export function notUsablePage(title: string, reason: string): string {
  return layout(title, `<h1>${escapeHtml(title)}</h1><p>${escapeHtml(reason)}</p>`);
}

/** The POST flavour of the redirect: a form that submits itself to tp_redirect_url. */
export function postRedirectPage(url: string, params: Readonly<Record<string, string>>): string {
  const inputs = Object.entries(params)
    .map(([key, value]) => `<input type="hidden" name="${escapeHtml(key)}" value="${escapeHtml(value)}">`)
    .join('\n');
  return layout(
    'Returning to the merchant',
    `<form id="back" method="post" action="${escapeHtml(url)}">
${inputs}
<button class="pay" type="submit">Return to the merchant</button>
</form>
<script>document.getElementById('back').submit()</script>`,
  );
}
