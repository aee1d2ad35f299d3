// VeriFone PINpad 1000SE-style message layer: the data inside STX | data | ETX | LRC packets (framing lives in
// ../framing/stx-etx.ts). No I/O. Encoders validate their arguments and throw a coded PinPadProtocolError;
// decoders take any bytes and either return a message or throw a coded PinPadProtocolError, nothing else.
// Error messages never contain packet data (a request carries the account number).
//
// Sources (public, read through the reference search; no VeriFone 1000SE guide itself was found):
//   [PP791]  Uniform Industrial Corp., "PIN Pad 791 Programmer's Manual (PCI POS-A)", UDN PM0103-U Rev. 06
//            (a 1000SE-compatible pad), https://www.manualshelf.com/manual/uniform-industrial/pp791/
//            user-s-manual-english/page-NNN.html — pages cited per message below.
//   [MX800]  VeriFone, "MX800 Series Programmer's Guide", chapter "IPP MS and DUKPT communications packets",
//            https://www.easymanua.ls/verifone/mx800-series/manual?p=NNN (also manualslib 1167571).
// Where they disagree (the DUKPT PIN response id: 71 in [PP791], 73 in [MX800]) both are decoded.

export const FS = 0x1c;
export const SUB = 0x1a;
const FS_CHAR = '\x1c';
const SUB_CHAR = '\x1a';

export type PinPadProtocolErrorCode = 'bad_request' | 'malformed' | 'unknown_message';

export class PinPadProtocolError extends Error {
  override readonly name = 'PinPadProtocolError';
  constructor(
    readonly code: PinPadProtocolErrorCode,
    message: string,
  ) {
    super(message);
  }
}

/** Display text: printable ASCII only (so no STX/ETX/FS/SUB can reach the wire). */
const PRINTABLE = /^[\x20-\x7e]*$/;

// ---------------------------------------------------------------------------------------------------------
// Host -> PIN pad
// ---------------------------------------------------------------------------------------------------------

/** Z2 Display String: `Z2 [SUB] text`, text 1..64 ASCII, SUB = clear screen first. [PP791] page-210. */
export interface DisplayMessage {
  type: 'display';
  text: string;
  clear: boolean;
}

/**
 * Z3 Display Line Prompts: `Z3 count [SUB] line1 FS line2 ... FS line7`, up to 7 lines, whole packet at most
 * 124 bytes. [PP791] page-213. (Z3 is documented only there.)
 */
export interface DisplayLinesMessage {
  type: 'displayLines';
  lines: string[];
  clear: boolean;
}

/**
 * Z62 PIN entry request with customised prompt, DUKPT variant:
 * `Z62.account FS minPIN(2) maxPIN(2) nullFlag(Y|N) prompt1 FS prompt2 FS procPrompt FS timeout(1..9)`.
 * Timeout is in units of 30 s (default 9 = 270 s). [PP791] page-250 (format), page-230 (field table of the
 * MK/SK variant, whose fields after the session key are the same).
 */
export interface PinEntryMessage {
  type: 'pinEntry';
  account: string;
  minPin: number;
  maxPin: number;
  allowNullPin: boolean;
  prompt1: string;
  prompt2: string;
  processingPrompt: string;
  /** 1..9 units of 30 s, or undefined when the optional field is absent. */
  timeoutUnits: number | undefined;
}

/** 72 PIN Entry Cancel: `72`. Idle pad answers ACK; a pad in PIN entry answers EOT. [PP791] page-207. */
export interface CancelMessage {
  type: 'cancel';
}

export type HostMessage = DisplayMessage | DisplayLinesMessage | PinEntryMessage | CancelMessage;

export const Z2_MAX_TEXT = 64;
export const Z3_MAX_LINES = 7;
/** Largest Z3 packet including STX, ETX and LRC. [PP791] page-213. */
export const Z3_MAX_PACKET = 124;
export const Z62_MAX_PROMPT = 16;
export const PAN_MIN = 8;
export const PAN_MAX = 19;
/** Seconds per unit of the Z60/Z62 timeout field. [PP791] page-248. */
export const PAD_TIMEOUT_UNIT_S = 30;

function bad(message: string): PinPadProtocolError {
  return new PinPadProtocolError('bad_request', message);
}

function checkText(what: string, text: unknown, min: number, max: number): string {
  if (typeof text !== 'string') throw bad(`${what} must be a string`);
  if (!PRINTABLE.test(text)) throw bad(`${what} may hold printable ASCII only`);
  if (text.length < min || text.length > max) throw bad(`${what} must be ${min} to ${max} characters`);
  return text;
}

function checkAccount(account: unknown): string {
  if (typeof account !== 'string' || !/^\d+$/.test(account)) throw bad('account must be digits');
  if (account.length < PAN_MIN || account.length > PAN_MAX) {
    throw bad(`account must be ${PAN_MIN} to ${PAN_MAX} digits`);
  }
  return account;
}

function checkPinLength(what: string, n: unknown): number {
  if (typeof n !== 'number' || !Number.isInteger(n) || n < 4 || n > 12) {
    throw bad(`${what} must be an integer 4 to 12`);
  }
  return n;
}

function ascii(s: string): Buffer {
  return Buffer.from(s, 'latin1');
}

/** Encodes a host message into packet data (pass the result to encodeStxEtx). */
export function encodeHostMessage(message: HostMessage): Buffer {
  switch (message.type) {
    case 'display': {
      const text = checkText('display text', message.text, 1, Z2_MAX_TEXT);
      return ascii(`Z2${message.clear ? SUB_CHAR : ''}${text}`);
    }
    case 'displayLines': {
      const lines = message.lines;
      if (!Array.isArray(lines) || lines.length < 1 || lines.length > Z3_MAX_LINES) {
        throw bad(`display lines must be 1 to ${Z3_MAX_LINES}`);
      }
      for (const line of lines) checkText('display line', line, 0, Z3_MAX_PACKET);
      const data = ascii(`Z3${lines.length}${message.clear ? SUB_CHAR : ''}${lines.join(FS_CHAR)}`);
      if (data.length + 3 > Z3_MAX_PACKET) throw bad(`display lines exceed ${Z3_MAX_PACKET} bytes`);
      return data;
    }
    case 'pinEntry': {
      const account = checkAccount(message.account);
      const min = checkPinLength('minPin', message.minPin);
      const max = checkPinLength('maxPin', message.maxPin);
      if (min > max) throw bad('minPin must not exceed maxPin');
      const p1 = checkText('prompt1', message.prompt1, 1, Z62_MAX_PROMPT);
      const p2 = checkText('prompt2', message.prompt2, 0, Z62_MAX_PROMPT);
      const p3 = checkText('processingPrompt', message.processingPrompt, 0, Z62_MAX_PROMPT);
      const t = message.timeoutUnits;
      if (t !== undefined && (!Number.isInteger(t) || t < 1 || t > 9))
        throw bad('timeoutUnits must be 1 to 9');
      const two = (n: number) => String(n).padStart(2, '0');
      const yn = message.allowNullPin ? 'Y' : 'N';
      const tail = t === undefined ? '' : `${FS_CHAR}${t}`;
      return ascii(
        `Z62.${account}${FS_CHAR}${two(min)}${two(max)}${yn}${p1}${FS_CHAR}${p2}${FS_CHAR}${p3}${tail}`,
      );
    }
    case 'cancel':
      return ascii('72');
  }
}

function malformed(message: string): PinPadProtocolError {
  return new PinPadProtocolError('malformed', message);
}

/** Decodes packet data sent by a host (the simulator's side). Throws only PinPadProtocolError. */
export function decodeHostMessage(data: Uint8Array): HostMessage {
  const s = Buffer.from(data).toString('latin1');
  if (s.startsWith('Z2')) {
    let rest = s.slice(2);
    const clear = rest.startsWith(SUB_CHAR);
    if (clear) rest = rest.slice(1);
    if (rest.length < 1 || rest.length > Z2_MAX_TEXT || !PRINTABLE.test(rest)) {
      throw malformed('Z2: text must be 1 to 64 printable characters');
    }
    return { type: 'display', text: rest, clear };
  }
  if (s.startsWith('Z3')) {
    const count = s.charCodeAt(2) - 0x30;
    if (!(count >= 1 && count <= Z3_MAX_LINES)) throw malformed('Z3: line count must be 1 to 7');
    let rest = s.slice(3);
    const clear = rest.startsWith(SUB_CHAR);
    if (clear) rest = rest.slice(1);
    const lines = rest.split(FS_CHAR);
    if (lines.length !== count) throw malformed('Z3: line count does not match the lines sent');
    if (!lines.every((l) => PRINTABLE.test(l))) throw malformed('Z3: lines must be printable characters');
    if (data.length + 3 > Z3_MAX_PACKET) throw malformed('Z3: packet too long');
    return { type: 'displayLines', lines, clear };
  }
  if (s.startsWith('Z62.')) return decodeZ62(s.slice(4));
  if (s === '72') return { type: 'cancel' };
  throw new PinPadProtocolError(
    'unknown_message',
    `unknown or unsupported host message (${data.length} bytes)`,
  );
}

function decodeZ62(body: string): PinEntryMessage {
  const fields = body.split(FS_CHAR);
  if (fields.length < 4 || fields.length > 5) throw malformed('Z62: wrong number of fields');
  const [account = '', second = '', prompt2 = '', processingPrompt = '', timeout] = fields;
  if (!/^\d{8,19}$/.test(account)) throw malformed('Z62: account must be 8 to 19 digits');
  const m = /^(\d\d)(\d\d)([YN])([\x20-\x7e]{1,16})$/.exec(second);
  if (!m) throw malformed('Z62: PIN lengths, null flag or prompt1 malformed');
  const minPin = Number(m[1]);
  const maxPin = Number(m[2]);
  const allowNullPin = m[3] === 'Y';
  const okLen = (n: number) => (n >= 4 && n <= 12) || (n === 0 && allowNullPin);
  if (!okLen(minPin) || !okLen(maxPin) || minPin > maxPin) throw malformed('Z62: PIN lengths out of range');
  for (const p of [prompt2, processingPrompt]) {
    if (p.length > Z62_MAX_PROMPT || !PRINTABLE.test(p)) throw malformed('Z62: prompt malformed');
  }
  let timeoutUnits: number | undefined;
  if (timeout !== undefined) {
    if (!/^[1-9]$/.test(timeout)) throw malformed('Z62: timeout must be 1 to 9');
    timeoutUnits = Number(timeout);
  }
  return {
    type: 'pinEntry',
    account,
    minPin,
    maxPin,
    allowNullPin,
    prompt1: m[4] ?? '',
    prompt2,
    processingPrompt,
    timeoutUnits,
  };
}

// ---------------------------------------------------------------------------------------------------------
// PIN pad -> host
// ---------------------------------------------------------------------------------------------------------

/** Which DUKPT PIN response layout: `73.00000 KSN block` [MX800] p=327, or `71 0 KSN block` [PP791] page-246. */
export type PinResponseId = '73' | '71';

/** An encrypted PIN block: KSN as 20 hex digits (leading Fs restored) and the 8-byte block as 16 hex digits. */
export interface PinBlockMessage {
  type: 'pinBlock';
  id: PinResponseId;
  ksn: string;
  pinBlock: string;
}

/** The error frame `71 code` / `73 code` (one character). [PP791] page-246 (71); 73 assumed alike. */
export interface PinErrorMessage {
  type: 'pinError';
  id: PinResponseId;
  code: string;
}

export type PadMessage = PinBlockMessage | PinErrorMessage;

/** The DUKPT error codes of message 71. [PP791] page-246. */
export const PIN_ERROR_MEANINGS: Readonly<Record<string, string>> = {
  '0': 'null account field',
  '2': 'account shorter than 8 digits',
  '3': 'account longer than 19 digits',
  '4': 'account holds a non-digit',
  '5': 'field missing or malformed',
  '6': 'timeout value error',
  '8': 'amount or prompt format error',
  A: 'no DUKPT key injected',
  B: 'flash read/write error',
  C: 'memory allocation error',
  F: 'DUKPT operation limit reached',
  G: 'file not found or authentication error',
};

const HEX16 = /^[0-9A-F]{16}$/i;
const KSN_HEX = /^[0-9A-F]{10,20}$/i;

/** KSN without its leading Fs (at least 10 digits kept), as [MX800] p=327 sends it. */
export function suppressKsn(ksn: string): string {
  let s = ksn.toUpperCase();
  while (s.length > 10 && s.startsWith('F')) s = s.slice(1);
  return s;
}

export function encodePadMessage(message: PadMessage): Buffer {
  if (message.type === 'pinError') {
    if (!/^[0-9A-Z]$/.test(message.code)) throw bad('error code must be one character 0-9 or A-Z');
    return ascii(`${message.id}${message.code}`);
  }
  const ksn = message.ksn.toUpperCase();
  const block = message.pinBlock.toUpperCase();
  if (!/^[0-9A-F]{20}$/.test(ksn)) throw bad('ksn must be 20 hex digits');
  if (!HEX16.test(block)) throw bad('pinBlock must be 16 hex digits');
  const prefix = message.id === '73' ? '73.00000' : '710';
  return ascii(`${prefix}${suppressKsn(ksn)}${block}`);
}

/** Decodes packet data sent by the PIN pad (the driver's side). Throws only PinPadProtocolError. */
export function decodePadMessage(data: Uint8Array): PadMessage {
  const s = Buffer.from(data).toString('latin1');
  const id = s.slice(0, 2);
  if (id !== '71' && id !== '73') {
    throw new PinPadProtocolError(
      'unknown_message',
      `unknown or unsupported PIN pad message (${data.length} bytes)`,
    );
  }
  if (s.length === 3) {
    const code = s.slice(2);
    if (!/^[0-9A-Z]$/.test(code)) throw malformed(`${id}: error code malformed`);
    return { type: 'pinError', id, code };
  }
  const prefix = id === '73' ? '73.00000' : '710';
  if (!s.startsWith(prefix)) throw malformed(`${id}: PIN block frame must start ${prefix}`);
  const rest = s.slice(prefix.length);
  const ksnPart = rest.slice(0, -16);
  const block = rest.slice(-16);
  if (rest.length < 26 || !KSN_HEX.test(ksnPart) || !HEX16.test(block)) {
    throw malformed(`${id}: KSN (10 to 20 hex digits) and PIN block (16 hex digits) expected`);
  }
  return {
    type: 'pinBlock',
    id,
    ksn: ksnPart.toUpperCase().padStart(20, 'F'),
    pinBlock: block.toUpperCase(),
  };
}

/** A short description of packet data for logs: message id and length only, never the contents. */
export function describePacket(data: Uint8Array): string {
  const s = Buffer.from(data.subarray(0, 3)).toString('latin1');
  const id = /^Z\d\d/.test(s) ? s : /^(Z\d|\d\d)/.exec(s)?.[0];
  return `${id ?? 'unknown'} (${data.length} bytes)`;
}
