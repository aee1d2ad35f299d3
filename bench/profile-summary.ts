// Summarises a V8 .cpuprofile (from `node --cpu-prof`): the functions with the most self time and
// the most inclusive time (time with everything they call), as shares of the sampled time.
//   npx tsx bench/profile-summary.ts <file.cpuprofile> [--top 30] [--filter engine/]
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

interface CallFrame {
  functionName: string;
  url: string;
  lineNumber: number;
}
interface ProfileNode {
  id: number;
  callFrame: CallFrame;
  children?: number[];
}
interface Profile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
  startTime: number;
  endTime: number;
}

export interface FunctionCost {
  name: string;
  selfMs: number;
  totalMs: number;
  selfShare: number;
  totalShare: number;
}

const label = (f: CallFrame) => {
  const file = f.url.replace(/^file:\/\//, '').replace(/^.*\/(engine|bench|node_modules)\//, '$1/');
  return `${f.functionName || '(anonymous)'} ${file ? `${file}:${f.lineNumber + 1}` : ''}`.trim();
};

/** Where a sample's self time goes, by the file of the function it was taken in. */
const AREAS: [string, RegExp][] = [
  ['SQLite statements (get/run/all, native)', /engine\/store\/sqlite\.ts/],
  ['SQLite exec (BEGIN/SAVEPOINT/RELEASE/COMMIT incl. fsync)', /better-sqlite3\/lib\/methods\/wrappers/],
  ['engine domain JS', /engine\/domain\//],
  ['engine HTTP layer JS (routes, api, json, server)', /engine\/(routes|http|server)/],
  ['contract (money parsing)', /contract\//],
  ['zod', /node_modules\/zod\//],
  ['lossless-json', /node_modules\/lossless-json\//],
  [
    'fastify + plugins',
    /node_modules\/(fastify|@fastify|find-my-way|avvio|light-my-request|fast-json-stringify|toad-cache)/,
  ],
  [
    'node http/net/streams',
    /node:(_http|http|net|internal\/streams|internal\/stream_base|events|internal\/http)/,
  ],
  ['node crypto', /node:internal\/crypto/],
  ['node http/net/streams', /^(writev|writeUtf8String|writeBuffer|writeLatin1String|shutdown)$/],
  [
    'module loading (startup)',
    /node:internal\/modules|tsx\/dist|cjs-module-lexer|esm\/|node:internal\/bootstrap/,
  ],
  ['garbage collector', /^\(garbage collector\)/],
  ['idle', /^\(idle\)/],
];

export function byArea(profile: Profile): { area: string; ms: number; share: number }[] {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const totals = new Map<string, number>();
  let sampled = 0;
  profile.samples.forEach((id, i) => {
    const us = profile.timeDeltas[i] ?? 0;
    sampled += us;
    const f = byId.get(id)?.callFrame;
    const key = f ? `${f.url} ${f.functionName}` : '';
    const name = f && !f.url ? f.functionName : key;
    const area = AREAS.find(([, re]) => re.test(name) || re.test(key))?.[0] ?? 'other';
    totals.set(area, (totals.get(area) ?? 0) + us);
  });
  return [...totals]
    .map(([area, us]) => ({ area, ms: us / 1000, share: us / sampled }))
    .sort((a, b) => b.ms - a.ms);
}

export function summarise(profile: Profile): { sampledMs: number; functions: FunctionCost[] } {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const selfUs = new Map<number, number>();
  profile.samples.forEach((id, i) => selfUs.set(id, (selfUs.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0)));
  const self = new Map<string, number>();
  const total = new Map<string, number>();
  let sampled = 0;
  for (const [id, us] of selfUs) {
    sampled += us;
    const node = byId.get(id);
    if (!node) continue;
    const name = label(node.callFrame);
    self.set(name, (self.get(name) ?? 0) + us);
    // Inclusive: charge every distinct function on the stack once.
    const seen = new Set<string>();
    for (let cur: number | undefined = id; cur !== undefined; cur = parent.get(cur)) {
      const frame = byId.get(cur)?.callFrame;
      if (!frame) break;
      const n = label(frame);
      if (seen.has(n)) continue;
      seen.add(n);
      total.set(n, (total.get(n) ?? 0) + us);
    }
  }
  const functions = [...total].map(([name, us]) => ({
    name,
    selfMs: (self.get(name) ?? 0) / 1000,
    totalMs: us / 1000,
    selfShare: (self.get(name) ?? 0) / sampled,
    totalShare: us / sampled,
  }));
  return { sampledMs: sampled / 1000, functions };
}

if (process.argv[1] && fileURLToPath(import.meta.url) === resolve(process.argv[1])) {
  const args = process.argv.slice(2);
  const file = args.find((a) => !a.startsWith('--'));
  if (!file) {
    console.error('usage: tsx bench/profile-summary.ts <file.cpuprofile> [--top N] [--filter text]');
    process.exit(2);
  }
  const top = Number(args[args.indexOf('--top') + 1] ?? 30) || 30;
  const filter = args.includes('--filter') ? args[args.indexOf('--filter') + 1] : undefined;
  const profile = JSON.parse(readFileSync(file, 'utf8')) as Profile;
  const { sampledMs, functions } = summarise(profile);
  const pct = (x: number) => `${(x * 100).toFixed(1).padStart(5)}%`;
  const show = (title: string, key: 'selfMs' | 'totalMs') => {
    console.log(`\n${title} (of ${sampledMs.toFixed(0)} ms sampled)`);
    functions
      .filter((f) => !filter || f.name.includes(filter))
      .sort((a, b) => b[key] - a[key])
      .slice(0, top)
      .forEach((f) => console.log(`${pct(f.selfShare)} self ${pct(f.totalShare)} total  ${f.name}`));
  };
  console.log(`by area (of ${sampledMs.toFixed(0)} ms sampled)`);
  for (const a of byArea(profile))
    console.log(`${pct(a.share)}  ${a.ms.toFixed(0).padStart(7)} ms  ${a.area}`);
  show('by self time', 'selfMs');
  show('by inclusive time', 'totalMs');
}
