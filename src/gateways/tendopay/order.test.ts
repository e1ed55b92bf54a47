import { describe, expect, it } from 'vitest';
import { money } from '../../domain/money.js';
import { GatewayError } from '../gateway.js';
import { orderFields } from './client.js';
import {
  merchantOrderIdFor,
  moneyFromPesosText,
  parseMerchantOrderId,
  pesosText,
  tendoPayDescription,
} from './order.js';

describe('merchant order ids', () => {
  it('are one per attempt and read back', () => {
    expect(merchantOrderIdFor('acme-inv-42-1', 1)).toBe('acme-inv-42-1-tp1');
    expect(merchantOrderIdFor('acme-inv-42-1', 2)).toBe('acme-inv-42-1-tp2');
    expect(parseMerchantOrderId('acme-inv-42-1-tp2')).toEqual({ reference: 'acme-inv-42-1', attempt: 2 });
    expect(parseMerchantOrderId('someone-else')).toBeUndefined();
  });

  it('refuse attempt 0 and non-ASCII references', () => {
    expect(() => merchantOrderIdFor('a', 0)).toThrow(GatewayError);
    expect(() => merchantOrderIdFor('facture-é', 1)).toThrow(GatewayError);
  });
});

describe('amounts', () => {
  it('sends whole pesos as integer text', () => {
    expect(pesosText(money(150_000, 'PHP', 2))).toBe('1500');
    expect(pesosText(money(1500, 'PHP', 0))).toBe('1500');
  });

  it('refuses centavos, other currencies and zero', () => {
    expect(() => pesosText(money(150_050, 'PHP', 2))).toThrow(/centavos/);
    expect(() => pesosText(money(150_000, 'USD', 2))).toThrow(/only charges in PHP/);
    expect(() => pesosText(money(0, 'PHP', 2))).toThrow(GatewayError);
  });

  it('reads received amounts as centavos, exactly', () => {
    expect(moneyFromPesosText('1500')).toEqual({ minor: 150_000, currency: 'PHP', decimals: 2 });
    expect(moneyFromPesosText('1234.5')).toEqual({ minor: 123_450, currency: 'PHP', decimals: 2 });
  });
});

describe('order fields', () => {
  const base = {
    merchantOrderId: 'acme-inv-1-1-tp1',
    amount: money(150_000, 'PHP', 2),
    redirectUrl: 'https://erp.example/paylink/tendopay/return?ref=acme-inv-1-1',
  };

  it('builds the documented tp_* fields only', () => {
    expect(orderFields({ ...base, description: 'INV/2026/00001', meta: { invoice: '1' } })).toEqual({
      tp_amount: '1500',
      tp_currency: 'PHP',
      tp_merchant_order_id: 'acme-inv-1-1-tp1',
      tp_redirect_url: base.redirectUrl,
      tp_description: 'INV/2026/00001',
      tp_meta: '{"invoice":"1"}',
    });
  });

  it('refuses a redirect URL with its own tp_ parameter and a long description', () => {
    expect(() => orderFields({ ...base, redirectUrl: 'https://x.example/?tp_amount=1' })).toThrow(
      /tp_amount/,
    );
    expect(() => orderFields({ ...base, description: 'x'.repeat(51) })).toThrow(/50/);
  });

  it('makes a signable description', () => {
    expect(tendoPayDescription('  Facture\tn°  42 — Café ')).toBe('Facture n 42 Cafe');
    expect(tendoPayDescription('y'.repeat(80))).toHaveLength(50);
  });
});
