import { describe, expect, it } from 'vitest';
import {
  CardRead,
  TRACK1_MAX,
  TRACK2_MAX,
  checkExpiry,
  decodeSwipe,
  decodeTrack,
  decodeTrack1,
  decodeTrack2,
  fromRawCodes,
  lrcChar,
  parseExpiry,
  parseServiceCode,
  splitSwipe,
  toRawCodes,
} from '../../../drivers/cards/magstripe.ts';
import { CardError, type CardErrorCode, type Result } from '../../../drivers/cards/errors.ts';
import { luhnCheckDigit } from '../../../drivers/cards/barcode.ts';
import { OTHER_PAN, PAN, T1, T2, leaksPan, summary, withLrc } from './fixtures.ts';

function value<T>(r: Result<T>): T {
  if (!r.ok) throw new Error(`expected ok, got ${r.error.code}: ${r.error.message}`);
  return r.value;
}
function code<T>(r: Result<T>): CardErrorCode {
  if (r.ok) throw new Error('expected an error');
  expect(r.error).toBeInstanceOf(CardError);
  expect(leaksPan(r.error)).toBe(false);
  return r.error.code;
}

describe('ISO 7813 vectors (DESIGN.md)', () => {
  it('decodes track 1 field by field', () => {
    const c = value(decodeTrack1(T1));
    expect(c).toBeInstanceOf(CardRead);
    expect(c.track).toBe(1);
    expect(c.panMasked).toBe('535029******5177');
    expect(c.withPan((p) => p)).toBe(PAN);
    expect(c.expiry).toEqual({ year: 2016, month: 4 });
    expect(c.serviceCode.code).toBe('201');
    expect(c.name).toEqual({ surname: 'FATEHI', given: 'SUALEH', full: 'FATEHI/SUALEH' });
    expect(c.lrcChecked).toBe(false);
    expect(T1.length).toBeLessThanOrEqual(TRACK1_MAX);
  });

  it('decodes track 2 field by field', () => {
    const c = value(decodeTrack2(T2));
    expect(summary(c)).toEqual({
      track: 2,
      pan: PAN,
      panMasked: '535029******5177',
      expiry: { year: 2016, month: 4 },
      serviceCode: '201',
      name: null,
    });
    expect(T2.length).toBeLessThanOrEqual(TRACK2_MAX);
  });

  it('decodeTrack picks the track by sentinel; both tracks agree', () => {
    const a = value(decodeTrack(T1));
    const b = value(decodeTrack(T2));
    expect(a.track).toBe(1);
    expect(b.track).toBe(2);
    expect(a.samePanAs(b)).toBe(true);
  });

  it('decodes a whole swipe (both tracks, with CR/LF between) preferring track 1', () => {
    for (const s of [T1 + T2, `${T1}\r\n${T2}\n`, T2, T1]) {
      const sw = value(decodeSwipe(s));
      expect(sw.card.withPan((p) => p)).toBe(PAN);
      expect(sw.card.track).toBe(s.includes('%') ? 1 : 2);
    }
    expect(value(decodeSwipe(T1 + T2)).tracks).toHaveLength(2);
  });

  it('a swipe with one bad track still reads, reporting the other', () => {
    const sw = value(decodeSwipe(T1.replace('5177', '5178') + T2));
    expect(sw.card.track).toBe(2);
    expect(sw.trackErrors.map((e) => e.code)).toEqual(['bad_luhn']);
  });

  it('splits swipes, keeping an LRC that follows the end sentinel', () => {
    const t1 = withLrc(1, T1);
    const t2 = withLrc(2, T2);
    expect(splitSwipe(`${t1}${t2}`)).toEqual([t1, t2]);
    expect(splitSwipe(`junk${T2}`)).toEqual(['junk', T2]);
    expect(splitSwipe(';123')).toEqual([';123']);
    expect(splitSwipe('')).toEqual([]);
  });
});

describe('fields', () => {
  it('expiry: YYMM to year and month; expired at the end of the month', () => {
    expect(value(parseExpiry('2912'))).toEqual({ year: 2029, month: 12 });
    const e = value(parseExpiry('1604'));
    expect(checkExpiry(e, new Date('2016-04-30T23:59:59.999Z'))).toBeNull();
    const err = checkExpiry(e, new Date('2016-05-01T00:00:00Z'));
    expect(err?.code).toBe('expired');
    expect(err?.message).toBe('card expired at 2016-04-30');
    expect(checkExpiry(value(parseExpiry('2402')), new Date('2024-03-01T00:00:00Z'))?.message).toBe(
      'card expired at 2024-02-29',
    );
  });

  it('refuses an expired card only when given a clock', () => {
    expect(decodeTrack2(T2).ok).toBe(true);
    expect(decodeTrack2(T2, { now: new Date('2016-04-15T12:00:00Z') }).ok).toBe(true);
    expect(code(decodeTrack2(T2, { now: new Date('2026-01-01T00:00:00Z') }))).toBe('expired');
    expect(code(decodeTrack1(T1, { now: new Date('2016-05-01T00:00:00Z') }))).toBe('expired');
  });

  it('service code meanings', () => {
    const v = value(parseServiceCode('201'));
    expect(v).toMatchObject({
      interchange: 'international',
      chip: true,
      authorization: 'normal',
      services: 'any',
      pin: 'none',
    });
    expect(v.meaning).toContain('chip card: use the IC where feasible');
    expect(value(parseServiceCode('101'))).toMatchObject({ interchange: 'international', chip: false });
    expect(value(parseServiceCode('120'))).toMatchObject({
      authorization: 'online',
      pin: 'required',
      services: 'any',
    });
    expect(value(parseServiceCode('606'))).toMatchObject({
      interchange: 'national',
      chip: true,
      pin: 'if_pin_pad_present',
    });
    expect(value(parseServiceCode('542'))).toMatchObject({
      authorization: 'online_unless_bilateral',
      services: 'goods_and_services',
    });
    expect(value(parseServiceCode('703'))).toMatchObject({ interchange: 'private', services: 'atm_only' });
    expect(value(parseServiceCode('904'))).toMatchObject({ interchange: 'test', services: 'cash_only' });
    expect(value(parseServiceCode('015'))).toMatchObject({ interchange: 'reserved', pin: 'required' });
    expect(value(parseServiceCode('238'))).toMatchObject({ authorization: 'reserved', services: 'reserved' });
    expect(value(parseServiceCode('120')).meaning).toEqual([
      'international interchange',
      'online authorization required',
      'no service restrictions',
      'PIN required',
    ]);
  });

  it('name: trimmed, with or without a given name', () => {
    const t = (n: string) => value(decodeTrack1(`%B${PAN}^${n}^1604201?`)).name;
    expect(t('FATEHI/SUALEH  ')).toEqual({ surname: 'FATEHI', given: 'SUALEH', full: 'FATEHI/SUALEH' });
    expect(t(' DOE /JOHN Q.MR ')).toEqual({ surname: 'DOE', given: 'JOHN Q.MR', full: 'DOE/JOHN Q.MR' });
    expect(t('ACME CORP')).toEqual({ surname: 'ACME CORP', given: '', full: 'ACME CORP' });
  });

  it('PAN lengths 12 and 19 are accepted', () => {
    const p12 = `41111111111${luhnCheckDigit('41111111111')}`;
    const p19 = `411111111111111111${luhnCheckDigit('411111111111111111')}`;
    expect(value(decodeTrack2(`;${p12}=2912101?`)).panMasked).toBe(`411111**${p12.slice(-4)}`);
    expect(value(decodeTrack2(`;${p19}=2912101?`)).panMasked).toBe(`411111*********${p19.slice(-4)}`);
  });
});

describe('LRC and parity', () => {
  it('computes the LRC over the 4-bit and 6-bit codes, sentinels included', () => {
    // Track 2 codes: ";" 0xB, "1" 0x1, "?" 0xF -> 0xB^0x1^0xF = 0x5 -> "5".
    expect(lrcChar(2, ';1?')).toBe('5');
    // Track 1 codes: "%" 0x05, "A" 0x21, "?" 0x1F -> 0x3B -> 0x5B "[".
    expect(lrcChar(1, '%A?')).toBe('[');
    expect(() => lrcChar(2, ';A?')).toThrow(CardError);
  });

  it('accepts a track carrying the right LRC and refuses a wrong one', () => {
    for (const [n, t] of [
      [1, T1],
      [2, T2],
    ] as const) {
      const good = withLrc(n, t);
      const c = value(decodeTrack(good, { requireLrc: true }));
      expect(c.lrcChecked).toBe(true);
      const last = good.charCodeAt(good.length - 1);
      const bad = good.slice(0, -1) + String.fromCharCode(last === 0x30 ? 0x31 : 0x30);
      expect(code(decodeTrack(bad))).toBe('bad_lrc');
    }
    expect(code(decodeTrack(T2, { requireLrc: true }))).toBe('bad_lrc');
    expect(code(decodeTrack(`${T2}a`))).toBe('bad_lrc'); // not even a track 2 character
  });

  it('raw stripe characters round-trip with odd parity; a flipped bit is caught', () => {
    for (const [n, t] of [
      [1, withLrc(1, T1)],
      [2, withLrc(2, T2)],
    ] as const) {
      const raw = toRawCodes(n, t);
      for (const r of raw) {
        let ones = 0;
        for (let v = r; v; v >>= 1) ones += v & 1;
        expect(ones % 2).toBe(1);
      }
      expect(value(fromRawCodes(n, raw))).toBe(t);
      const flipped = [...raw];
      flipped[5] = (flipped[5] ?? 0) ^ 1;
      expect(code(fromRawCodes(n, flipped))).toBe('bad_parity');
      expect(code(fromRawCodes(n, [1 << (n === 1 ? 7 : 5)]))).toBe('bad_char');
    }
    expect(() => toRawCodes(2, 'A')).toThrow(CardError);
  });
});

describe('every decoder error code', () => {
  const cases: [string, string, CardErrorCode][] = [
    ['empty', '', 'bad_sentinel'],
    ['no start sentinel', T2.slice(1), 'bad_sentinel'],
    ['no end sentinel (track 2)', T2.slice(0, -1), 'bad_sentinel'],
    ['no end sentinel (track 1)', T1.slice(0, -1), 'bad_sentinel'],
    ['format code A', T1.replace('%B', '%A'), 'bad_format'],
    ['track 2 without separator', `;${PAN}?`, 'bad_format'],
    ['track 1 without separator', `%B${PAN}?`, 'bad_format'],
    ['track 1 with one separator', `%B${PAN}^FATEHI/SUALEH?`, 'bad_format'],
    ['two characters after the end sentinel', `${T2}12`, 'bad_format'],
    ['extra separator in track 2', `;${PAN}=1604201=0?`, 'bad_format'],
    ['extra separator in track 1', `%B${PAN}^A/B^1604201^0?`, 'bad_format'],
    ['track 2 over 40', `;${PAN}=1604201${'0'.repeat(20)}?`, 'bad_length'],
    ['track 1 over 79', `%B${PAN}^FATEHI/SUALEH^1604201${'0'.repeat(45)}?`, 'bad_length'],
    ['control character in track 2', T2.replace('5177=', '51:7='), 'bad_char'],
    ['lower case in track 1', T1.replace('FATEHI', 'fatehi'), 'bad_char'],
    ['start sentinel inside track 1', T1.replace('FATEHI', 'FA%EHI'), 'bad_char'],
    ['PAN too short', ';41111111111=1604201?', 'bad_pan'],
    ['PAN too long', ';41111111111111111113=1604201?', 'bad_pan'],
    ['PAN with a letter (track 1)', T1.replace('5350', '53A0'), 'bad_pan'],
    ['PAN fails Luhn', T2.replace('5177', '5178'), 'bad_luhn'],
    ['expiry month 13', `;${PAN}=1613201?`, 'bad_expiry'],
    ['expiry month 00', `;${PAN}=1600201?`, 'bad_expiry'],
    ['expiry cut short', `;${PAN}=16?`, 'bad_expiry'],
    ['expiry not digits (track 1)', `%B${PAN}^A/B^16XX201?`, 'bad_expiry'],
    ['service code cut short', `;${PAN}=160420?`, 'bad_service_code'],
    ['service code not digits', `%B${PAN}^A/B^1604ABC?`, 'bad_service_code'],
    ['name of one character', `%B${PAN}^X^1604201?`, 'bad_name'],
    ['name of 27 characters', `%B${PAN}^${'X'.repeat(27)}^1604201?`, 'bad_name'],
    ['blank name', `%B${PAN}^  /  ^1604201?`, 'bad_name'],
  ];
  it.each(cases)('%s', (_label, input, expected) => {
    expect(code(decodeTrack(input))).toBe(expected);
  });

  it('track_mismatch when the two tracks of a swipe disagree', () => {
    const t2 = `;${OTHER_PAN}=1604201?`;
    expect(code(decodeSwipe(T1 + t2))).toBe('track_mismatch');
    expect(code(decodeSwipe(T1 + T2.replace('1604', '1605')))).toBe('track_mismatch');
    expect(code(decodeSwipe('   '))).toBe('bad_sentinel');
    expect(code(decodeSwipe('junk'))).toBe('bad_sentinel');
  });

  it('messages never quote the input', () => {
    for (const [, input] of cases) {
      const r = decodeTrack(input);
      if (!r.ok) expect(r.error.message).not.toContain(PAN);
    }
  });
});
