import { describe, expect, it } from 'vitest';
import {
  MAGTEK_REPORT_SIZE,
  buildMagtekReport,
  decodeMagtekCard,
  parseMagtekReport,
} from '../../../drivers/cards/magtek-hid.ts';
import { decodeTrack } from '../../../drivers/cards/magstripe.ts';
import { PAN, T1, T2, leaksPan, summary } from './fixtures.ts';

describe('MagTek vendor report', () => {
  it('is 337 bytes: 3 status, 3 lengths, encode type, 3 x 110 track bytes', () => {
    expect(MAGTEK_REPORT_SIZE).toBe(337);
    const r = buildMagtekReport([T1, T2, '']);
    expect(r[3]).toBe(T1.length);
    expect(r[4]).toBe(T2.length);
    expect(r[5]).toBe(0);
    expect(String.fromCharCode(...r.subarray(117, 117 + T2.length))).toBe(T2);
  });

  it('parses status, lengths, encode type and only the given bytes of each track', () => {
    const raw = buildMagtekReport([T1, T2, ''], { encodeType: 0 });
    raw.fill(0x41, 7 + T1.length, 117); // garbage beyond the length must be ignored
    const p = parseMagtekReport(raw);
    expect(p.ok).toBe(true);
    if (!p.ok) return;
    expect(p.value.encodeType).toBe('iso_aba');
    expect(leaksPan(p)).toBe(false);
    expect(p.value.tracks.map((t) => [t.track, t.decodedOk, t.data.reveal((x) => x)])).toEqual([
      [1, true, T1],
      [2, true, T2],
      [3, true, ''],
    ]);
    const types = [0, 1, 2, 3, 4, 5, 6, 9].map((n) => {
      const x = parseMagtekReport(buildMagtekReport(['', '', ''], { encodeType: n }));
      return x.ok ? x.value.encodeType : x.error.code;
    });
    expect(types).toEqual(['iso_aba', 'aamva', 'cadl', 'blank', 'other', 'undetermined', 'none', 'unknown']);
  });

  it('decodes the DESIGN.md vectors to the same reads as the text decoder', () => {
    const d = decodeMagtekCard(buildMagtekReport([T1, T2, '']));
    expect(d.ok).toBe(true);
    if (!d.ok) return;
    const direct = [decodeTrack(T1), decodeTrack(T2)].map((r) => (r.ok ? summary(r.value) : r.error.code));
    expect(d.value.cards.map(summary)).toEqual(direct);
    expect(d.value.cards[0]!.withPan((p) => p)).toBe(PAN);
    expect(leaksPan(d)).toBe(false);
  });

  it('accepts a leading report id byte when told', () => {
    const raw = buildMagtekReport(['', T2, '']);
    const withId = Uint8Array.of(0, ...raw);
    const d = decodeMagtekCard(withId, { reportId: true });
    expect(d.ok && d.value.cards[0]!.track).toBe(2);
  });

  it('keeps a good track when the reader flags the other', () => {
    const d = decodeMagtekCard(buildMagtekReport([T1, T2, ''], { status: [1, 0, 0] }));
    expect(d.ok).toBe(true);
    if (d.ok) {
      expect(d.value.cards.map((c) => c.track)).toEqual([2]);
      expect(d.value.trackErrors.map((e) => [e.track, e.error.code])).toEqual([[1, 'track_error']]);
    }
  });

  const err = (r: { ok: boolean; error?: { code: string } }) => (r.ok ? 'ok' : r.error?.code);

  it('coded errors: truncated, bad_length, bad_char, track_error, track_mismatch, decoder errors', () => {
    const full = buildMagtekReport([T1, T2, '']);
    expect(err(parseMagtekReport(full.subarray(0, 336)))).toBe('truncated');
    expect(err(parseMagtekReport(new Uint8Array(0)))).toBe('truncated');
    expect(err(parseMagtekReport(full, { reportId: true }))).toBe('truncated');
    const long = Uint8Array.from(full);
    long[4] = 111;
    expect(err(parseMagtekReport(long))).toBe('bad_length');
    const ctl = Uint8Array.from(full);
    ctl[117 + 3] = 0x07;
    expect(err(parseMagtekReport(ctl))).toBe('bad_char');
    expect(err(decodeMagtekCard(buildMagtekReport([T1, T2, ''], { status: [1, 1, 0] })))).toBe('track_error');
    expect(err(decodeMagtekCard(buildMagtekReport(['', '', ''], { encodeType: 3 })))).toBe('track_error');
    expect(err(decodeMagtekCard(buildMagtekReport([T1, ';4111111111111111=1604201?', ''])))).toBe(
      'track_mismatch',
    );
    expect(err(decodeMagtekCard(buildMagtekReport(['', T2.replace('5177', '5178'), ''])))).toBe('bad_luhn');
    // Track 2 data in the track 1 field: a reader with swapped heads or a forged report.
    const swapped = decodeMagtekCard(buildMagtekReport([T2, '', '']));
    expect(err(swapped)).toBe('bad_format');
  });
});
