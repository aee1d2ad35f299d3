// `?` -> `$n` for PostgreSQL (engine/store/placeholders.ts): by property over SQL made of plain text,
// placeholders, string literals (with doubled quotes), quoted identifiers and both kinds of comment,
// every one of which may hold `?`. Pure: runs in the sqlite project, no server needed.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { numberPlaceholders } from '../../engine/store/placeholders.ts';

type Piece =
  { kind: 'placeholder' } | { kind: 'plain' | 'literal' | 'identifier' | 'line' | 'block'; text: string };

/** Text from an alphabet rich in what matters here, with every `drop` removed until none is left. */
const text = (alphabet: string, drop?: string) =>
  fc.string({ unit: fc.constantFrom(...alphabet.split('')) }).map((t) => {
    if (drop === undefined) return t;
    while (t.includes(drop)) t = t.split(drop).join('');
    return t;
  });
const ALL = 'ab ?\'"-/*\n$1';

const piece: fc.Arbitrary<Piece> = fc.oneof(
  fc.constant({ kind: 'placeholder' as const }),
  // Plain SQL here holds nothing that could start a quote, a comment or a placeholder.
  text('ab \n$1').map((t) => ({ kind: 'plain' as const, text: t })),
  text(ALL, "'").map((t) => ({ kind: 'literal' as const, text: t })),
  text(ALL, '"').map((t) => ({ kind: 'identifier' as const, text: t })),
  text(ALL, '\n').map((t) => ({ kind: 'line' as const, text: t })),
  text(ALL, '*/').map((t) => ({ kind: 'block' as const, text: t })),
);

function render(pieces: Piece[], numbered: boolean): string {
  let n = 0;
  let sql = '';
  for (const p of pieces) {
    if (p.kind === 'placeholder') sql += numbered ? `$${++n}` : '?';
    else if (p.kind === 'plain') sql += p.text;
    else if (p.kind === 'literal') sql += `'${p.text}'`;
    else if (p.kind === 'identifier') sql += `"${p.text}"`;
    else if (p.kind === 'line') sql += `--${p.text}\n`;
    else sql += `/*${p.text}*/`;
  }
  return sql;
}

describe('numberPlaceholders', () => {
  it('numbers each placeholder in order and leaves every ? inside quotes and comments alone', () => {
    fc.assert(
      fc.property(fc.array(piece, { maxLength: 30 }), (pieces) => {
        expect(numberPlaceholders(render(pieces, false))).toBe(render(pieces, true));
      }),
      { numRuns: 2_000 },
    );
  });

  it('reads a doubled quote as part of its literal', () => {
    expect(numberPlaceholders("SELECT 'it''s ?' AS a, ? AS b WHERE c = 'x?''' AND d = ?")).toBe(
      "SELECT 'it''s ?' AS a, $1 AS b WHERE c = 'x?''' AND d = $2",
    );
  });

  it('refuses an unterminated literal, identifier or comment rather than guess', () => {
    expect(() => numberPlaceholders("SELECT 'open ?")).toThrow(/unterminated string literal/);
    expect(() => numberPlaceholders('SELECT "open ?')).toThrow(/unterminated quoted identifier/);
    expect(() => numberPlaceholders('SELECT ? /* open ?')).toThrow(/unterminated comment/);
  });
});
