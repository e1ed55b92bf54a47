import { describe, expect, it } from 'vitest';
import { money } from '../domain/money.js';
import { escapeHtml, noteMarker, notes } from './notes.js';

describe('chatter notes', () => {
  it('escape every value that comes from outside', () => {
    const note = notes.mismatch('MyTPE <Pay>', 'paid "1" & <b>more</b>', "t'1");
    expect(note.body).not.toContain('<b>more</b>');
    expect(note.body).toContain('&#60;b&#62;more&#60;/b&#62;');
    expect(note.body).toContain('MyTPE &#60;Pay&#62;');
    expect(escapeHtml(`<script>"x"&'y'</script>`)).toBe(
      '&#60;script&#62;&#34;x&#34;&#38;&#39;y&#39;&#60;/script&#62;',
    );
  });

  it('link the URL and state the amount', () => {
    const note = notes.linkCreated('MyTPE Pay', 'https://pay.example/x?a=1&b=2', money(150000, 'DZD', 2));
    expect(note.body).toContain('href="https://pay.example/x?a=1&#38;b=2"');
    expect(note.body).toContain('1500.00 DZD');
  });

  it('mark each note with its link and kind, so a retry finds it', () => {
    expect(noteMarker('db-inv-4-1', 'registered')).toBe('[odoo-paylink db-inv-4-1 registered]');
  });
});
