// Row 4: durable earns over HTTP. The engine runs in a child process (bench/engine-process.ts) on a
// fresh database; autocannon posts seed 002's earn (POST /api/v1/cashback/cashback/earn with the
// till's X-App-Id and X-Api-Key) from this process with 1, 16 and 64 concurrent clients. Every
// request names one of 1,000 members by email with member_name (created on first earn) and carries a
// unique `reference`, as a till sends one per sale, so each earn also stores its idempotency row.
// A response means the earn is committed (with synchronous=FULL: fsync'd) before it is sent.
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';
import { ENGINE_NODE_FLAGS } from '../engine/node-flags.ts';
import {
  log,
  machineBusySeconds,
  memberEmail,
  memberName,
  pct,
  percentile,
  purchaseDecimal,
  type Synchronous,
} from './setup.ts';
import type { TraceReport } from './sql-trace.ts';
import type { Row } from './table.ts';
import { processCpuSeconds } from './proc-cpu.ts';

export const TARGET = { earnsPerSecond: 5_000, p99Ms: 25, clients: 64 } as const;

interface EngineInfo {
  port: number;
  appId: string;
  secret: string;
  programId: number;
}

/** An engine the earns go to: its base URL and the till's credentials and program there. */
export interface EarnTarget {
  url: string;
  appId: string;
  secret: string;
  programId: number;
}

interface EngineChild {
  info: EngineInfo;
  /** Where the earns go, for loadHttpEarns. */
  target: EarnTarget;
  /** CPU seconds the engine process has used so far (Linux /proc), or undefined elsewhere. */
  cpuSeconds(): number | undefined;
  /** With --trace: the engine's SQL timings since the last call. */
  trace(): Promise<TraceReport | null>;
  stop(): Promise<{ transfers: number; problems: string[] }>;
}

const ENGINE_SCRIPT = fileURLToPath(new URL('./engine-process.ts', import.meta.url));
const ROOT = fileURLToPath(new URL('..', import.meta.url));

/** Starts bench/engine-process.ts and waits for its JSON line. `nodeArgs` e.g. ['--cpu-prof']. */
export async function startEngineProcess(
  synchronous: Synchronous,
  opts: { baseDir?: string | undefined; nodeArgs?: string[]; trace?: boolean } = {},
): Promise<EngineChild> {
  const child: ChildProcessWithoutNullStreams = spawn(
    process.execPath,
    [
      ...ENGINE_NODE_FLAGS,
      ...(opts.nodeArgs ?? []),
      '--import',
      'tsx',
      ENGINE_SCRIPT,
      '--sync',
      synchronous,
      ...(opts.baseDir ? ['--dir', opts.baseDir] : []),
      ...(opts.trace ? ['--trace'] : []),
    ],
    { cwd: ROOT, stdio: ['pipe', 'pipe', 'pipe'] },
  );
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => {
    stderr += d.toString();
    if (stderr.length > 20_000) stderr = stderr.slice(-20_000);
  });
  const lines = createInterface({ input: child.stdout });
  const queue: string[] = [];
  const waiters: ((line: string | undefined) => void)[] = [];
  lines.on('line', (line) => {
    const waiter = waiters.shift();
    if (waiter) waiter(line);
    else queue.push(line);
  });
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  void exited.then(() => waiters.splice(0).forEach((w) => w(undefined)));
  const nextLine = (timeoutMs: number) =>
    new Promise<string | undefined>((resolve, reject) => {
      if (queue.length) return resolve(queue.shift());
      const timer = setTimeout(
        () => reject(new Error(`engine process: no output in ${timeoutMs} ms\n${stderr}`)),
        timeoutMs,
      );
      waiters.push((line) => {
        clearTimeout(timer);
        resolve(line);
      });
    });

  const first = await nextLine(60_000);
  if (!first) throw new Error(`engine process exited before listening:\n${stderr}`);
  const info = JSON.parse(first) as EngineInfo;
  return {
    info,
    target: { ...info, url: `http://127.0.0.1:${info.port}` },
    cpuSeconds: () => processCpuSeconds(child.pid),
    async trace() {
      child.stdin.write('trace\n');
      const line = await nextLine(10_000);
      return line ? (JSON.parse(line) as { trace: TraceReport | null }).trace : null;
    },
    async stop() {
      child.stdin.write('stop\n');
      const last = await nextLine(120_000);
      await exited;
      if (!last) throw new Error(`engine process exited without its ledger report:\n${stderr}`);
      return JSON.parse(last) as { transfers: number; problems: string[] };
    },
  };
}

interface LoadOutcome {
  ok: number;
  seconds: number;
  perSecond: number;
  p50Ms: number;
  p99Ms: number;
  non2xx: number;
  errors: number;
  timeouts: number;
  firstFailure?: string;
  /** Share of one core used during the run by the load generator (this process) and the engine. */
  loadgenCpu: number;
  engineCpu: number | undefined;
  /** Cores used by every other process on the machine meanwhile (other work skews the figures). */
  othersCpu: number | undefined;
}

function cpuShares(
  seconds: number,
  loadgen: number,
  engine0: number | undefined,
  engine1: number | undefined,
  machine0: number | undefined,
  machine1: number | undefined,
): Pick<LoadOutcome, 'loadgenCpu' | 'engineCpu' | 'othersCpu'> {
  const engine = engine0 !== undefined && engine1 !== undefined ? engine1 - engine0 : undefined;
  const machine = machine0 !== undefined && machine1 !== undefined ? machine1 - machine0 : undefined;
  return {
    loadgenCpu: loadgen / seconds,
    engineCpu: engine === undefined ? undefined : engine / seconds,
    othersCpu:
      machine === undefined || engine === undefined
        ? undefined
        : Math.max(0, (machine - engine - loadgen) / seconds),
  };
}

function earnBody(programId: number, i: number, ref: string): string {
  return `{"card_id":${programId},"email":"${memberEmail(i)}","member_name":"${memberName(i)}","purchase_amount":${purchaseDecimal(i)},"reference":"${ref}-${i}"}`;
}

/**
 * autocannon with `connections` clients for `seconds`, every request a new earn with a unique
 * reference. With several targets (engine processes on one database) the clients are split evenly
 * between them, one autocannon each, and the figures are over all of them. `engineCpuSeconds` is the
 * CPU time the engines have used so far (summed), for the CPU shares. `rate` caps the requests per
 * second over all targets (split as the clients are); without it each client sends its next request
 * as soon as the last is answered.
 */
export async function loadHttpEarns(
  targets: EarnTarget[],
  engineCpuSeconds: () => number | undefined,
  connections: number,
  seconds: number,
  ref: string,
  rate?: number,
): Promise<LoadOutcome> {
  let counter = 0;
  let ok = 0;
  let firstFailure: string | undefined;
  const latencies: number[] = [];
  const started = performance.now();
  const cpu0 = process.cpuUsage();
  const engineCpu0 = engineCpuSeconds();
  const machine0 = machineBusySeconds();
  const one = (target: EarnTarget, clients: number) =>
    new Promise<autocannon.Result>((resolve, reject) => {
      const instance = autocannon(
        {
          url: `${target.url}/api/v1/cashback/cashback/earn`,
          method: 'POST',
          connections: clients,
          ...(rate ? { overallRate: (rate * clients) / connections } : {}),
          pipelining: 1,
          duration: seconds,
          timeout: 30,
          headers: {
            'content-type': 'application/json',
            'x-app-id': target.appId,
            'x-api-key': target.secret,
          },
          requests: [
            {
              setupRequest: (req) => ({ ...req, body: earnBody(target.programId, counter++, ref) }),
              onResponse: (status, body) => {
                if (status >= 300 && firstFailure === undefined)
                  firstFailure = `${status} ${body.slice(0, 300)}`;
              },
            },
          ],
        },
        (error, r) => (error ? reject(error) : resolve(r)),
      );
      instance.on('response', (_client: unknown, status: number, _bytes: number, ms: number) => {
        if (status >= 200 && status < 300) {
          ok++;
          latencies.push(ms);
        }
      });
    });
  const results = await Promise.all(
    targets.map((target, i) =>
      one(target, Math.floor(connections / targets.length) + (i < connections % targets.length ? 1 : 0)),
    ),
  );
  const sum = (key: 'non2xx' | 'errors' | 'timeouts') => results.reduce((n, r) => n + r[key], 0);
  const elapsed = (performance.now() - started) / 1000;
  const cpu = process.cpuUsage(cpu0);
  const engineCpu1 = engineCpuSeconds();
  const machine1 = machineBusySeconds();
  return {
    ok,
    seconds: elapsed,
    perSecond: ok / elapsed,
    p50Ms: percentile(latencies, 50),
    p99Ms: percentile(latencies, 99),
    non2xx: sum('non2xx'),
    errors: sum('errors'),
    timeouts: sum('timeouts'),
    ...cpuShares(elapsed, (cpu.user + cpu.system) / 1e6, engineCpu0, engineCpu1, machine0, machine1),
    ...(firstFailure !== undefined ? { firstFailure } : {}),
  };
}

function logTrace(label: string, t: TraceReport, earns: number): void {
  log(
    `trace ${label}: SQLite ${((100 * t.sqlMs) / t.wallMs).toFixed(0)}% of wall time, ${t.commits} commits, ` +
      `${t.jobsPerCommit.mean.toFixed(1)} jobs/commit (max ${t.jobsPerCommit.max}), commit ${t.commitMs.mean.toFixed(2)} ms mean ` +
      `${t.commitMs.p99.toFixed(2)} ms p99`,
  );
  for (const s of t.statements.slice(0, 12)) {
    log(
      `  ${((s.ms * 1000) / Math.max(1, earns)).toFixed(1).padStart(7)} us/earn ${s.usPerCall.toFixed(1).padStart(7)} us/call ` +
        `${String(s.calls).padStart(7)} calls  ${s.sql.slice(0, 90)}`,
    );
  }
}

/**
 * One earn, checked, so a misconfiguration fails loudly instead of measuring error responses. `n`
 * keeps the references of several engines on one database apart.
 */
export async function checkOneEarn(target: EarnTarget, n = 0): Promise<void> {
  const res = await fetch(`${target.url}/api/v1/cashback/cashback/earn`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-app-id': target.appId, 'x-api-key': target.secret },
    body: earnBody(target.programId, n, 'check'),
  });
  const text = await res.text();
  if (res.status !== 200 || !text.includes('"success":true')) {
    throw new Error(`the engine refused a bench earn: ${res.status} ${text}`);
  }
}

export async function benchHttpEarn(opts: {
  seconds: number;
  warmupSeconds: number;
  clients: number[];
  modes: Synchronous[];
  baseDir?: string | undefined;
  nodeArgs?: string[];
  trace?: boolean;
}): Promise<Row[]> {
  const rows: Row[] = [];
  for (const synchronous of opts.modes) {
    const engine = await startEngineProcess(synchronous, {
      baseDir: opts.baseDir,
      nodeArgs: opts.nodeArgs ?? [],
      trace: opts.trace ?? false,
    });
    const modeRows: Row[] = [];
    try {
      const targets = [engine.target];
      await checkOneEarn(engine.target);
      await loadHttpEarns(targets, engine.cpuSeconds, 16, opts.warmupSeconds, `warm-${synchronous}`);
      for (const clients of opts.clients) {
        if (opts.trace) await engine.trace();
        const r = await loadHttpEarns(
          targets,
          engine.cpuSeconds,
          clients,
          opts.seconds,
          `http-${synchronous}-${clients}`,
        );
        const trace = opts.trace ? await engine.trace() : null;
        if (trace) logTrace(`${synchronous} ${clients} clients`, trace, r.ok);
        const cpu = `CPU: engine ${pct(r.engineCpu)}, load generator ${pct(r.loadgenCpu)}, others ${pct(r.othersCpu)}`;
        log(
          `http ${synchronous} ${clients} clients: ${r.perSecond.toFixed(0)} earns/s p50 ${r.p50Ms.toFixed(2)} ms p99 ${r.p99Ms.toFixed(2)} ms, ${cpu}` +
            (r.non2xx || r.errors
              ? ` (non-2xx ${r.non2xx}, errors ${r.errors}: ${r.firstFailure ?? ''})`
              : ''),
        );
        const isTarget = synchronous === 'FULL' && clients === TARGET.clients;
        const met =
          r.perSecond >= TARGET.earnsPerSecond && r.p99Ms < TARGET.p99Ms && r.non2xx === 0 && r.errors === 0;
        modeRows.push({
          id: `http-${synchronous.toLowerCase()}-${clients}`,
          group: 4,
          name: `HTTP seed 002 earn${synchronous === 'FULL' ? ' (durable)' : ''}`,
          setting: `${clients} client${clients === 1 ? '' : 's'}, sync=${synchronous}`,
          figure: r.perSecond,
          unit: 'earns/s',
          p50Ms: r.p50Ms,
          p99Ms: r.p99Ms,
          against: `${
            isTarget
              ? `target >= ${TARGET.earnsPerSecond.toLocaleString('en-US')}/s with p99 < ${TARGET.p99Ms} ms`
              : synchronous === 'FULL'
                ? 'fsync ceiling (row 1)'
                : `FULL at ${clients} (not durable on power loss)`
          }; ${cpu}`,
          ...(isTarget ? { verdict: met ? 'PASS' : 'MISS' } : {}),
          samples: r.ok,
          errors: r.non2xx + r.errors,
          details: {
            non2xx: r.non2xx,
            errors: r.errors,
            timeouts: r.timeouts,
            firstFailure: r.firstFailure,
            engineCpu: r.engineCpu,
            loadgenCpu: r.loadgenCpu,
            othersCpu: r.othersCpu,
            ...(trace ? { trace: { ...trace, statements: trace.statements.slice(0, 25) } } : {}),
          },
        });
      }
    } finally {
      const report = await engine.stop();
      if (report.problems.length) {
        for (const row of modeRows)
          row.verdict = `${row.verdict ?? ''} LEDGER: ${report.problems.length} problems`.trim();
      }
      for (const row of modeRows) row.details = { ...row.details, ledgerTransfers: report.transfers };
      rows.push(...modeRows);
    }
  }
  return rows;
}
