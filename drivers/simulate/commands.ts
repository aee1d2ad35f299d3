// The simulator's command language, typed at its prompt, read from a `--script` file or given as
// arguments. Parsing is separate from running, so a script is checked whole before anything happens,
// and a bad line gets a plain error instead of a half-done effect. Never throws.
import { isTestCardName, TEST_CARDS, type TestCardName } from './cards.ts';

export type Command =
  | { name: 'swipe'; card: TestCardName; device?: string }
  | { name: 'scan'; code: string; device?: string }
  | { name: 'pin'; pin: string; device?: string }
  | { name: 'unplug' | 'replug' | 'garbage'; device: string }
  | { name: 'sleep'; ms: number }
  | { name: 'list' | 'help' | 'quit' };

export type ParsedLine = { ok: true; command: Command | null } | { ok: false; error: string };

const cardNames = Object.keys(TEST_CARDS).join(', ');

export const HELP = `Commands (devices are named as \`list\` shows them, e.g. reader-1):
  swipe [card] [device]    swipe a test card at a magstripe reader (default the first), or name a ZVT
                           terminal to present it at its next read card; cards: ${cardNames} (default visa)
  scan <code> [device]     scan a code at a barcode scanner: TB-M-... (member), TB-R-... (receipt),
                           or the words member / receipt for a sample code
  pin <digits> [device]    the PIN the customer types at the next PIN request (4..12 digits, never shown)
  unplug <device>          pull the cable: the pseudo-terminal vanishes (TCP: the port closes)
  replug <device>          plug it back in: same path (or port), a fresh simulator
  garbage <device>         line noise from the device
  list                     devices, their paths and state
  sleep <ms>               wait (for scripts)
  help                     this text
  quit                     remove the manifests and links, stop every socat, exit
Lines starting with # are comments.`;

// Device ids are `<kind>-<n>`; the few digits allowed keep a PAN or PIN typed by mistake out of messages.
const DEVICE = /^[a-z]+(?:-[a-z]+)*-\d{1,3}$/;
const DEVICE_ERROR = 'a device is named like reader-1 (list shows them)';

/** Parses one line; an empty line or a comment is `command: null`. */
export function parseCommand(line: string): ParsedLine {
  const words = line.trim().split(/\s+/).filter(Boolean);
  const [name, ...args] = words;
  if (name === undefined || name.startsWith('#')) return { ok: true, command: null };
  const fail = (error: string): ParsedLine => ({ ok: false, error });
  const done = (command: Command): ParsedLine => ({ ok: true, command });
  const device = (word: string | undefined): string | undefined | null =>
    word === undefined ? undefined : DEVICE.test(word) ? word : null;
  const atMost = (n: number): boolean => args.length <= n;

  switch (name) {
    case 'swipe': {
      if (!atMost(2)) return fail('usage: swipe [card] [device]');
      const card = args[0] ?? 'visa';
      if (!isTestCardName(card)) return fail(`unknown card; the test cards are ${cardNames}`);
      const d = device(args[1]);
      if (d === null) return fail(DEVICE_ERROR);
      return done(d === undefined ? { name, card } : { name, card, device: d });
    }
    case 'scan': {
      const code = args[0];
      if (code === undefined || !atMost(2)) return fail('usage: scan <code> [device]');
      if (!/^[\x21-\x7e]{1,256}$/.test(code)) return fail('a code is 1..256 printable characters');
      const d = device(args[1]);
      if (d === null) return fail(DEVICE_ERROR);
      return done(d === undefined ? { name, code } : { name, code, device: d });
    }
    case 'pin': {
      const pin = args[0];
      if (pin === undefined || !atMost(2)) return fail('usage: pin <digits> [device]');
      // The message never repeats what was typed: it may be a PIN.
      if (!/^\d{4,12}$/.test(pin)) return fail('a PIN is 4 to 12 digits');
      const d = device(args[1]);
      if (d === null) return fail(DEVICE_ERROR);
      return done(d === undefined ? { name, pin } : { name, pin, device: d });
    }
    case 'unplug':
    case 'replug':
    case 'garbage': {
      const d = device(args[0]);
      if (d === null) return fail(DEVICE_ERROR);
      if (!d || !atMost(1)) return fail(`usage: ${name} <device>`);
      return done({ name, device: d });
    }
    case 'sleep': {
      const ms = Number(args[0]);
      if (args.length !== 1 || !Number.isInteger(ms) || ms < 0 || ms > 600_000)
        return fail('usage: sleep <ms> (0..600000)');
      return done({ name, ms });
    }
    case 'list':
    case 'help':
    case 'quit':
      if (args.length) return fail(`${name} takes no arguments`);
      return done({ name });
    default:
      return fail('unknown command; type help');
  }
}

/** Parses a whole script; any bad line is reported with its number and nothing runs. */
export function parseScript(
  text: string,
): { ok: true; commands: Command[] } | { ok: false; errors: string[] } {
  const commands: Command[] = [];
  const errors: string[] = [];
  text.split(/\r?\n/).forEach((line, i) => {
    const r = parseCommand(line);
    if (!r.ok) errors.push(`line ${i + 1}: ${r.error}`);
    else if (r.command) commands.push(r.command);
  });
  return errors.length ? { ok: false, errors } : { ok: true, commands };
}
