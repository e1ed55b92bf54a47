/** The sandbox's hosted payment page: what processPayment's `url` opens in a browser. */

export function escapeHtml(value: string): string {
  return value
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&#39;');
}

/** "15000.00" → "15,000.00", the way TiloPay's pages print amounts. */
function groupThousands(amount: string): string {
  const [whole = '', fraction] = amount.split('.');
  const grouped = whole.replace(/\B(?=(\d{3})+(?!\d))/g, ',');
  return fraction === undefined ? grouped : `${grouped}.${fraction}`;
}

function layout(title: string, body: string): string {
  return `<!doctype html>
<html lang="es">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)} · TiloPay SANDBOX</title>
<style>
body{font-family:system-ui,sans-serif;background:#f3f5f9;margin:0;color:#1b2433}
.banner{background:#7c3aed;color:#fff;text-align:center;padding:.4rem;font-weight:600;letter-spacing:.05em}
main{max-width:28rem;margin:2rem auto;background:#fff;border-radius:.75rem;padding:1.5rem 2rem;box-shadow:0 2px 10px #0001}
.amount{font-size:2rem;font-weight:700;margin:.5rem 0 1rem}
button{display:block;width:100%;margin-top:.8rem;padding:.7rem 1.2rem;border:0;border-radius:.4rem;font-size:1rem;cursor:pointer}
.pay{background:#047857;color:#fff}.sinpe{background:#1d4ed8;color:#fff}.decline{background:#b91c1c;color:#fff}
.cancel{background:none;color:#6b7280;text-decoration:underline;font-size:.9rem}
.muted{color:#6b7280;font-size:.9rem}
</style>
</head>
<body>
<div class="banner">SANDBOX — no real money moves</div>
<main>
${body}
</main>
</body>
</html>`;
}

export function payPage(input: {
  readonly pageId: string;
  readonly orderNumber: string;
  readonly amount: string;
  readonly currency: string;
  readonly email: string;
}): string {
  const action = `/pay/${encodeURIComponent(input.pageId)}`;
  return layout(
    `Pago ${input.orderNumber}`,
    `<p class="muted">Orden ${escapeHtml(input.orderNumber)} · ${escapeHtml(input.email)}</p>
<div class="amount">${escapeHtml(groupThousands(input.amount))} ${escapeHtml(input.currency)}</div>
<form method="post" action="${escapeHtml(action)}">
<button class="pay" type="submit" name="outcome" value="approved">Pay by card (approved)</button>
<button class="sinpe" type="submit" name="outcome" value="pending">Pay with SINPE Móvil (pending)</button>
<button class="decline" type="submit" name="outcome" value="declined">Simulate a declined card</button>
<button class="cancel" type="submit" name="outcome" value="cancelled">Cancel and return to the shop</button>
</form>`,
  );
}

export function messagePage(title: string, text: string): string {
  return layout(title, `<h1>${escapeHtml(title)}</h1><p>${escapeHtml(text)}</p>`);
}
