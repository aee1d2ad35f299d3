// Card credentials at rest: AES-256-GCM round trips any value, binds it to its row and key, never
// carries the plaintext digits, and refuses a tampered ciphertext.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { seal, unseal } from '../../engine/domain/sealing.ts';

const KEY = 'k'.repeat(40);

describe('sealing', () => {
  it('round-trips any JSON value under the same key and row, with a fresh IV each time', () => {
    fc.assert(
      fc.property(fc.jsonValue(), fc.string({ minLength: 1 }), (value, row) => {
        const sealed = seal(value, KEY, row);
        expect(unseal(sealed, KEY, row)).toEqual(JSON.parse(JSON.stringify(value)));
        expect(seal(value, KEY, row)).not.toBe(sealed);
      }),
    );
  });

  it('does not open for another row, another key, or after any byte of it changes', () => {
    const card = { pan: '4111111111111111', expDate: '3012', ipin: '1234' };
    const sealed = seal(card, KEY, 'cashout_provider:shifa');
    expect(sealed).not.toContain('4111111111111111');
    expect(Buffer.from(sealed.split('.')[3]!, 'base64url').toString('latin1')).not.toContain('4111');
    expect(() => unseal(sealed, KEY, 'cashout_provider:other')).toThrow();
    expect(() => unseal(sealed, 'x'.repeat(40), 'cashout_provider:shifa')).toThrow();
    fc.assert(
      fc.property(fc.nat(), (n) => {
        const parts = sealed.split('.');
        const i = 1 + (n % 3);
        const bytes = Buffer.from(parts[i]!, 'base64url');
        const at = n % bytes.length;
        bytes[at] = bytes[at]! ^ (1 + (n % 255));
        parts[i] = bytes.toString('base64url');
        expect(() => unseal(parts.join('.'), KEY, 'cashout_provider:shifa')).toThrow();
      }),
    );
    expect(() => unseal('v0.a.b.c', KEY, 'x')).toThrow('not a sealed value');
  });
});
