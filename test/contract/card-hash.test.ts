import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { CARD_HASH_PATTERN, cardHash } from '../../contract/card-hash.ts';

describe('cardHash', () => {
  it('is HMAC-SHA256 in lowercase hex (RFC 4231 test case 2)', () => {
    expect(cardHash('what do ya want for nothing?', 'Jefe')).toBe(
      '5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843',
    );
  });

  it('always has the shape requests carry, and depends on both the PAN and the key (property)', () => {
    const pan = fc.stringMatching(/^\d{12,19}$/);
    // Printable keys: HMAC pads a short key with zero bytes, so keys differing only by trailing NULs agree.
    const key = fc.string({ unit: 'grapheme-ascii', minLength: 32, maxLength: 64 });
    fc.assert(
      fc.property(pan, pan, key, key, (p1, p2, k1, k2) => {
        const h = cardHash(p1, k1);
        expect(h).toMatch(CARD_HASH_PATTERN);
        expect(cardHash(p1, k1)).toBe(h);
        if (p1 !== p2) expect(cardHash(p2, k1)).not.toBe(h);
        if (k1 !== k2) expect(cardHash(p1, k2)).not.toBe(h);
      }),
    );
  });
});
