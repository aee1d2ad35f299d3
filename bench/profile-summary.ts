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
  const { sampledMs, functions } = summarise(JSON.parse(readFileSync(file, 'utf8')) as Profile);
  const pct = (x: number) => `${(x * 100).toFixed(1).padStart(5)}%`;
  const show = (title: string, key: 'selfMs' | 'totalMs') => {
    console.log(`\n${title} (of ${sampledMs.toFixed(0)} ms sampled)`);
    functions
      .filter((f) => !filter || f.name.includes(filter))
      .sort((a, b) => b[key] - a[key])
      .slice(0, top)
      .forEach((f) => console.log(`${pct(f.selfShare)} self ${pct(f.totalShare)} total  ${f.name}`));
  };
  show('by self time', 'selfMs');
  show('by inclusive time', 'totalMs');
}
