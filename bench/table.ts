// The one table `npm run bench` prints: plain aligned text on stdout, and the same rows as JSON in
// bench/results/latest.json.
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';

export interface Row {
  /** Stable key, e.g. "http-full-64". */
  id: string;
  /** The numbered part of the benchmark spec (1 fsync, 2 lowdb, 3 domain, 4 HTTP, 5 ledger size, 6 webhooks, 7 drivers, 8 claims, 9 till outbox, 10 swipe to result, 11 screen bundles, 12 central engine on PostgreSQL). */
  group: 1 | 2 | 3 | 4 | 5 | 6 | 7 | 8 | 9 | 10 | 11 | 12;
  name: string;
  setting: string;
  figure: number;
  unit: string;
  p50Ms?: number | undefined;
  p99Ms?: number | undefined;
  /** What the figure is judged against. */
  against: string;
  /** PASS / MISS for the target row; other rows only when something needs saying. */
  verdict?: string | undefined;
  /** Operations measured. */
  samples?: number | undefined;
  errors?: number | undefined;
  details?: Record<string, unknown> | undefined;
}

export interface Report {
  title: string;
  notes: string[];
  rows: Row[];
}

function formatFigure(x: number): string {
  if (!Number.isFinite(x)) return 'n/a';
  if (Math.abs(x) >= 100) return Math.round(x).toLocaleString('en-US');
  return x.toFixed(1);
}

function formatMs(x: number | undefined): string {
  if (x === undefined || !Number.isFinite(x)) return '';
  return x >= 100 ? x.toFixed(0) : x >= 10 ? x.toFixed(1) : x.toFixed(2);
}

export function renderTable(report: Report): string {
  const header = [
    '#',
    'benchmark',
    'setting',
    'figure',
    'unit',
    'p50 ms',
    'p99 ms',
    'verdict',
    'judged against',
  ];
  const right = new Set([0, 3, 5, 6]);
  const cells = report.rows.map((r) => [
    String(r.group),
    r.name,
    r.setting,
    formatFigure(r.figure),
    r.unit,
    formatMs(r.p50Ms),
    formatMs(r.p99Ms),
    r.verdict ?? '',
    r.against,
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...cells.map((c) => (c[i] ?? '').length)));
  const line = (c: string[]) =>
    c
      .map((v, i) =>
        i === c.length - 1 ? v : right.has(i) ? v.padStart(widths[i] ?? 0) : v.padEnd(widths[i] ?? 0),
      )
      .join('  ')
      .trimEnd();
  const rule = widths.map((w, i) => '-'.repeat(i === widths.length - 1 ? Math.max(w, 15) : w)).join('  ');
  const out = [report.title, rule, line(header), rule, ...cells.map(line), rule, ...report.notes];
  return `${out.join('\n')}\n`;
}

/**
 * Writes the report as JSON, formatted by the project's Prettier settings when Prettier is there, so
 * a results file left in the tree does not trip `prettier --check .`.
 */
export async function writeJson(path: string, report: Report & Record<string, unknown>): Promise<void> {
  mkdirSync(dirname(path), { recursive: true });
  let text = `${JSON.stringify(report, null, 2)}\n`;
  try {
    const prettier = await import('prettier');
    const config = (await prettier.resolveConfig(path)) ?? {};
    text = await prettier.format(text, { ...config, filepath: path });
  } catch {
    // Plain JSON is still JSON.
  }
  writeFileSync(path, text);
}
