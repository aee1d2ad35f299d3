// No rendering of a CardRead, a decoder result or an error may contain a test PAN: JSON.stringify,
// String(), util.inspect (as console.log uses it) and console.log itself.
import { Console } from 'node:console';
import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { CardError } from '../../../drivers/cards/errors.ts';
import { KeyboardWedgeAssembler } from '../../../drivers/cards/hid-keyboard.ts';
import { buildMagtekReport, decodeMagtekCard, parseMagtekReport } from '../../../drivers/cards/magtek-hid.ts';
import { CardRead, decodeSwipe, decodeTrack, splitSwipe } from '../../../drivers/cards/magstripe.ts';
import { OTHER_PAN, PAN, T1, T2, TEST_PANS, hidReports, renderings, withLrc } from './fixtures.ts';

const T2_OTHER = `;${OTHER_PAN}=2912101123?`;
const T1_OTHER = `%B${OTHER_PAN}^DOE/JANE^2912101123?`;
const inputs = [
  T1,
  T2,
  T1_OTHER,
  T2_OTHER,
  withLrc(1, T1),
  withLrc(2, T2),
  T1 + T2,
  `${T1_OTHER}\n${T2_OTHER}`,
];

/** Every CardRead, result and error the decoders make from the vectors and their corruptions. */
function everything(): unknown[] {
  const out: unknown[] = [];
  for (const s of inputs) {
    out.push(decodeTrack(s), decodeTrack(s, { requireLrc: true }), decodeSwipe(s));
    out.push(decodeTrack(s, { now: new Date('2030-01-01T00:00:00Z') }));
    for (let i = 0; i < s.length; i++)
      for (const c of ['9', '=', '^', '?', 'A', ':'])
        out.push(
          decodeTrack(s.slice(0, i) + c + s.slice(i + 1)),
          decodeSwipe(s.slice(0, i) + s.slice(i + 1)),
        );
  }
  const report = buildMagtekReport([T1, T2, '']);
  out.push(parseMagtekReport(report), decodeMagtekCard(report));
  out.push(decodeMagtekCard(buildMagtekReport([T1, T2_OTHER, ''])));
  const a = new KeyboardWedgeAssembler({ clock: () => 0 });
  for (const r of hidReports(`${T1}${T2}\n`)) out.push(a.pushReport(r));
  return out;
}

describe('no PAN in any rendering', () => {
  const all = everything();
  const cards = all.flatMap((r) => {
    const v = (r as { ok: boolean; value?: unknown }).value;
    return v instanceof CardRead ? [v] : [];
  });
  const errors = all.flatMap((r) => {
    const e = (r as { ok: boolean; error?: unknown }).error;
    return e instanceof CardError ? [e] : [];
  });

  it('covers cards and errors of many kinds', () => {
    expect(cards.length).toBeGreaterThan(20);
    expect(new Set(errors.map((e) => e.code)).size).toBeGreaterThan(8);
    // The test is live: the PAN is there to be found, just not shown.
    expect(cards.some((c) => c.withPan((p) => TEST_PANS.includes(p)))).toBe(true);
  });

  it('JSON.stringify, String() and util.inspect of every result, card and error', () => {
    for (const v of [...all, ...cards, ...errors]) {
      for (const s of renderings(v)) for (const p of TEST_PANS) expect(s).not.toContain(p);
    }
  });

  it('a CardRead has no enumerable, own or spreadable PAN', () => {
    const c = cards[0]!;
    expect(JSON.stringify({ ...c })).not.toContain(PAN.slice(6, 12));
    expect(Object.getOwnPropertyNames(c).join()).not.toMatch(/pan$/i);
    expect(String(c)).toMatch(/^CardRead\(track [12], \d{6}\*+\d{4}\)$/);
  });

  it('console.log of cards, errors and results', () => {
    let text = '';
    const sink = new Writable({
      write(chunk: Buffer, _enc, cb) {
        text += chunk.toString();
        cb();
      },
    });
    const con = new Console({ stdout: sink, stderr: sink });
    for (const v of [...all.slice(0, 200), ...cards, ...errors.slice(0, 200)]) {
      con.log(v);
      con.log('%s %j', v, v);
      con.error(v);
    }
    expect(text.length).toBeGreaterThan(1000);
    for (const p of TEST_PANS) expect(text).not.toContain(p);
  });

  it('splitSwipe is a plain string helper: its output is raw track text (documented, not logged)', () => {
    expect(splitSwipe(T1 + T2).join('')).toContain(PAN);
  });
});
