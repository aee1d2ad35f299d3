// The claim page without a browser: what /c/:id and /c/assets/ answer (headers, language, 404s),
// the catalogues, and by property the page script's pure parts (card number feedback as typed,
// expiry, poll backoff, money formatting, language choice). The browser itself: test/e2e.
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isValidPan } from '../../contract/card.ts';
import { formatAmount, MAX_MINOR } from '../../contract/money.ts';
import { loadCatalogues } from '../../engine/claim-page/assets.ts';
import { pollDelay } from '../../engine/claim-page/client/backoff.ts';
import {
  cardNumberFeedback,
  fieldProblem,
  methodBody,
  normalizeExpiry,
} from '../../engine/claim-page/client/fields.ts';
import { formatMoney, formattingLocale } from '../../engine/claim-page/client/format.ts';
import { translate } from '../../engine/claim-page/client/messages.ts';
import { pickLanguage } from '../../engine/claim-page/language.ts';
import { CLAIM_PAGE_CSP } from '../../engine/routes/claim-page.ts';
import { startHarness, type Harness } from './harness.ts';

let h: Harness;
let till: Record<string, string>;
let keys = 0;

beforeAll(async () => {
  h = await startHarness();
  till = (await h.app(['cashback_read', 'cashback_write'])).headers;
});
afterAll(() => h.close());

async function newClaim(amount = 2500): Promise<string> {
  const res = await h.request({
    method: 'POST',
    url: '/v1/claims',
    headers: { ...till, 'idempotency-key': `page-${++keys}` },
    body: { amount, currency: 'AUD', store_name: 'Corner <Store>' },
  });
  expect(res.status).toBe(201);
  return res.body.claim_id;
}

const getPage = (url: string, headers: Record<string, string> = {}) =>
  h.engine.app.inject({ method: 'GET', url, headers });

describe('/c/:id', () => {
  it('serves the page with the strict policy, no caching, no referrer, and nothing inline that runs', async () => {
    const id = await newClaim();
    const res = await getPage(`/c/${id}`);
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(res.headers['content-security-policy']).toBe(CLAIM_PAGE_CSP);
    for (const directive of [
      "default-src 'none'",
      "script-src 'self'",
      "form-action 'none'",
      "base-uri 'none'",
    ]) {
      expect(CLAIM_PAGE_CSP).toContain(directive);
    }
    expect(res.headers['x-content-type-options']).toBe('nosniff');
    expect(res.headers['referrer-policy']).toBe('no-referrer');
    expect(res.headers['cache-control']).toBe('no-store');

    const html = res.body;
    const scripts = [...html.matchAll(/<script([^>]*)>/g)].map((m) => m[1]);
    expect(scripts).toHaveLength(2);
    expect(
      scripts.every(
        (a) => /\ssrc="\/c\/assets\/claim\.[\w-]+\.js"/.test(a!) || /type="application\/json"/.test(a!),
      ),
    ).toBe(true);
    expect(html).not.toMatch(/\sstyle=|<style|\son\w+=|https?:\/\//);
    // The store's name is not in the page at all: the script sets it as text from the API.
    expect(html).not.toContain('Corner');
  });

  it('speaks the browser language, or the one chosen on the page; English otherwise', async () => {
    const id = await newClaim();
    const lang = async (headers: Record<string, string>, query = '') => {
      const res = await getPage(`/c/${id}${query}`, headers);
      return [res.headers['content-language'], /<html lang="(\w+)" dir="(\w+)">/.exec(res.body)?.slice(1)];
    };
    expect(await lang({ 'accept-language': 'ar-SD,ar;q=0.9,en;q=0.5' })).toEqual(['ar', ['ar', 'rtl']]);
    expect(await lang({ 'accept-language': 'fr-FR, fr;q=0.9' })).toEqual(['en', ['en', 'ltr']]);
    expect(await lang({})).toEqual(['en', ['en', 'ltr']]);
    expect(await lang({ 'accept-language': 'en-AU' }, '?lang=ar')).toEqual(['ar', ['ar', 'rtl']]);
    expect(await lang({ 'accept-language': 'ar' }, '?lang=xx')).toEqual(['ar', ['ar', 'rtl']]);
  });

  it('puts the script texts of the language in a data block that cannot close its tag', async () => {
    const id = await newClaim();
    const html = (await getPage(`/c/${id}`, { 'accept-language': 'ar' })).body;
    const block = /<script type="application\/json" id="messages">([^<]*)<\/script>/.exec(html)?.[1];
    expect(JSON.parse(block!)).toEqual(loadCatalogues().get('ar')!.script);
  });

  it('answers an unknown claim with the page and a 404, and serves only its own two files', async () => {
    const res = await getPage('/c/00000000-0000-4000-8000-000000000000');
    expect(res.statusCode).toBe(404);
    expect(res.headers['content-security-policy']).toBe(CLAIM_PAGE_CSP);
    const [js, css] = [/src="([^"]+)"/, /href="(\/c\/assets\/[^"]+)"/].map((r) => r.exec(res.body)![1]!);
    for (const [path, type] of [
      [js!, 'text/javascript; charset=utf-8'],
      [css!, 'text/css; charset=utf-8'],
    ] as const) {
      const asset = await getPage(path);
      expect(asset.statusCode).toBe(200);
      expect(asset.headers['content-type']).toBe(type);
      expect(asset.headers['cache-control']).toBe('public, max-age=31536000, immutable');
      expect(asset.headers['x-content-type-options']).toBe('nosniff');
    }
    expect((await getPage('/c/assets/claim.0000.js')).statusCode).toBe(404);
    expect((await getPage('/c/assets/..%2Fpage.html')).statusCode).toBe(404);
  });

  it('builds the submit bodies the API takes, from values as a customer types them', async () => {
    const typed: [Parameters<typeof methodBody>[0], Parameters<typeof methodBody>[1]][] = [
      ['card', { cardNumber: ' 4111 1111 1111 1111 ', cardExpiry: '1230' }],
      ['au_bank', { bsb: '062-000', account: '12345678', accountName: '' }],
      ['payid', { payid: ' 0412 345 678 ' }],
      ['paypal', { paypalEmail: 'jane@example.com ' }],
    ];
    for (const [kind, values] of typed) {
      for (const [field, value] of Object.entries(values)) {
        expect(fieldProblem(field as never, value, h.clock.now)).toBeUndefined();
      }
      const id = await newClaim();
      const res = await h.request({
        method: 'POST',
        url: `/v1/public/claims/${id}/submit`,
        body: { consent: true, method: methodBody(kind, values) },
      });
      expect([kind, res.status]).toEqual([kind, 202]);
    }
  });
});

describe('catalogues', () => {
  it('are English and at least one more, each text keeping the English placeholders', () => {
    const catalogues = loadCatalogues();
    expect([...catalogues.keys()][0]).toBe('en');
    expect(catalogues.size).toBeGreaterThanOrEqual(2);
    const placeholders = (s: string) => [...s.matchAll(/\{\w+\}/g)].map((m) => m[0]).sort();
    const en = catalogues.get('en')!;
    for (const [lang, c] of catalogues) {
      for (const part of ['page', 'script'] as const) {
        for (const [key, text] of Object.entries(en[part])) {
          expect([lang, key, placeholders(c[part][key]!)]).toEqual([lang, key, placeholders(text)]);
        }
      }
    }
  });

  it('fill placeholders, each value isolated in its own direction, and leave unknown ones visible', () => {
    const { script } = loadCatalogues().get('en')!;
    expect(translate(script as never, 'from', { store: 'بقالة النيل' })).toBe('From \u2068بقالة النيل\u2069');
    expect(translate(script as never, 'from')).toBe('From {store}');
  });
});

describe('the page script, by property', () => {
  /** A valid PAN: `body` and the one check digit that makes it pass Luhn (contract/card.ts). */
  const withCheck = (body: string) => [...'0123456789'].map((d) => body + d).find(isValidPan)!;
  const pan = fc.stringMatching(/^[1-9]\d{10,17}$/).map(withCheck);

  it('says nothing about a card number until it could be whole, then whether its check digit is right', () => {
    fc.assert(
      fc.property(pan, fc.nat(), (number, at) => {
        for (let n = 0; n < 12; n++) expect(cardNumberFeedback(number.slice(0, n))).toBeUndefined();
        expect(cardNumberFeedback(number)).toEqual({ key: 'cardOk', ok: true });
        expect(cardNumberFeedback(number.replace(/(\d{4})/g, '$1 '))).toEqual({ key: 'cardOk', ok: true });
        expect(fieldProblem('cardNumber', number, 0)).toBeUndefined();
        // Luhn catches every single wrong digit.
        const i = at % number.length;
        const wrong = `${number.slice(0, i)}${(Number(number[i]) + 1 + (at % 9)) % 10}${number.slice(i + 1)}`;
        expect(fieldProblem('cardNumber', wrong, 0)).toBe('errCardNumber');
        expect(cardNumberFeedback(wrong)).toEqual(
          wrong.length >= 16 ? { key: 'errCardNumber', ok: false } : undefined,
        );
      }),
    );
  });

  it('reads an expiry typed with or without the slash alike, and refuses past months', () => {
    const now = Date.UTC(2026, 5, 15);
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 12 }), fc.integer({ min: 0, max: 99 }), (month, year) => {
        const mm = String(month).padStart(2, '0');
        const yy = String(year).padStart(2, '0');
        expect(normalizeExpiry(`${mm}${yy}`)).toBe(`${mm}/${yy}`);
        expect(normalizeExpiry(normalizeExpiry(`${mm}${yy}`))).toBe(`${mm}/${yy}`);
        const current = year > 26 || (year === 26 && month >= 6);
        expect(fieldProblem('cardExpiry', `${mm}${yy}`, now)).toBe(current ? undefined : 'errCardExpired');
        expect(fieldProblem('cardExpiry', `${mm}/${yy}`, now)).toBe(current ? undefined : 'errCardExpired');
      }),
    );
    expect(fieldProblem('cardExpiry', '13/30', now)).toBe('errCardExpiry');
    expect(fieldProblem('cardExpiry', '1/30', now)).toBe('errCardExpiry');
  });

  it('asks for the status sooner first, then less often, never more than every 15 s', () => {
    expect(pollDelay(0)).toBe(800);
    expect(pollDelay(100)).toBe(15_000);
    fc.assert(
      fc.property(fc.nat(1000), (n) => {
        expect(pollDelay(n + 1)).toBeGreaterThanOrEqual(pollDelay(n));
        expect(pollDelay(n)).toBeGreaterThanOrEqual(800);
        expect(pollDelay(n)).toBeLessThanOrEqual(15_000);
      }),
    );
  });

  it('formats every amount digit for digit, in Latin or Arabic-Indic digits', () => {
    const toLatin = (s: string) => s.replace(/[٠-٩]/g, (d) => String(d.charCodeAt(0) - 0x0660));
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: MAX_MINOR }),
        fc.constantFrom('JPY', 'AUD', 'SDG', 'BHD'),
        fc.constantFrom('en-AU', 'ar-SD', 'de-DE'),
        (minor, code, lang) => {
          const digits = (s: string) => toLatin(s).replace(/\D/g, '');
          expect(digits(formatMoney(minor, code, lang))).toBe(digits(formatAmount(minor, code)));
        },
      ),
    );
    expect(formatMoney(2500, 'AUD', 'en-AU')).toBe('$25.00');
    expect(formatMoney(1250, 'GBYTE', 'en')).toMatch(/ GBYTE$/);
  });

  it('formats in the browser’s own variant of the page language', () => {
    expect(formattingLocale('en', ['en-AU', 'en'])).toBe('en-AU');
    expect(formattingLocale('ar', ['fr-FR', 'ar-SD'])).toBe('ar-SD');
    expect(formattingLocale('en', ['fr-FR'])).toBe('en');
  });

  it('always picks a language it has, whatever the Accept-Language header says', () => {
    const available = [...loadCatalogues().keys()];
    fc.assert(
      fc.property(fc.option(fc.string()), fc.option(fc.string()), (chosen, header) => {
        expect(available).toContain(pickLanguage(available, chosen ?? undefined, header ?? undefined));
      }),
    );
  });
});
