// The Tillback-Signature header that receivers check: fast-check properties of the signer, the parser
// and the verifier, plus the header's documented examples.
import { createHmac } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseSignatureHeader, signWebhook, verifyWebhook } from '../../contract/webhook-signature.ts';

const secret = fc.string({ minLength: 32, maxLength: 64 });
const secrets = fc.uniqueArray(secret, { minLength: 1, maxLength: 2 });
const body = fc.oneof(fc.string(), fc.json());
const unix = fc.integer({ min: 0, max: 10_000_000_000 });

describe('signWebhook', () => {
  it('is t=<unix>,v1=<hex HMAC-SHA256 of "t.body">, one v1 per secret, in order', () => {
    const t = 1_768_473_000;
    const payload = '{"id":"evt_1"}';
    const hmac = (key: string) => createHmac('sha256', key).update(`${t}.${payload}`).digest('hex');
    expect(signWebhook(payload, ['a'.repeat(32), 'b'.repeat(32)], t)).toBe(
      `t=${t},v1=${hmac('a'.repeat(32))},v1=${hmac('b'.repeat(32))}`,
    );
  });
});

describe('parseSignatureHeader', () => {
  it('never throws, whatever the text', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 300 }), (text) => {
        const parsed = parseSignatureHeader(text);
        if (parsed.ok) {
          expect(Number.isSafeInteger(parsed.value.t)).toBe(true);
          expect(parsed.value.v1.length).toBeGreaterThan(0);
          for (const v of parsed.value.v1) expect(v).toMatch(/^[0-9a-f]{64}$/);
        } else {
          expect(parsed.reason.length).toBeGreaterThan(0);
        }
      }),
    );
  });

  it('reads back what the signer wrote, ignoring schemes it does not know', () => {
    fc.assert(
      fc.property(body, secrets, unix, (b, keys, t) => {
        const header = signWebhook(b, keys, t);
        expect(parseSignatureHeader(header)).toEqual({
          ok: true,
          value: {
            t,
            v1: header
              .split(',')
              .slice(1)
              .map((p) => p.slice(3)),
          },
        });
        expect(parseSignatureHeader(`v0=abc,${header},v2=future`)).toMatchObject({ ok: true, value: { t } });
      }),
    );
  });

  it.each([
    ['', 'malformed element ""'],
    ['t=1', 'no v1 signature'],
    [`v1=${'a'.repeat(64)}`, 'no t'],
    [`t=1,t=2,v1=${'a'.repeat(64)}`, 't appears twice'],
    [`t=-1,v1=${'a'.repeat(64)}`, 't is not a unix time in seconds'],
    [`t=1.5,v1=${'a'.repeat(64)}`, 't is not a unix time in seconds'],
    [`t=1,v1=${'A'.repeat(64)}`, 'v1 is not 64 lowercase hex digits'],
    ['t=1,v1=abc', 'v1 is not 64 lowercase hex digits'],
  ])('refuses %j: %s', (header, reason) => {
    expect(parseSignatureHeader(header)).toEqual({ ok: false, reason });
  });
});

describe('verifyWebhook', () => {
  it('accepts a body signed with any secret the receiver holds, within the window', () => {
    fc.assert(
      fc.property(
        body,
        secrets,
        unix,
        fc.integer({ min: -300, max: 300 }),
        fc.nat(),
        (b, keys, t, skew, pick) => {
          const held = [keys[pick % keys.length]!];
          expect(
            verifyWebhook({ header: signWebhook(b, keys, t), body: b, secrets: held, nowSeconds: t + skew }),
          ).toEqual({ ok: true, t });
        },
      ),
    );
  });

  it('refuses a secret it was not signed with, a changed body, and a t outside the window', () => {
    fc.assert(
      fc.property(
        body,
        secrets,
        secret,
        unix,
        fc.integer({ min: 301, max: 1_000_000 }),
        (b, keys, other, t, late) => {
          fc.pre(!keys.includes(other));
          const header = signWebhook(b, keys, t);
          const check = (over: Partial<Parameters<typeof verifyWebhook>[0]>) =>
            verifyWebhook({ header, body: b, secrets: keys, nowSeconds: t, ...over });
          expect(check({ secrets: [other] })).toEqual({ ok: false, reason: 'no signature matches' });
          expect(check({ body: `${b} ` }).ok).toBe(false);
          expect(check({ nowSeconds: t + late }).ok).toBe(false);
          expect(check({ nowSeconds: t - late }).ok).toBe(false);
          expect(check({ nowSeconds: t + late, toleranceSeconds: late }).ok).toBe(true);
        },
      ),
    );
  });

  it('refuses a signature made for another t (the t cannot be moved forward to pass the window)', () => {
    fc.assert(
      fc.property(body, secrets, unix, fc.integer({ min: 1, max: 1_000_000 }), (b, keys, t, shift) => {
        const forged = signWebhook(b, keys, t).replace(`t=${t},`, `t=${t + shift},`);
        expect(verifyWebhook({ header: forged, body: b, secrets: keys, nowSeconds: t + shift })).toEqual({
          ok: false,
          reason: 'no signature matches',
        });
      }),
    );
  });

  it('refuses a missing header and any header that does not parse', () => {
    expect(
      verifyWebhook({ header: undefined, body: '{}', secrets: ['k'.repeat(32)], nowSeconds: 0 }),
    ).toEqual({
      ok: false,
      reason: 'no Tillback-Signature header',
    });
    fc.assert(
      fc.property(fc.string({ maxLength: 200 }), (header) => {
        const result = verifyWebhook({ header, body: '{}', secrets: ['k'.repeat(32)], nowSeconds: 0 });
        expect(result.ok).toBe(false);
      }),
    );
  });
});
