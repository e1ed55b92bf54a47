import { describeMoney, type Money } from '../domain/money.js';
import { fillPlaceholders } from '../domain/placeholders.js';
import type { NewNote } from '../store/notes.js';

/** The chatter notes an accountant reads on the invoice. Every value is escaped. */

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (char) => `&#${char.charCodeAt(0)};`);
}

/** The words of the notes in one language: `note…` keys of templates/<lang>/strings.json. */
export type NoteStrings = Readonly<Record<string, string>>;

/** A value placed into a note: text is escaped, `{ html }` is markup we built ourselves. */
type NoteValue = string | { readonly html: string };

export interface Note {
  readonly kind: string;
  /** The note's HTML in the accountant's language. */
  render(strings: NoteStrings): string;
}

const paragraph = (html: string) => `<p>${html}</p>`;

/**
 * A string with its `{name}` placeholders filled in one pass (a value holding `{other}` stays as
 * typed), every text escaped. A key the strings lack shows as the key, so a gap is visible.
 */
export function fillNote(strings: NoteStrings, key: string, values: Record<string, NoteValue> = {}): string {
  const template = strings[key];
  if (template === undefined) return escapeHtml(key);
  // Escaping leaves the braces alone, so the escaped template keeps its placeholders.
  return fillPlaceholders(escapeHtml(template), (name) => {
    if (!Object.hasOwn(values, name)) return undefined;
    const value = values[name]!;
    return typeof value === 'string' ? escapeHtml(value) : value.html;
  });
}

/** The same for a plain-text Odoo field (a char, a feedback line): filled, not escaped. */
export function plainText(strings: NoteStrings, key: string, values: Record<string, string> = {}): string {
  const template = strings[key];
  if (template === undefined) return key;
  return fillPlaceholders(template, (name) => (Object.hasOwn(values, name) ? values[name] : undefined));
}

const note = (kind: string, render: (strings: NoteStrings) => string): Note => ({ kind, render });

/** A note that asks a person to act starts with the language's "Action needed:" in bold. */
const actionNeeded = (strings: NoteStrings, html: string) =>
  paragraph(`<b>${fillNote(strings, 'noteActionNeeded')}</b> ${html}`);

const transaction = (strings: NoteStrings, transactionId: string | null): NoteValue => ({
  html: transactionId ? fillNote(strings, 'noteTransaction', { transaction: transactionId }) : '',
});

export const notes = {
  linkCreated(gateway: string, url: string, amount: Money, charge?: string | null): Note {
    const link = `<a href="${escapeHtml(url)}" target="_blank">${escapeHtml(url)}</a>`;
    return note('link_created', (strings) =>
      paragraph(
        `${fillNote(strings, 'noteLinkCreated', { gateway, amount: describeMoney(amount), url: { html: link } })}${charge ? ` ${escapeHtml(charge)}` : ''}`,
      ),
    );
  },
  registered(gateway: string, amount: Money, transactionId: string): Note {
    return note('registered', (strings) =>
      paragraph(
        fillNote(strings, 'noteRegistered', {
          gateway,
          amount: describeMoney(amount),
          transaction: transactionId,
        }),
      ),
    );
  },
  mismatch(gateway: string, reason: string, transactionId: string | null): Note {
    return note('mismatch', (strings) =>
      actionNeeded(
        strings,
        fillNote(strings, 'noteMismatch', {
          gateway,
          reason,
          transaction: transaction(strings, transactionId),
        }),
      ),
    );
  },
  refundNeeded(gateway: string, reason: string, transactionId: string | null, amount: Money | null): Note {
    return note('refund_needed', (strings) =>
      actionNeeded(
        strings,
        fillNote(strings, amount ? 'noteRefundNeeded' : 'noteRefundNeededNoAmount', {
          gateway,
          reason,
          amount: amount ? describeMoney(amount) : '',
          transaction: transaction(strings, transactionId),
        }),
      ),
    );
  },
  creationRefused(gateway: string, reason: string): Note {
    return note('creation_refused', (strings) =>
      actionNeeded(strings, fillNote(strings, 'noteCreationRefused', { gateway, reason })),
    );
  },
  closed(gateway: string, reason: string): Note {
    return note('closed', (strings) => paragraph(fillNote(strings, 'noteClosed', { gateway, reason })));
  },
  latePayment(gateway: string, amount: Money, transactionId: string): Note {
    return note('late_payment', (strings) =>
      paragraph(
        fillNote(strings, 'noteLatePayment', {
          gateway,
          amount: describeMoney(amount),
          transaction: transactionId,
        }),
      ),
    );
  },
  deletedAtGateway(gateway: string): Note {
    return note('deleted', (strings) => paragraph(fillNote(strings, 'noteDeleted', { gateway })));
  },
  foreignLink(linkId: string, reason: string): Note {
    return note('foreign_link', (strings) =>
      actionNeeded(strings, fillNote(strings, 'noteForeignLink', { link: linkId, reason })),
    );
  },
  unsupportedCurrency(gateway: string, currency: string, accepted: readonly string[]): Note {
    return note('unsupported_currency', (strings) =>
      paragraph(
        fillNote(strings, 'noteUnsupportedCurrency', { gateway, currency, accepted: accepted.join(', ') }),
      ),
    );
  },
  expired(gateway: string): Note {
    return note('expired', (strings) => paragraph(fillNote(strings, 'noteExpired', { gateway })));
  },
  /** An email went out: `key` says which (noteEmailedInvoice, noteEmailedReminder, noteEmailedResend). */
  emailed(kind: string, key: string, recipients: readonly string[], number?: string): Note {
    return note(kind, (strings) =>
      paragraph(fillNote(strings, key, { recipients: recipients.join(', '), number: number ?? '' })),
    );
  },
  /** A request from the Action menu was carried out: `key` says which. */
  requestDone(kind: string, key: string): Note {
    return note(kind, (strings) => paragraph(fillNote(strings, key)));
  },
  /** A request was refused: `requestKey` names it, `reasonKey` says why. */
  requestRefused(kind: string, requestKey: string, reasonKey: string): Note {
    return note(kind, (strings) =>
      paragraph(
        fillNote(strings, 'noteRequestRefused', {
          request: strings[requestKey] ?? requestKey,
          reason: strings[reasonKey] ?? reasonKey,
        }),
      ),
    );
  },
  noEmail(): Note {
    return note('no_email', (strings) => actionNeeded(strings, fillNote(strings, 'noteNoEmail')));
  },
};

/**
 * The Message-Id of one note (RFC 5322 form): unique per database, since a reference starts with
 * the database's prefix, and the same on every retry, so a retry finds the note it already posted.
 */
export function noteMarker(reference: string, kind: string): string {
  return `<paylink.${reference}.${kind}@odoo-paylink>`;
}

/** The Message-Id of a note about an invoice that has no link of ours. */
export function invoiceNoteMarker(prefix: string, invoiceId: number, kind: string): string {
  return `<paylink.${prefix}-inv-${invoiceId}.${kind}@odoo-paylink>`;
}

/** The queued form of a note about a link, in the language of `strings`. */
export function linkNote(
  link: { id: number; companyId: number; invoiceId: number; reference: string },
  note: Note,
  strings: NoteStrings,
): NewNote {
  return {
    linkRowId: link.id,
    companyId: link.companyId,
    invoiceId: link.invoiceId,
    kind: note.kind,
    marker: noteMarker(link.reference, note.kind),
    body: note.render(strings),
  };
}
