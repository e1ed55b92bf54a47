import { describe, expect, it } from 'vitest';
import { ArchError, applyInheritance, fieldNamesOf, parseArch, selectFirst, serializeArch } from './arch.js';

const FORM =
  '<form string="Invoice"><sheet><group><field name="partner_id"/>' +
  '<field name="payment_reference" invisible="move_type not in (\'in_invoice\', \'in_refund\')"/>' +
  '</group><field name="invoice_line_ids"><list><field name="name"/></list></field></sheet></form>';

describe('view architectures', () => {
  it('reads and writes an arch unchanged, attributes with quotes included', () => {
    const source = `<?xml version="1.0"?>\n${FORM}`;
    expect(serializeArch(parseArch(source))).toBe(FORM);
    expect(serializeArch(parseArch('<form><!-- note --><div>text &amp; more</div></form>'))).toBe(
      '<form><!-- note --><div>text &amp; more</div></form>',
    );
    expect(() => parseArch('<form><group></form>')).toThrow(ArchError);
  });

  it('selects with // and / steps and @attr predicates', () => {
    const arch = parseArch(FORM);
    expect(selectFirst(arch, "//field[@name='payment_reference']")?.tag).toBe('field');
    expect(selectFirst(arch, '/form/sheet/group')?.children).toHaveLength(2);
    expect(selectFirst(arch, "//field[@name='nope']")).toBeUndefined();
    expect(selectFirst(arch, '//list/field')?.attrs).toEqual([['name', 'name']]);
  });

  it('applies xpath and located specs: after, before, inside, replace, attributes', () => {
    const inherited = applyInheritance(
      parseArch(FORM),
      parseArch(
        '<data>' +
          '<xpath expr="//field[@name=\'payment_reference\']" position="after"><field name="x_link" widget="url"/></xpath>' +
          '<field name="partner_id" position="before"><field name="ref"/></field>' +
          '<xpath expr="//sheet" position="inside"><div class="footer"/></xpath>' +
          '<field name="partner_id" position="attributes"><attribute name="readonly">1</attribute></field>' +
          '</data>',
      ),
    );
    const text = serializeArch(inherited);
    expect(text).toContain(
      '<field name="payment_reference" invisible="move_type not in (\'in_invoice\', \'in_refund\')"/><field name="x_link" widget="url"/>',
    );
    expect(text).toContain('<group><field name="ref"/><field name="partner_id" readonly="1"/>');
    expect(text).toMatch(/<div class="footer"\/><\/sheet>/);
    const replaced = applyInheritance(
      inherited,
      parseArch('<xpath expr="//field[@name=\'ref\']" position="replace"/>'),
    );
    expect(serializeArch(replaced)).not.toContain('name="ref"');
  });

  it('refuses a spec that finds nothing, as Odoo does', () => {
    expect(() =>
      applyInheritance(
        parseArch(FORM),
        parseArch('<xpath expr="//field[@name=\'nope\']" position="after"/>'),
      ),
    ).toThrow(
      'Element \'<xpath expr="//field[@name=\'nope\']" position="after">\' cannot be located in parent view',
    );
  });

  it('lists the fields of the view, not those of nested sub-views', () => {
    expect(fieldNamesOf(parseArch(FORM))).toEqual(['partner_id', 'payment_reference', 'invoice_line_ids']);
  });
});
