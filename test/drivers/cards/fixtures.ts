// Shared vectors and helpers for the card-reader tests (not a test file itself).
import { inspect } from 'node:util';
import {
  CODE_TO_USAGE,
  MOD_LEFT_SHIFT,
  US_USAGE,
  type KeyEventLike,
} from '../../../drivers/cards/hid-keyboard.ts';
import { lrcChar, type CardRead } from '../../../drivers/cards/magstripe.ts';

// DESIGN.md "Test vectors worth having".
export const T1 = '%B5350290149345177^FATEHI/SUALEH^16042010000000000000000000000000000567001000?';
export const T2 = ';5350290149345177=16042010000056700100?';
import { TEST_PANS } from '../../fixtures/secrets.ts';

export { EXPIRED_TEST_PAN as PAN, VISA_PAN as OTHER_PAN, TEST_PANS } from '../../fixtures/secrets.ts';

export const withLrc = (track: 1 | 2, t: string): string => t + lrcChar(track, t);

/** Everything a test may want to compare, including the PAN (read through the accessor). */
export function summary(c: CardRead) {
  return {
    track: c.track,
    pan: c.withPan((p) => p),
    panMasked: c.panMasked,
    expiry: c.expiry,
    serviceCode: c.serviceCode.code,
    name: c.name?.full ?? null,
  };
}

/** All the ways a value can end up in a log. */
export function renderings(v: unknown): string[] {
  return [
    JSON.stringify(v) ?? '',
    String(v),
    `${inspect(v, { showHidden: true, depth: Infinity, getters: true })}`,
    inspect(v),
  ];
}

export function leaksPan(v: unknown): boolean {
  return renderings(v).some((s) => TEST_PANS.some((p) => s.includes(p)));
}

// Inverse of the US usage table: the key (and shift) a reader presses for a character.
const CHAR_TO_KEY = new Map<string, { usage: number; shift: boolean }>();
for (const [usage, [plain, shifted]] of US_USAGE) {
  if (!CHAR_TO_KEY.has(plain)) CHAR_TO_KEY.set(plain, { usage, shift: false });
  if (!CHAR_TO_KEY.has(shifted)) CHAR_TO_KEY.set(shifted, { usage, shift: true });
}
const USAGE_TO_CODE = new Map([...CODE_TO_USAGE].map(([code, usage]) => [usage, code]));

export function keyFor(ch: string): { usage: number; shift: boolean } {
  const k = CHAR_TO_KEY.get(ch);
  if (!k) throw new Error(`no key types ${JSON.stringify(ch)}`);
  return k;
}

/** Boot keyboard reports typing `text`: press then release for each character, like a reader. */
export function hidReports(text: string, shiftMod = MOD_LEFT_SHIFT): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (const ch of text) {
    const { usage, shift } = keyFor(ch);
    out.push(Uint8Array.of(shift ? shiftMod : 0, 0, usage, 0, 0, 0, 0, 0));
    out.push(new Uint8Array(8));
  }
  return out;
}

/** Browser keydown/keyup events typing `text`, with a `key` a German layout would report. */
export function keyEvents(text: string): KeyEventLike[] {
  const out: KeyEventLike[] = [];
  for (const ch of text) {
    const { usage, shift } = keyFor(ch);
    const code = USAGE_TO_CODE.get(usage);
    if (!code) throw new Error(`no code for usage ${usage}`);
    // `key` deliberately wrong (what another layout would say): the decoder must ignore it.
    const key = code === 'Semicolon' ? 'ö' : code === 'KeyY' ? 'z' : code === 'Equal' ? '´' : ch;
    out.push({ type: 'keydown', code, key, shiftKey: shift });
    out.push({ type: 'keyup', code, key, shiftKey: shift });
  }
  return out;
}
