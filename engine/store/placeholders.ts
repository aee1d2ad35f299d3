// Domain SQL is written with `?` placeholders (SQLite's); PostgreSQL numbers them `$1, $2, ...`.
// A `?` inside a string literal, a quoted identifier or a comment is text, not a placeholder, so the
// scan steps over those. Not handled, because no query here uses them: E'...' strings (backslash
// escapes), dollar-quoted bodies, nested block comments and PostgreSQL's JSON `?` operators.

/** Rewrites `?` placeholders as `$n`; throws on an unterminated quote or comment. */
export function numberPlaceholders(sql: string): string {
  let out = '';
  let n = 0;
  let i = 0;
  while (i < sql.length) {
    const c = sql[i];
    const end = skipQuotedOrComment(sql, i);
    if (end > i) {
      out += sql.slice(i, end);
      i = end;
    } else if (c === '?') {
      out += `$${++n}`;
      i++;
    } else {
      out += c;
      i++;
    }
  }
  return out;
}

/** When a literal, quoted identifier or comment starts at `i`, the index just past it; else `i`. */
function skipQuotedOrComment(sql: string, i: number): number {
  const c = sql[i];
  if (c === "'" || c === '"') {
    // Standard SQL: the quote is escaped by doubling it, which the loop reads as two literals in a row.
    const close = sql.indexOf(c, i + 1);
    if (close < 0)
      throw new Error(`unterminated ${c === "'" ? 'string literal' : 'quoted identifier'} in SQL`);
    return close + 1;
  }
  if (c === '-' && sql[i + 1] === '-') {
    const close = sql.indexOf('\n', i + 2);
    return close < 0 ? sql.length : close + 1;
  }
  if (c === '/' && sql[i + 1] === '*') {
    const close = sql.indexOf('*/', i + 2);
    if (close < 0) throw new Error('unterminated comment in SQL');
    return close + 2;
  }
  return i;
}
