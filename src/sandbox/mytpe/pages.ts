/** The sandbox's hosted payment page: what `payment_link` opens in a browser. */

export function escapeHtml(value: string): string {
  return value
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&#39;');
}

/** "1234567.50" → "1 234 567.50", the way DZD amounts are usually printed in Algeria. */
function groupThousands(amount: string): string {
  const [whole = '', fraction] = amount.split('.');
  const grouped = whole.replace(/\B(?=(\d{3})+(?!\d))/g, '\u00a0');
  return fraction === undefined ? grouped : `${grouped}.${fraction}`;
}

function layout(title: string, body: string): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)} · MyTPE Pay SANDBOX</title>
<style>
body{font-family:system-ui,sans-serif;background:#f4f6f8;margin:0;color:#1d2733}
.banner{background:#b45309;color:#fff;text-align:center;padding:.4rem;font-weight:600;letter-spacing:.05em}
main{max-width:28rem;margin:2rem auto;background:#fff;border-radius:.75rem;padding:1.5rem 2rem;box-shadow:0 2px 10px #0001}
.amount{font-size:2rem;font-weight:700;margin:.5rem 0 1rem}
label{display:block;margin:.5rem 0 .2rem;font-size:.9rem}
input{width:100%;box-sizing:border-box;padding:.5rem;border:1px solid #c5ccd3;border-radius:.4rem}
button{margin-top:1rem;padding:.7rem 1.2rem;border:0;border-radius:.4rem;font-size:1rem;cursor:pointer}
.pay{background:#0f766e;color:#fff;width:100%}
.fail{background:none;color:#6b7280;text-decoration:underline;font-size:.85rem}
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

export interface PayPageLink {
  readonly slug: string;
  readonly title: string;
  readonly details: string;
  readonly amount: string | null;
  readonly instanceName: string;
  readonly allowAnonymous: boolean;
}

export function payPage(link: PayPageLink): string {
  const action = `/pay/${encodeURIComponent(link.slug)}`;
  const amount =
    link.amount === null
      ? `<label for="amount">Amount (DZD)</label><input id="amount" name="amount" inputmode="decimal" required>`
      : `<div class="amount">${escapeHtml(groupThousands(link.amount))} DZD</div>`;
  const payer = link.allowAnonymous
    ? ''
    : `<label for="name">Name</label><input id="name" name="name" value="Sandbox Payer" required>
<label for="email">Email</label><input id="email" name="email" type="email" value="payer@sandbox.example" required>
<label for="phone">Phone</label><input id="phone" name="phone" value="+213555000000" required>`;
  return layout(
    link.title,
    `<p class="muted">${escapeHtml(link.instanceName)}</p>
<h1>${escapeHtml(link.title)}</h1>
<p>${escapeHtml(link.details)}</p>
<form method="post" action="${escapeHtml(action)}">
${amount}
${payer}
<button class="pay" type="submit" name="outcome" value="completed">Pay</button>
<button class="fail" type="submit" name="outcome" value="failed">Simulate a declined card</button>
</form>`,
  );
}

export function notPayablePage(title: string, reason: string): string {
  return layout(title, `<h1>${escapeHtml(title)}</h1><p>${escapeHtml(reason)}</p>`);
}

export function resultPage(input: {
  readonly title: string;
  readonly slug: string;
  readonly completed: boolean;
  readonly amount: string;
  readonly orderNumber: string;
  readonly retry: boolean;
}): string {
  const heading = input.completed ? 'Payment completed' : 'Payment declined';
  const retry =
    !input.completed && input.retry
      ? `<p><a href="/pay/${encodeURIComponent(input.slug)}">Try again</a></p>`
      : '';
  return layout(
    heading,
    `<h1>${heading}</h1>
<p>${escapeHtml(input.title)}</p>
<div class="amount">${escapeHtml(groupThousands(input.amount))} DZD</div>
<p class="muted">Order number ${escapeHtml(input.orderNumber)}</p>
${retry}`,
  );
}
