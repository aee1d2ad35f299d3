// MagTek-style USB HID swipe reader in vendor mode (usage page 0xFF00): one input report per swipe.
//
// Layout, as used here (sources consulted with the search tool):
//   - MagTek USB Insertion Reader user manual, section 4 "USB Communications (HID)", p. 17
//     (https://azmanual.top/manuals/413755/magtek-usb-insertion-reader.html?page=25): track 1/2/3
//     data length bytes ("zero if there was no data on the track or if there was an error decoding"),
//     card encode type values 0..6, "the length of each track data field is fixed at 110 bytes, but
//     the length of valid data in each field is determined by the track data length field".
//   - Micah Carrick's PyUSB reader for the MagTek USB HID Swipe Reader (VID 0x0801, PID 0x0002),
//     http://www.micahcarrick.com/credit-card-reader-pyusb.html and gists nv1t/2948627,
//     rechner/61577affb285afa9faff2acbdfbf79fb: DATA_SIZE = 337 bytes per swipe.
//
//   offset   size  field
//   0..2     3     track 1, 2, 3 decode status (bit 0 set: the track had a decode error)
//   3..5     3     track 1, 2, 3 data length (0..110)
//   6        1     card encode type
//   7        110   track 1 data (ASCII, with sentinels)
//   117      110   track 2 data
//   227      110   track 3 data
//   = 337 bytes. Some HID stacks (node-hid on Windows) put a report id byte in front: pass
//   { reportId: true } to skip it.
import { CardError, fail, ok, type Result } from './errors.ts';
import { SecretText } from './secret-text.ts';
import { decodeTrack, type CardRead, type DecodeOptions } from './magstripe.ts';

export const MAGTEK_USAGE_PAGE = 0xff00;
export const MAGTEK_TRACK_FIELD = 110;
export const MAGTEK_REPORT_SIZE = 7 + 3 * MAGTEK_TRACK_FIELD;

export type MagtekEncodeType =
  'iso_aba' | 'aamva' | 'cadl' | 'blank' | 'other' | 'undetermined' | 'none' | 'unknown';
const ENCODE_TYPES: readonly MagtekEncodeType[] = [
  'iso_aba',
  'aamva',
  'cadl',
  'blank',
  'other',
  'undetermined',
  'none',
];

export interface MagtekTrack {
  track: 1 | 2 | 3;
  /** The raw decode status byte. */
  status: number;
  /** False when bit 0 of the status (decode error) is set. */
  decodedOk: boolean;
  /** ASCII track text, only the bytes the length field gives (empty for an empty track). */
  data: SecretText;
}

export interface MagtekReport {
  encodeType: MagtekEncodeType;
  encodeTypeRaw: number;
  tracks: [MagtekTrack, MagtekTrack, MagtekTrack];
}

export function parseMagtekReport(
  bytes: ArrayLike<number>,
  opts: { reportId?: boolean } = {},
): Result<MagtekReport> {
  const base = opts.reportId ? 1 : 0;
  const need = base + MAGTEK_REPORT_SIZE;
  if (bytes.length < need) return fail('truncated', `MagTek report is ${bytes.length} bytes, needs ${need}`);
  const at = (i: number): number => bytes[base + i] ?? 0;
  const tracks: MagtekTrack[] = [];
  for (let t = 0; t < 3; t++) {
    const status = at(t);
    const len = at(3 + t);
    if (len > MAGTEK_TRACK_FIELD)
      return fail('bad_length', `MagTek track ${t + 1} length ${len} is over ${MAGTEK_TRACK_FIELD}`);
    let data = '';
    const start = 7 + t * MAGTEK_TRACK_FIELD;
    for (let i = 0; i < len; i++) {
      const b = at(start + i);
      if (b < 0x20 || b > 0x7e)
        return fail('bad_char', `MagTek track ${t + 1} byte ${i + 1} is not printable ASCII`);
      data += String.fromCharCode(b);
    }
    tracks.push({
      track: (t + 1) as 1 | 2 | 3,
      status,
      decodedOk: (status & 1) === 0,
      data: new SecretText(data),
    });
  }
  const raw = at(6);
  return ok({
    encodeType: ENCODE_TYPES[raw] ?? 'unknown',
    encodeTypeRaw: raw,
    tracks: tracks as [MagtekTrack, MagtekTrack, MagtekTrack],
  });
}

export interface MagtekCard {
  report: MagtekReport;
  /** Decoded financial tracks (1 and 2) that the reader read without error. */
  cards: CardRead[];
  /** Per-track problems: reader-flagged errors (`track_error`) and decoder errors. */
  trackErrors: { track: 1 | 2; error: CardError }[];
}

/** Parses the report and decodes tracks 1 and 2 as ISO 7813; fails when neither yields a card. */
export function decodeMagtekCard(
  bytes: ArrayLike<number>,
  opts: DecodeOptions & { reportId?: boolean } = {},
): Result<MagtekCard> {
  const r = parseMagtekReport(bytes, opts);
  if (!r.ok) return r;
  const cards: CardRead[] = [];
  const trackErrors: MagtekCard['trackErrors'] = [];
  for (const t of r.value.tracks.slice(0, 2)) {
    const track = t.track as 1 | 2;
    if (!t.decodedOk) {
      trackErrors.push({
        track,
        error: new CardError('track_error', `reader reports a decode error on track ${track}`),
      });
      continue;
    }
    if (!t.data.length) continue;
    const d = t.data.reveal((text) => decodeTrack(text, opts));
    if (!d.ok) trackErrors.push({ track, error: d.error });
    else if (d.value.track !== track)
      trackErrors.push({
        track,
        error: new CardError('bad_format', `track ${track} field holds track ${d.value.track} data`),
      });
    else cards.push(d.value);
  }
  const [a, b] = cards;
  if (a && b && (!a.samePanAs(b) || a.expiry.year !== b.expiry.year || a.expiry.month !== b.expiry.month))
    return fail('track_mismatch', 'tracks of one swipe disagree on PAN or expiry');
  if (!a) {
    const first = trackErrors[0];
    return first
      ? { ok: false, error: first.error }
      : fail('track_error', 'no financial track in the report');
  }
  return ok({ report: r.value, cards, trackErrors });
}

/** Builds a report (for simulators and tests). Track texts must be ASCII, at most 110 bytes. */
export function buildMagtekReport(
  tracks: [string, string, string],
  opts: { status?: [number, number, number]; encodeType?: number } = {},
): Uint8Array {
  const out = new Uint8Array(MAGTEK_REPORT_SIZE);
  tracks.forEach((text, t) => {
    const bytes = Buffer.from(text, 'latin1').subarray(0, MAGTEK_TRACK_FIELD);
    out[t] = opts.status?.[t] ?? 0;
    out[3 + t] = bytes.length;
    out.set(bytes, 7 + t * MAGTEK_TRACK_FIELD);
  });
  out[6] = opts.encodeType ?? 0;
  return out;
}
