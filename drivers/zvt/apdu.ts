// ZVT (ECR interface, PA00P015) application layer: APDUs, BMP fields, BCD, the commands this driver uses and
// the terminal -> ECR messages it understands. No I/O.
//
//   APDU = CLASS | INSTR | length | data
//   length = 1 byte (0..254), or 0xFF followed by a 2-byte little-endian length (extended, up to 65,535).
//
// Sources (public, consulted 2026-11; the ZVT spec PDF itself was not in the reference corpus):
// - Portalum/Portalum.Zvt src/Portalum.Zvt/Helpers/ApduHelper.cs: 0xFF extended-length indicator followed by
//   two bytes read with BitConverter.ToInt16 (little-endian on every .NET platform it targets). The older
//   mathiasfrey/ecrterm packets/apdu.py reads them big-endian with a "@todo: could be wrong" note; we follow
//   Portalum (and the brief) and write little-endian.
// - mathiasfrey/ecrterm packets/bitmaps.py: BMP ids and their formats (fixed lengths, LLVAR, LLLVAR, TLV).
// - mathiasfrey/ecrterm packets/base_packets.py: Registration 06 00 (password 3 bytes BCD, config byte, CC),
//   StatusEnquiry 05 01 (password), ReadCard 06 C0 (timeout byte), ShowText 06 E0 (F0 duration, F1..F8 lines),
//   Completion 06 0F (optionally LLLVAR sw-version + terminal-status), Abort 06 1E (result code byte),
//   StatusInformation 04 0F, IntermediateStatusInformation 04 FF (status byte, optional timeout byte),
//   PacketReceived 80 00, PacketReceivedError 84 xx.
// - mathiasfrey/ecrterm common.py: the command names (incl. [0x06, 0xB0] "Abort" ECR -> PT, [0x06, 0xC0]
//   "Read Card", [0x06, 0xE0] "Display Text") and the three code tables in codes.ts.
// - Philipp3107/PLAT_GUI_ENTWURF .../orga/TERMINAL_CODES.md: 06 00 data layout
//   `<password> <config-byte> [<CC> [03 <service-byte>] [06 <TLV>]]`, Completion `[19 status][29 TID][49 CC]`.
// ASSUMPTION: 06 B0 (ECR abort) carries no data.

import { maskPan } from '../../contract/card.ts';

export const ZVT_MAX_APDU_DATA = 65_535;

export type ZvtApduErrorCode =
  | 'apdu_truncated' // fewer bytes than the header or the declared length
  | 'apdu_trailing' // bytes after the declared data
  | 'apdu_too_long' // data longer than 65,535 bytes (encode only)
  | 'bmp_unknown' // a BMP id this parser does not know the format of
  | 'bmp_truncated' // a BMP runs past the end of the data
  | 'bmp_bad_length' // an LLVAR/LLLVAR length digit is not 0xF0..0xF9
  | 'bad_bcd' // a BCD nibble that is not a digit where a digit is required
  | 'bad_argument'; // a command argument out of range (encode only)

/** Every error of this layer. Messages are written from fixed text and numbers, never from APDU data. */
export class ZvtApduError extends Error {
  override readonly name = 'ZvtApduError';
  constructor(
    readonly code: ZvtApduErrorCode,
    message: string,
  ) {
    super(message);
  }
}

export interface Apdu {
  cls: number;
  instr: number;
  data: Buffer;
}

const hex2 = (n: number): string => n.toString(16).padStart(2, '0').toUpperCase();

/** "06 C0" */
export function commandName(cls: number, instr: number): string {
  return `${hex2(cls)} ${hex2(instr)}`;
}

export function encodeApdu(apdu: Apdu): Buffer {
  const { cls, instr, data } = apdu;
  if (!isByte(cls) || !isByte(instr)) throw new ZvtApduError('bad_argument', 'CLASS and INSTR must be bytes');
  if (data.length > ZVT_MAX_APDU_DATA) {
    throw new ZvtApduError('apdu_too_long', `APDU data of ${data.length} bytes exceeds 65535`);
  }
  if (data.length < 0xff) return Buffer.concat([Buffer.of(cls, instr, data.length), data]);
  return Buffer.concat([Buffer.of(cls, instr, 0xff, data.length & 0xff, data.length >>> 8), data]);
}

/** Header size and data length of the APDU starting at `buf[0]`, or null if the header is incomplete. */
export function apduHeader(buf: Uint8Array): { header: number; length: number } | null {
  if (buf.length < 3) return null;
  const l = buf[2] ?? 0;
  if (l !== 0xff) return { header: 3, length: l };
  if (buf.length < 5) return null;
  return { header: 5, length: (buf[3] ?? 0) | ((buf[4] ?? 0) << 8) };
}

/** Decodes exactly one APDU; throws ZvtApduError (only) on anything else. */
export function decodeApdu(bytes: Uint8Array): Apdu {
  const h = apduHeader(bytes);
  if (!h) throw new ZvtApduError('apdu_truncated', `APDU header incomplete (${bytes.length} bytes)`);
  const end = h.header + h.length;
  if (bytes.length < end) {
    throw new ZvtApduError(
      'apdu_truncated',
      `APDU declares ${h.length} data bytes, ${bytes.length - h.header} present`,
    );
  }
  if (bytes.length > end)
    throw new ZvtApduError('apdu_trailing', `${bytes.length - end} bytes after the APDU`);
  return { cls: bytes[0] ?? 0, instr: bytes[1] ?? 0, data: Buffer.from(bytes.subarray(h.header, end)) };
}

/**
 * Splits a raw byte stream (ZVT over TCP: no framing, no CRC) into APDUs by their length fields. Memory is
 * bounded by one APDU (65,540 bytes). A TCP stream has no resynchronisation point: garbage yields garbage APDUs,
 * which the protocol layer must reject.
 */
export class ApduStreamDecoder {
  #buf: Buffer = Buffer.alloc(0);

  get pending(): number {
    return this.#buf.length;
  }

  reset(): void {
    this.#buf = Buffer.alloc(0);
  }

  push(chunk: Uint8Array): Buffer[] {
    this.#buf = this.#buf.length === 0 ? Buffer.from(chunk) : Buffer.concat([this.#buf, chunk]);
    const out: Buffer[] = [];
    for (;;) {
      const h = apduHeader(this.#buf);
      if (!h || this.#buf.length < h.header + h.length) break;
      const end = h.header + h.length;
      out.push(Buffer.from(this.#buf.subarray(0, end)));
      this.#buf = this.#buf.subarray(end);
    }
    return out;
  }
}

function isByte(n: number): boolean {
  return Number.isInteger(n) && n >= 0 && n <= 0xff;
}

// ---------------------------------------------------------------------------------------------- BCD

/** Packs decimal digits two per byte (an odd count gets a leading 0). */
export function bcdEncode(digits: string, bytes?: number): Buffer {
  if (!/^\d*$/.test(digits)) throw new ZvtApduError('bad_argument', 'BCD input must be decimal digits');
  let d = digits.length % 2 ? `0${digits}` : digits;
  if (bytes !== undefined) {
    if (d.length > bytes * 2) throw new ZvtApduError('bad_argument', `more than ${bytes * 2} BCD digits`);
    d = d.padStart(bytes * 2, '0');
  }
  return Buffer.from(d, 'hex');
}

/** Unpacks BCD to digits; throws `bad_bcd` on a nibble above 9. */
export function bcdDecode(buf: Uint8Array): string {
  let s = '';
  for (const b of buf) {
    const hi = b >>> 4;
    const lo = b & 0x0f;
    if (hi > 9 || lo > 9) throw new ZvtApduError('bad_bcd', 'BCD nibble above 9');
    s += String(hi) + String(lo);
  }
  return s;
}

// ---------------------------------------------------------------------------------------------- BMPs

/** fixed length in bytes, or a variable format. Source: mathiasfrey/ecrterm packets/bitmaps.py. */
type BmpFormat = number | 'LL' | 'LLL' | 'TLV';

const BMP_FORMATS = new Map<number, BmpFormat>([
  [0x01, 1], // timeout
  [0x02, 1], // max. status infos
  [0x03, 1], // service byte
  [0x04, 6], // amount, BCD
  [0x05, 1], // pump no.
  [0x06, 'TLV'], // TLV container
  [0x0b, 3], // trace number, BCD
  [0x0c, 3], // time HHMMSS, BCD
  [0x0d, 2], // date MMDD, BCD
  [0x0e, 2], // expiry YYMM, BCD
  [0x17, 2], // card sequence number
  [0x19, 1], // status byte / payment type / card type
  [0x22, 'LL'], // PAN, BCD, 'E' = masked digit
  [0x23, 'LL'], // track 2
  [0x24, 'LLL'], // track 3
  [0x27, 1], // result code
  [0x29, 4], // TID, BCD
  [0x2a, 15], // VU number, ASCII
  [0x2d, 'LL'], // track 1
  [0x2e, 'LLL'], // synchronous chip data
  [0x37, 3], // original trace number
  [0x3a, 2], // CVV
  [0x3b, 8], // AID
  [0x3c, 'LLL'], // additional data / text
  [0x3d, 3], // password
  [0x49, 2], // currency code, BCD
  [0x60, 'LLL'], // individual totals
  [0x87, 2], // receipt number
  [0x88, 3], // turnover record number
  [0x8a, 1], // card type (ZVT)
  [0x8b, 'LL'], // card name
  [0x8c, 1], // card type id of the network operator
  [0x92, 'LLL'],
  [0x9a, 'LLL'],
  [0xa0, 1], // result code AS
  [0xa7, 'LL'],
  [0xaa, 3], // date YYMMDD
  [0xaf, 'LLL'],
  [0xba, 5],
  [0xd0, 1],
  [0xd1, 'LL'],
  [0xd2, 1],
  [0xd3, 1],
  [0xe0, 1],
  [0xe1, 'LL'],
  [0xe2, 'LL'],
  [0xe3, 'LL'],
  [0xe4, 'LL'],
  [0xe5, 'LL'],
  [0xe6, 'LL'],
  [0xe7, 'LL'],
  [0xe8, 'LL'],
  [0xe9, 1],
  [0xea, 1],
  [0xeb, 8],
  [0xf0, 1], // display duration (s)
  [0xf1, 'LL'], // display text lines 1..8
  [0xf2, 'LL'],
  [0xf3, 'LL'],
  [0xf4, 'LL'],
  [0xf5, 'LL'],
  [0xf6, 'LL'],
  [0xf7, 'LL'],
  [0xf8, 'LL'],
  [0xf9, 1], // beeps
  [0xfa, 1],
  [0xfb, 1],
  [0xfc, 1],
]);

export interface Bmp {
  id: number;
  value: Buffer;
}

/** Parses a sequence of BMPs. Throws ZvtApduError (only); messages name BMP ids and sizes, never values. */
export function parseBmps(data: Uint8Array): Bmp[] {
  const out: Bmp[] = [];
  let i = 0;
  while (i < data.length) {
    const id = data[i] ?? 0;
    const fmt = BMP_FORMATS.get(id);
    if (fmt === undefined) throw new ZvtApduError('bmp_unknown', `unknown BMP 0x${hex2(id)} at offset ${i}`);
    i++;
    let len: number;
    if (typeof fmt === 'number') {
      len = fmt;
    } else if (fmt === 'TLV') {
      // BER length: 0..0x7F, or 0x81 nn, or 0x82 nn nn (big-endian)
      const l0 = data[i];
      if (l0 === undefined) throw new ZvtApduError('bmp_truncated', 'TLV container length missing');
      if (l0 < 0x80) {
        len = l0;
        i += 1;
      } else if (l0 === 0x81 && i + 1 < data.length) {
        len = data[i + 1] ?? 0;
        i += 2;
      } else if (l0 === 0x82 && i + 2 < data.length) {
        len = ((data[i + 1] ?? 0) << 8) | (data[i + 2] ?? 0);
        i += 3;
      } else {
        throw new ZvtApduError('bmp_bad_length', 'bad TLV container length');
      }
    } else {
      const digits = fmt === 'LL' ? 2 : 3;
      if (i + digits > data.length) {
        throw new ZvtApduError('bmp_truncated', `BMP 0x${hex2(id)} length field truncated`);
      }
      len = 0;
      for (let k = 0; k < digits; k++) {
        const b = data[i + k] ?? 0;
        if (b >>> 4 !== 0x0f || (b & 0x0f) > 9) {
          throw new ZvtApduError('bmp_bad_length', `BMP 0x${hex2(id)} length digit is not 0xF0..0xF9`);
        }
        len = len * 10 + (b & 0x0f);
      }
      i += digits;
    }
    if (i + len > data.length) {
      throw new ZvtApduError(
        'bmp_truncated',
        `BMP 0x${hex2(id)} needs ${len} bytes, ${data.length - i} left`,
      );
    }
    out.push({ id, value: Buffer.from(data.subarray(i, i + len)) });
    i += len;
  }
  return out;
}

/** Encodes one BMP (fixed length checked; LL/LLL length prefix added; TLV given its BER length). */
export function encodeBmp(id: number, value: Uint8Array): Buffer {
  const fmt = BMP_FORMATS.get(id);
  if (fmt === undefined) throw new ZvtApduError('bmp_unknown', `unknown BMP 0x${hex2(id)}`);
  if (typeof fmt === 'number') {
    if (value.length !== fmt) throw new ZvtApduError('bad_argument', `BMP 0x${hex2(id)} takes ${fmt} bytes`);
    return Buffer.concat([Buffer.of(id), value]);
  }
  if (fmt === 'TLV') {
    const n = value.length;
    const len = n < 0x80 ? [n] : n < 0x100 ? [0x81, n] : [0x82, n >>> 8, n & 0xff];
    return Buffer.concat([Buffer.of(id, ...len), value]);
  }
  const digits = fmt === 'LL' ? 2 : 3;
  if (value.length >= 10 ** digits)
    throw new ZvtApduError('bad_argument', `BMP 0x${hex2(id)} value too long`);
  const d = String(value.length).padStart(digits, '0');
  return Buffer.concat([Buffer.of(id, ...[...d].map((c) => 0xf0 | Number(c))), value]);
}

// ---------------------------------------------------------------------------------------------- commands

export const CLS = { ECR: 0x06, STATUS: 0x05, PT: 0x04, ACK: 0x80, NACK: 0x84 } as const;
export const INSTR = {
  REGISTRATION: 0x00, // 06 00
  STATUS_ENQUIRY: 0x01, // 05 01
  COMPLETION: 0x0f, // 06 0F (PT -> ECR)
  ABORT_PT: 0x1e, // 06 1E (PT -> ECR)
  ABORT_ECR: 0xb0, // 06 B0 (ECR -> PT)
  READ_CARD: 0xc0, // 06 C0
  DISPLAY_TEXT: 0xe0, // 06 E0
  STATUS_INFO: 0x0f, // 04 0F
  INTERMEDIATE: 0xff, // 04 FF
} as const;

/** ECR's (and PT's) positive acknowledgement 80 00 00. */
export const ACK_APDU: Buffer = Buffer.of(0x80, 0x00, 0x00);

export interface RegistrationParams {
  /** 6 decimal digits, sent as 3 bytes BCD (default "000000"). */
  password?: string;
  /** Config byte (default 0xBA: ecrterm's tutorial value, ECR prints receipts, intermediate status on). */
  configByte?: number;
  /** ISO 4217 numeric currency code (default 978, EUR), sent as 2 bytes BCD. */
  currency?: number;
  /** Optional service byte (BMP 03). */
  serviceByte?: number;
}

function password(p = '000000'): Buffer {
  if (!/^\d{6}$/.test(p)) throw new ZvtApduError('bad_argument', 'password must be 6 decimal digits');
  return bcdEncode(p, 3);
}

export function registrationApdu(params: RegistrationParams = {}): Buffer {
  const config = params.configByte ?? 0xba;
  const currency = params.currency ?? 978;
  if (!isByte(config)) throw new ZvtApduError('bad_argument', 'config byte must be a byte');
  if (!Number.isInteger(currency) || currency < 0 || currency > 999) {
    throw new ZvtApduError('bad_argument', 'currency must be an ISO 4217 numeric code (0..999)');
  }
  const parts = [password(params.password), Buffer.of(config), bcdEncode(String(currency), 2)];
  if (params.serviceByte !== undefined) parts.push(encodeBmp(0x03, Buffer.of(params.serviceByte & 0xff)));
  return encodeApdu({ cls: CLS.ECR, instr: INSTR.REGISTRATION, data: Buffer.concat(parts) });
}

export function statusEnquiryApdu(pw?: string): Buffer {
  return encodeApdu({ cls: CLS.STATUS, instr: INSTR.STATUS_ENQUIRY, data: password(pw) });
}

/** Read Card: `<timeout>` in seconds, one binary byte (ecrterm ReadCard). */
export function readCardApdu(timeoutSec = 30): Buffer {
  if (!isByte(timeoutSec)) throw new ZvtApduError('bad_argument', 'read card timeout must be 0..255 s');
  return encodeApdu({ cls: CLS.ECR, instr: INSTR.READ_CARD, data: Buffer.of(timeoutSec) });
}

/** Display Text: [F0 duration] F1..F8 lines (LLVAR, 7-bit text). */
export function displayTextApdu(lines: readonly string[], durationSec?: number): Buffer {
  if (lines.length < 1 || lines.length > 8)
    throw new ZvtApduError('bad_argument', 'display text takes 1..8 lines');
  const parts: Buffer[] = [];
  if (durationSec !== undefined) {
    if (!isByte(durationSec)) throw new ZvtApduError('bad_argument', 'display duration must be 0..255 s');
    parts.push(encodeBmp(0xf0, Buffer.of(durationSec)));
  }
  lines.forEach((line, k) => {
    if (!/^[\x20-\x7e]*$/.test(line) || line.length > 99) {
      throw new ZvtApduError('bad_argument', `display line ${k + 1}: printable ASCII, at most 99 chars`);
    }
    parts.push(encodeBmp(0xf1 + k, Buffer.from(line, 'latin1')));
  });
  return encodeApdu({ cls: CLS.ECR, instr: INSTR.DISPLAY_TEXT, data: Buffer.concat(parts) });
}

export function abortApdu(): Buffer {
  return encodeApdu({ cls: CLS.ECR, instr: INSTR.ABORT_ECR, data: Buffer.alloc(0) });
}

// ---------------------------------------------------------------------------------------------- PT messages

/** Card data as exposed: never the full PAN. */
export interface CardInfo {
  /** First 6 and last 4 digits, the rest `*` (contract/card.ts maskPan); digits masked by the PT stay `*`. */
  maskedPan?: string;
  /** "YYMM" */
  expiry?: string;
  cardType?: number;
  cardName?: string;
}

export interface StatusInfoFields extends CardInfo {
  resultCode?: number;
  /** minor units */
  amount?: number;
  currency?: number;
  traceNumber?: string;
  terminalId?: string;
  time?: string;
  date?: string;
  additionalText?: string;
  /** BMP ids present (values other than those above are not exposed). */
  bmps: number[];
}

export type PtMessage =
  | { kind: 'ack' }
  | { kind: 'nack'; code: number }
  | { kind: 'intermediate'; status: number; timeoutSec?: number }
  | { kind: 'status_info'; fields: StatusInfoFields; parseError?: ZvtApduErrorCode }
  | { kind: 'completion'; data: Buffer }
  | { kind: 'abort'; resultCode: number }
  | { kind: 'other'; cls: number; instr: number };

/** Classifies a decoded APDU from the terminal. Never throws. */
export function parsePtMessage(apdu: Apdu): PtMessage {
  const { cls, instr, data } = apdu;
  if (cls === CLS.ACK && instr === 0x00) return { kind: 'ack' };
  if (cls === CLS.NACK) return instr === 0x00 ? { kind: 'ack' } : { kind: 'nack', code: instr };
  if (cls === CLS.PT && instr === INSTR.INTERMEDIATE) {
    const status = data[0];
    if (status === undefined) return { kind: 'intermediate', status: 0xff };
    const timeout = data[1];
    return timeout === undefined
      ? { kind: 'intermediate', status }
      : { kind: 'intermediate', status, timeoutSec: timeout };
  }
  if (cls === CLS.PT && instr === INSTR.STATUS_INFO) {
    try {
      return { kind: 'status_info', fields: statusFields(parseBmps(data)) };
    } catch (err) {
      const code = err instanceof ZvtApduError ? err.code : 'bmp_truncated';
      return { kind: 'status_info', fields: { bmps: [] }, parseError: code };
    }
  }
  if (cls === CLS.ECR && instr === INSTR.COMPLETION) return { kind: 'completion', data };
  if (cls === CLS.ECR && instr === INSTR.ABORT_PT) return { kind: 'abort', resultCode: data[0] ?? 0xff };
  return { kind: 'other', cls, instr };
}

/** PAN nibbles: digits, 'E' = digit masked by the PT, 'F' = padding. Returns the masked form only. */
function maskedPanFromBcd(value: Uint8Array): string | undefined {
  let pan = '';
  for (const b of value) {
    for (const n of [b >>> 4, b & 0x0f]) {
      if (n <= 9) pan += String(n);
      else if (n === 0x0e) pan += '*';
      else if (n === 0x0f) continue;
      else return undefined;
    }
  }
  if (pan.length === 0) return undefined;
  return maskPan(pan);
}

/** The object without its undefined properties (so JSON and deep equality stay clean). */
function compact<T extends object>(o: T): T {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as T;
}

function safeBcd(v: Uint8Array): string | undefined {
  try {
    return bcdDecode(v);
  } catch {
    return undefined;
  }
}

function statusFields(bmps: Bmp[]): StatusInfoFields {
  const f: StatusInfoFields = { bmps: bmps.map((b) => b.id) };
  for (const { id, value } of bmps) {
    switch (id) {
      case 0x27:
        f.resultCode = value[0];
        break;
      case 0x04: {
        const d = safeBcd(value);
        if (d !== undefined) f.amount = Number(d);
        break;
      }
      case 0x49: {
        const d = safeBcd(value);
        if (d !== undefined) f.currency = Number(d);
        break;
      }
      case 0x0b:
        f.traceNumber = safeBcd(value);
        break;
      case 0x29:
        f.terminalId = safeBcd(value);
        break;
      case 0x0c:
        f.time = safeBcd(value);
        break;
      case 0x0d:
        f.date = safeBcd(value);
        break;
      case 0x0e:
        f.expiry = safeBcd(value);
        break;
      case 0x22:
        f.maskedPan = maskedPanFromBcd(value);
        break;
      case 0x8a:
        f.cardType = value[0];
        break;
      case 0x8b:
        f.cardName = value.toString('latin1').replace(/[^\x20-\x7e]/g, '?');
        break;
      case 0x3c:
        f.additionalText = value.toString('latin1').replace(/[^\x20-\x7e]/g, '?');
        break;
      // Track data (0x23, 0x24, 0x2D) and everything else: present in `bmps`, value never exposed.
    }
  }
  return compact(f);
}

export interface CompletionInfo {
  terminalStatus?: number;
  terminalId?: string;
  currency?: number;
  softwareVersion?: string;
}

/**
 * Completion data: BMPs `[19 status][29 TID][49 CC][06 TLV]` (registration), or the status-enquiry form
 * `<sw-version LLLVAR> <terminal-status>` (ecrterm base_packets.py Completion), or a lone terminal-status
 * byte. Never throws: unparseable data gives `{}`.
 */
export function parseCompletion(data: Buffer): CompletionInfo {
  if (data.length === 0) return {};
  if (data.length === 1) return { terminalStatus: data[0] };
  // LLLVAR software version + status byte
  const l = data.subarray(0, 3);
  if (l.every((b) => b >>> 4 === 0x0f && (b & 0x0f) <= 9)) {
    const len = ((l[0] ?? 0) & 0x0f) * 100 + ((l[1] ?? 0) & 0x0f) * 10 + ((l[2] ?? 0) & 0x0f);
    if (data.length === 3 + len + 1) {
      return {
        softwareVersion: data
          .subarray(3, 3 + len)
          .toString('latin1')
          .replace(/[^\x20-\x7e]/g, '?'),
        terminalStatus: data[3 + len],
      };
    }
  }
  try {
    const out: CompletionInfo = {};
    for (const { id, value } of parseBmps(data)) {
      if (id === 0x19) out.terminalStatus = value[0];
      else if (id === 0x29) out.terminalId = safeBcd(value);
      else if (id === 0x49) {
        const d = safeBcd(value);
        if (d !== undefined) out.currency = Number(d);
      }
    }
    return compact(out);
  } catch {
    return {};
  }
}
