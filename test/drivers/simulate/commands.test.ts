// The simulator's command parser: every command, the errors, whole scripts, and fuzzing.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseCommand, parseScript } from '../../../drivers/simulate/commands.ts';

describe('parseCommand', () => {
  it.each([
    ['swipe', { name: 'swipe', card: 'visa' }],
    ['  swipe   expired  ', { name: 'swipe', card: 'expired' }],
    ['swipe bad-lrc reader-2', { name: 'swipe', card: 'bad-lrc', device: 'reader-2' }],
    ['scan TB-M-42000174', { name: 'scan', code: 'TB-M-42000174' }],
    ['scan receipt scanner-1', { name: 'scan', code: 'receipt', device: 'scanner-1' }],
    ['pin 8642', { name: 'pin', pin: '8642' }],
    ['pin 975310 pinpad-2', { name: 'pin', pin: '975310', device: 'pinpad-2' }],
    ['unplug zvt-tcp-1', { name: 'unplug', device: 'zvt-tcp-1' }],
    ['replug reader-1', { name: 'replug', device: 'reader-1' }],
    ['garbage pinpad-1', { name: 'garbage', device: 'pinpad-1' }],
    ['sleep 250', { name: 'sleep', ms: 250 }],
    ['list', { name: 'list' }],
    ['help', { name: 'help' }],
    ['quit', { name: 'quit' }],
  ])('%s', (line, command) => {
    expect(parseCommand(line)).toEqual({ ok: true, command });
  });

  it.each(['', '   ', '# a comment', '#swipe'])('%j is nothing to do', (line) => {
    expect(parseCommand(line)).toEqual({ ok: true, command: null });
  });

  it.each([
    ['swipe platinum', 'unknown card'],
    ['swipe visa reader-1 extra', 'usage: swipe'],
    ['swipe visa READER', 'a device is named like reader-1'],
    ['unplug reader-12345', 'a device is named like reader-1'],
    ['pin 1234 4111111111111111', 'a device is named like reader-1'],
    ['scan', 'usage: scan'],
    ['scan \u00e9t\u00e9', 'printable'],
    ['pin', 'usage: pin'],
    ['pin 123', 'a PIN is 4 to 12 digits'],
    ['pin 1234567890123', 'a PIN is 4 to 12 digits'],
    ['pin 12a4', 'a PIN is 4 to 12 digits'],
    ['unplug', 'usage: unplug'],
    ['replug reader-1 b', 'usage: replug'],
    ['sleep -1', 'usage: sleep'],
    ['sleep 1.5', 'usage: sleep'],
    ['list now', 'takes no arguments'],
    ['fly', 'unknown command'],
  ])('%s -> %s', (line, message) => {
    const r = parseCommand(line);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.error).toContain(message);
  });
});

describe('parseScript', () => {
  it('returns every command in order, skipping comments and blank lines', () => {
    expect(parseScript('# demo\npin 8642\r\n\nswipe\nquit\n')).toEqual({
      ok: true,
      commands: [{ name: 'pin', pin: '8642' }, { name: 'swipe', card: 'visa' }, { name: 'quit' }],
    });
  });

  it('reports every bad line by number and returns no commands', () => {
    expect(parseScript('list\nfly\nswipe\npin 1\n')).toEqual({
      ok: false,
      errors: ['line 2: unknown command; type help', 'line 4: a PIN is 4 to 12 digits'],
    });
  });
});

describe('parser fuzzing (fast-check)', () => {
  it('never throws, and an error never repeats digits it was given (they may be a PIN or PAN)', () => {
    const word = fc.oneof(
      fc.constantFrom(
        'swipe',
        'scan',
        'pin',
        'unplug',
        'replug',
        'garbage',
        'sleep',
        'list',
        'help',
        'quit',
        'visa',
      ),
      fc.stringMatching(/^\d{4,19}$/),
      fc.string({ maxLength: 12 }),
    );
    fc.assert(
      fc.property(fc.array(word, { maxLength: 5 }), fc.constantFrom(' ', '  ', '\t'), (words, sep) => {
        const line = words.join(sep);
        const r = parseCommand(line);
        if (!r.ok) {
          for (const digits of line.match(/\d{4,}/g) ?? []) expect(r.error).not.toContain(digits);
        }
      }),
      { numRuns: 2000 },
    );
  });

  it('arbitrary text as a script never throws and either all lines parse or errors are listed', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 300 }), (text) => {
        const r = parseScript(text);
        if (r.ok) expect(Array.isArray(r.commands)).toBe(true);
        else expect(r.errors.length).toBeGreaterThan(0);
      }),
      { numRuns: 1000 },
    );
  });
});
