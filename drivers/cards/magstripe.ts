// ISO/IEC 7813 magnetic stripe decoding: track 1 (format B) and track 2, as ASCII text from a reader
// (keyboard wedge, vendor HID report, serial) or as raw 7-bit / 5-bit characters with odd parity.
//
// Character sets (ISO/IEC 7811-2): track 1 holds 6-bit codes shown as ASCII 0x20..0x5F (code + 0x20),
// track 2 holds 4-bit BCD codes shown as ASCII 0x30..0x3F (code + 0x30). On the stripe each code
// carries an odd parity bit (bit 6 on track 1, bit 4 on track 2). The LRC character follows the end
// sentinel: each of its data bits is the XOR of that bit over every character from the start
// sentinel to the end sentinel inclusive; its own parity bit is odd parity over itself.
// Maximum lengths include both sentinels and the LRC: 79 characters on track 1, 40 on track 2.
//
// Secrets: a CardRead keeps the PAN in an ECMAScript private field. JSON.stringify, String(),
// util.inspect and console.log never show it; code that needs it asks for it with withPan(fn).
// Error messages are built from fixed text, never from input characters.
import { isValidPan, maskPan } from '../../contract/card.ts';
import { CardError, fail, ok, type Result } from './errors.ts';

export type TrackNumber = 1 | 2;

export const TRACK1_MAX = 79;
export const TRACK2_MAX = 40;

export interface Expiry {
  /** Four-digit year: 20YY. */
  year: number;
  /** 1..12 */
  month: number;
}

export interface ServiceCode {
  /** The three digits as on the card, e.g. "201". */
  code: string;
  /** Position 1: interchange and technology. */
  interchange: 'international' | 'national' | 'private' | 'test' | 'reserved';
  /** Position 1 is 2 or 6: an integrated circuit (chip) is present; use it where the terminal can. */
  chip: boolean;
  /** Position 2: authorization processing. */
  authorization: 'normal' | 'online' | 'online_unless_bilateral' | 'reserved';
  /** Position 3: allowed services. */
  services: 'any' | 'goods_and_services' | 'atm_only' | 'cash_only' | 'reserved';
  /** Position 3: PIN requirement. */
  pin: 'required' | 'if_pin_pad_present' | 'none' | 'reserved';
  /** Plain-words summary, e.g. ["international", "chip card", "normal authorization", ...]. */
  meaning: string[];
}

export interface CardName {
  /** Before the "/" (the whole field when there is none), trimmed. */
  surname: string;
  /** After the "/", trimmed; may include an initial and a title ("JOHN Q.MR"). */
  given: string;
  /** "SURNAME/GIVEN" as trimmed on the card. */
  full: string;
}

export interface DecodeOptions {
  /** Refuse the track when it carries no LRC character (vendor readers that pass it through). */
  requireLrc?: boolean;
  /** When given, a card whose expiry month has ended at this instant is refused with `expired`. */
  now?: Date;
}

/** A decoded track. Holds the PAN privately: see withPan. */
export class CardRead {
  readonly #pan: string;
  readonly track: TrackNumber;
  readonly panMasked: string;
  readonly expiry: Expiry;
  readonly serviceCode: ServiceCode;
  /** Track 1 only; null on track 2. */
  readonly name: CardName | null;
  /** Whether the decoded text carried an LRC character (and it matched). */
  readonly lrcChecked: boolean;

  constructor(fields: {
    pan: string;
    track: TrackNumber;
    expiry: Expiry;
    serviceCode: ServiceCode;
    name: CardName | null;
    lrcChecked: boolean;
  }) {
    this.#pan = fields.pan;
    this.track = fields.track;
    this.panMasked = maskPan(fields.pan);
    this.expiry = fields.expiry;
    this.serviceCode = fields.serviceCode;
    this.name = fields.name;
    this.lrcChecked = fields.lrcChecked;
  }

  /** The only way to the full PAN: pass it to a function (to hash it, to send it to a terminal). */
  withPan<T>(fn: (pan: string) => T): T {
    return fn(this.#pan);
  }

  /** True when both reads carry the same PAN (compared without exposing either). */
  samePanAs(other: CardRead): boolean {
    return other.withPan((p) => p === this.#pan);
  }

  toString(): string {
    return `CardRead(track ${this.track}, ${this.panMasked})`;
  }
}

// ---------------------------------------------------------------------------------------------
// Character codes, parity and LRC

const OFFSET: Record<TrackNumber, number> = { 1: 0x20, 2: 0x30 };
const DATA_BITS: Record<TrackNumber, number> = { 1: 6, 2: 4 };

function codeOf(track: TrackNumber, ch: number): number | null {
  const c = ch - OFFSET[track];
  return c >= 0 && c < 1 << DATA_BITS[track] ? c : null;
}

/** LRC character (ASCII) for text from the start sentinel to the end sentinel inclusive. */
export function lrcChar(track: TrackNumber, text: string): string {
  let x = 0;
  for (let i = 0; i < text.length; i++) {
    const c = codeOf(track, text.charCodeAt(i));
    if (c === null) throw new CardError('bad_char', `character ${i + 1} is outside the track ${track} set`);
    x ^= c;
  }
  return String.fromCharCode(x + OFFSET[track]);
}

function oddParityBit(code: number): number {
  let ones = 0;
  for (let v = code; v; v >>= 1) ones += v & 1;
  return ones % 2 === 0 ? 1 : 0;
}

/** ASCII track text to raw stripe characters: data bits plus the odd parity bit on top. */
export function toRawCodes(track: TrackNumber, text: string): number[] {
  const bits = DATA_BITS[track];
  return [...text].map((ch, i) => {
    const c = codeOf(track, ch.charCodeAt(0));
    if (c === null) throw new CardError('bad_char', `character ${i + 1} is outside the track ${track} set`);
    return c | (oddParityBit(c) << bits);
  });
}

/** Raw stripe characters (7-bit track 1, 5-bit track 2, odd parity) to ASCII text; checks parity. */
export function fromRawCodes(track: TrackNumber, codes: ArrayLike<number>): Result<string> {
  const bits = DATA_BITS[track];
  let out = '';
  for (let i = 0; i < codes.length; i++) {
    const raw = codes[i] ?? -1;
    if (!Number.isInteger(raw) || raw < 0 || raw >= 1 << (bits + 1))
      return fail('bad_char', `raw character ${i + 1} does not fit ${bits + 1} bits`);
    const c = raw & ((1 << bits) - 1);
    if (raw >> bits !== oddParityBit(c)) return fail('bad_parity', `raw character ${i + 1} fails odd parity`);
    out += String.fromCharCode(c + OFFSET[track]);
  }
  return ok(out);
}

// ---------------------------------------------------------------------------------------------
// Fields

/** YYMM to {year, month}; year is 20YY. */
export function parseExpiry(yymm: string): Result<Expiry> {
  if (!/^\d{4}$/.test(yymm)) return fail('bad_expiry', 'expiry is not four digits YYMM');
  const month = Number(yymm.slice(2));
  if (month < 1 || month > 12) return fail('bad_expiry', 'expiry month is not 01..12');
  return ok({ year: 2000 + Number(yymm.slice(0, 2)), month });
}

/** Last day of the expiry month, "YYYY-MM-DD" (a card is valid through the end of that month). */
export function expiryDate(e: Expiry): string {
  const last = new Date(Date.UTC(e.year, e.month, 0));
  return last.toISOString().slice(0, 10);
}

/** A CardError `expired` when the expiry month has ended at `now` (UTC), otherwise null. */
export function checkExpiry(e: Expiry, now: Date): CardError | null {
  return now.getTime() >= Date.UTC(e.year, e.month, 1)
    ? new CardError('expired', `card expired at ${expiryDate(e)}`)
    : null;
}

export function parseServiceCode(digits: string): Result<ServiceCode> {
  if (!/^\d{3}$/.test(digits)) return fail('bad_service_code', 'service code is not three digits');
  const [d1, d2, d3] = [...digits].map(Number) as [number, number, number];
  const meaning: string[] = [];
  const interchange: ServiceCode['interchange'] =
    d1 === 1 || d1 === 2
      ? 'international'
      : d1 === 5 || d1 === 6
        ? 'national'
        : d1 === 7
          ? 'private'
          : d1 === 9
            ? 'test'
            : 'reserved';
  const chip = d1 === 2 || d1 === 6;
  meaning.push(
    {
      international: 'international interchange',
      national: 'national interchange only',
      private: 'no interchange except under bilateral agreement',
      test: 'test card',
      reserved: 'reserved interchange value',
    }[interchange],
  );
  if (chip) meaning.push('chip card: use the IC where feasible');
  const authorization: ServiceCode['authorization'] =
    d2 === 0 ? 'normal' : d2 === 2 ? 'online' : d2 === 4 ? 'online_unless_bilateral' : 'reserved';
  meaning.push(
    {
      normal: 'normal authorization',
      online: 'online authorization required',
      online_unless_bilateral: 'online authorization unless bilateral agreement',
      reserved: 'reserved authorization value',
    }[authorization],
  );
  const table: Record<number, [ServiceCode['services'], ServiceCode['pin']]> = {
    0: ['any', 'required'],
    1: ['any', 'none'],
    2: ['goods_and_services', 'none'],
    3: ['atm_only', 'required'],
    4: ['cash_only', 'none'],
    5: ['goods_and_services', 'required'],
    6: ['any', 'if_pin_pad_present'],
    7: ['goods_and_services', 'if_pin_pad_present'],
  };
  const [services, pin] = table[d3] ?? ['reserved', 'reserved'];
  meaning.push(
    {
      any: 'no service restrictions',
      goods_and_services: 'goods and services only (no cash)',
      atm_only: 'ATM only',
      cash_only: 'cash only',
      reserved: 'reserved services value',
    }[services],
  );
  if (pin === 'required') meaning.push('PIN required');
  if (pin === 'if_pin_pad_present') meaning.push('PIN required where a PIN pad is present');
  return ok({ code: digits, interchange, chip, authorization, services, pin, meaning });
}

function parseName(field: string): Result<CardName> {
  // ISO 7813: 2..26 characters. Readers pad with spaces; the field never carries the separator.
  if (field.length < 2 || field.length > 26) return fail('bad_name', 'name field is not 2..26 characters');
  const slash = field.indexOf('/');
  const surname = (slash < 0 ? field : field.slice(0, slash)).trim();
  const given = slash < 0 ? '' : field.slice(slash + 1).trim();
  if (!surname && !given) return fail('bad_name', 'name field is blank');
  return ok({ surname, given, full: given ? `${surname}/${given}` : surname });
}

function checkPan(pan: string): Result<string> {
  if (!/^\d{12,19}$/.test(pan))
    return fail('bad_pan', `PAN field is not 12..19 digits (${pan.length} chars)`);
  if (!isValidPan(pan)) return fail('bad_luhn', 'PAN fails the Luhn check');
  return ok(pan);
}

// ---------------------------------------------------------------------------------------------
// Tracks

interface Framed {
  body: string;
  lrcChecked: boolean;
}

/** Sentinels, length, character set and LRC shared by both tracks. */
function frame(track: TrackNumber, s: string, opts: DecodeOptions): Result<Framed> {
  const ss = track === 1 ? '%' : ';';
  const max = track === 1 ? TRACK1_MAX : TRACK2_MAX;
  if (s.length === 0 || s[0] !== ss) return fail('bad_sentinel', `track ${track} does not start with ${ss}`);
  const es = s.indexOf('?');
  if (es < 0) return fail('bad_sentinel', `track ${track} has no end sentinel ?`);
  if (s.length - es - 1 > 1) return fail('bad_format', `track ${track} has characters after the LRC`);
  if (s.length > max) return fail('bad_length', `track ${track} is ${s.length} characters, over ${max}`);
  for (let i = 1; i < es; i++) {
    const ch = s.charCodeAt(i);
    const code = codeOf(track, ch);
    // Inside the data: no sentinels, and on track 2 none of the control codes : < > either.
    const allowed =
      code !== null && s[i] !== ss && (track === 1 || (ch >= 0x30 && ch <= 0x39) || s[i] === '=');
    if (!allowed) return fail('bad_char', `track ${track} character ${i + 1} is not a data character`);
  }
  const lrc = s.length === es + 2 ? s[es + 1] : undefined;
  if (lrc === undefined) {
    if (opts.requireLrc) return fail('bad_lrc', `track ${track} carries no LRC`);
  } else if (lrcChar(track, s.slice(0, es + 1)) !== lrc) {
    return fail('bad_lrc', `track ${track} LRC does not match`);
  }
  return ok({ body: s.slice(1, es), lrcChecked: lrc !== undefined });
}

function finish(
  track: TrackNumber,
  pan: string,
  rest: string,
  name: CardName | null,
  lrcChecked: boolean,
  opts: DecodeOptions,
): Result<CardRead> {
  const expiry = parseExpiry(rest.slice(0, 4));
  if (!expiry.ok) return expiry;
  const sc = parseServiceCode(rest.slice(4, 7));
  if (!sc.ok) return sc;
  const sep = track === 1 ? '^' : '=';
  if (rest.includes(sep)) return fail('bad_format', `track ${track} has an extra field separator`);
  if (opts.now) {
    const e = checkExpiry(expiry.value, opts.now);
    if (e) return { ok: false, error: e };
  }
  return ok(new CardRead({ pan, track, expiry: expiry.value, serviceCode: sc.value, name, lrcChecked }));
}

/** Track 1 format B: %B PAN ^ NAME ^ YYMM SSS discretionary ? [LRC] */
export function decodeTrack1(s: string, opts: DecodeOptions = {}): Result<CardRead> {
  const f = frame(1, s, opts);
  if (!f.ok) return f;
  const body = f.value.body;
  if (body[0] !== 'B') return fail('bad_format', 'track 1 format code is not B');
  const s1 = body.indexOf('^');
  if (s1 < 0) return fail('bad_format', 'track 1 has no field separator after the PAN');
  const s2 = body.indexOf('^', s1 + 1);
  if (s2 < 0) return fail('bad_format', 'track 1 has no field separator after the name');
  const pan = checkPan(body.slice(1, s1));
  if (!pan.ok) return pan;
  const name = parseName(body.slice(s1 + 1, s2));
  if (!name.ok) return name;
  return finish(1, pan.value, body.slice(s2 + 1), name.value, f.value.lrcChecked, opts);
}

/** Track 2: ; PAN = YYMM SSS discretionary ? [LRC] */
export function decodeTrack2(s: string, opts: DecodeOptions = {}): Result<CardRead> {
  const f = frame(2, s, opts);
  if (!f.ok) return f;
  const body = f.value.body;
  const s1 = body.indexOf('=');
  if (s1 < 0) return fail('bad_format', 'track 2 has no field separator after the PAN');
  const pan = checkPan(body.slice(0, s1));
  if (!pan.ok) return pan;
  return finish(2, pan.value, body.slice(s1 + 1), null, f.value.lrcChecked, opts);
}

/** Track 1 or 2, chosen by the start sentinel. */
export function decodeTrack(s: string, opts: DecodeOptions = {}): Result<CardRead> {
  if (s.startsWith('%')) return decodeTrack1(s, opts);
  if (s.startsWith(';')) return decodeTrack2(s, opts);
  return fail('bad_sentinel', 'track does not start with % or ;');
}

/**
 * Splits one swipe as a keyboard wedge types it ("%B...?;...?", maybe with CR/LF between tracks)
 * into track strings. A character right after an end sentinel is taken as that track's LRC unless it
 * is whitespace or a start sentinel followed by track data; wedge readers normally send no LRC.
 */
export function splitSwipe(s: string): string[] {
  const out: string[] = [];
  let i = 0;
  while (i < s.length) {
    const ch = s[i];
    if (ch === '\r' || ch === '\n' || ch === '\t' || ch === ' ') {
      i++;
      continue;
    }
    if (ch === '%' || ch === ';') {
      const es = s.indexOf('?', i + 1);
      if (es < 0) {
        out.push(s.slice(i));
        break;
      }
      let end = es + 1;
      const next = s[end];
      const after = s[end + 1];
      // A start sentinel right after "?" begins the next track, unless nothing track-like follows it
      // (then it is this track's LRC: ";" and "%" are valid LRC characters).
      const startsTrack =
        (next === '%' || next === ';') && after !== undefined && !'%;\r\n\t '.includes(after);
      if (next !== undefined && !'\r\n\t '.includes(next) && !startsTrack) end++;
      out.push(s.slice(i, end));
      i = end;
    } else {
      // Junk before a start sentinel: keep it as its own (failing) piece so it is reported.
      let j = i + 1;
      while (j < s.length && !'%;\r\n'.includes(s[j] ?? '')) j++;
      out.push(s.slice(i, j));
      i = j;
    }
  }
  return out;
}

export interface Swipe {
  /** Track 1 when it decoded (it carries the name), otherwise track 2. */
  card: CardRead;
  tracks: CardRead[];
  /** Errors of tracks that did not decode while another did. */
  trackErrors: CardError[];
}

/** Decodes every track of a swipe; succeeds when at least one decodes and decoded tracks agree. */
export function decodeSwipe(s: string, opts: DecodeOptions = {}): Result<Swipe> {
  const tracks: CardRead[] = [];
  const trackErrors: CardError[] = [];
  for (const t of splitSwipe(s)) {
    const r = decodeTrack(t, opts);
    if (r.ok) tracks.push(r.value);
    else trackErrors.push(r.error);
  }
  const first = tracks[0];
  if (!first) {
    const e = trackErrors[0];
    return e ? { ok: false, error: e } : fail('bad_sentinel', 'swipe holds no track');
  }
  for (const t of tracks.slice(1)) {
    if (!t.samePanAs(first) || t.expiry.year !== first.expiry.year || t.expiry.month !== first.expiry.month)
      return fail('track_mismatch', 'tracks of one swipe disagree on PAN or expiry');
  }
  const card = tracks.find((t) => t.track === 1) ?? first;
  return ok({ card, tracks, trackErrors });
}
