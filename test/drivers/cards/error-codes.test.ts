// Every coded error the card decoders can return is exercised by some test in this folder.
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { CARD_ERROR_CODES, CardError } from '../../../drivers/cards/errors.ts';

const here = dirname(fileURLToPath(import.meta.url));
const sources = readdirSync(here)
  .filter((f) => f.endsWith('.test.ts') && f !== 'error-codes.test.ts')
  .map((f) => readFileSync(join(here, f), 'utf8'))
  .join('\n');

describe('error codes', () => {
  it.each(CARD_ERROR_CODES)('%s is asserted by a test', (code) => {
    expect(sources).toContain(`'${code}'`);
  });

  it('serialise as {code, message} and carry no stack in JSON', () => {
    const e = new CardError('bad_lrc', 'track 2 LRC does not match');
    expect(JSON.parse(JSON.stringify(e))).toEqual({ code: 'bad_lrc', message: 'track 2 LRC does not match' });
    expect(e).toBeInstanceOf(Error);
    expect(e.name).toBe('CardError');
  });
});
