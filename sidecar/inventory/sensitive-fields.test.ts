import { describe, expect, it } from 'vitest';
import { sensitiveFieldKind, sensitiveFields } from './sensitive-fields.ts';

describe('sensitiveFieldKind', () => {
  it('flags common sensitive names in any case style', () => {
    expect(sensitiveFieldKind('email')).toBe('email');
    expect(sensitiveFieldKind('contactEmail')).toBe('email');
    expect(sensitiveFieldKind('phone_number')).toBe('phone');
    expect(sensitiveFieldKind('credit_card')).toBe('card');
    expect(sensitiveFieldKind('cardNumber')).toBe('card');
    expect(sensitiveFieldKind('IBAN')).toBe('iban');
    expect(sensitiveFieldKind('ssn')).toBe('ssn');
    expect(sensitiveFieldKind('password')).toBe('password');
    expect(sensitiveFieldKind('access_token')).toBe('token');
    expect(sensitiveFieldKind('clientSecret')).toBe('secret');
    expect(sensitiveFieldKind('api-key')).toBe('token');
    expect(sensitiveFieldKind('date_of_birth')).toBe('birthdate');
  });

  it('does not flag ordinary names, nor short needles inside longer words', () => {
    for (const n of ['id', 'name', 'price', 'company', 'adobe', 'items', 'status', 'createdAt', 'panel', '']) {
      expect(sensitiveFieldKind(n)).toBeUndefined();
    }
    expect(sensitiveFieldKind('pan')).toBe('card');
  });

  it('lists the sensitive names, sorted', () => {
    expect(sensitiveFields(['total', 'email', 'id', 'cardNumber'])).toEqual(['cardNumber', 'email']);
  });
});
