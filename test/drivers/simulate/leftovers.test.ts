// What a SIGKILLed simulation leaves, and the next start clearing it: `npm run simulate` as a child
// process killed with SIGKILL, then startSimulation() on the same directory (its socat processes stopped,
// its manifests and links gone, the new devices working); a simulation whose owner still runs left
// alone; a record naming a process that is not our socat (a stranger, a socat of other links, a reused
// owner pid) killing nothing; /proc's stat line and the record parsed without ever throwing.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import {
  OWNER_FILE,
  clearAbandonedSimulation,
  parseProcStat,
  processIdentity,
  readSimulationRecord,
  writeSimulationRecord,
} from '../../../drivers/simulate/leftovers.ts';
import { startSimulation } from '../../../drivers/simulate/simulation.ts';
import { SocatPty } from '../../../drivers/simulate/socat.ts';
import { testLog } from '../../fixtures/test-log.ts';
import { openReader, processAlive, socatsUnder, until } from './helpers.ts';

const root = resolve(import.meta.dirname, '../../..');
const cleanup: Array<() => unknown> = [];
afterEach(async () => {
  for (const f of cleanup.splice(0).reverse()) await f();
});

function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'tillback-leftover-'));
  cleanup.push(() => rmSync(d, { recursive: true, force: true }));
  return d;
}

/** `npm run simulate` on `dir` as a child; resolves once it printed its devices. */
async function simulateProcess(dir: string, devices: string): Promise<ChildProcess> {
  const log = testLog('leftovers-simulate-cli');
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', 'drivers/simulate/cli.ts', '--dir', dir, '--devices', devices],
    { cwd: root, stdio: ['pipe', 'pipe', 'pipe'] },
  );
  cleanup.push(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  });
  let out = '';
  child.stdout.on('data', (d: Buffer) => {
    out += d.toString();
    log(d.toString().trimEnd());
  });
  child.stderr.on('data', (d: Buffer) => log(d.toString().trimEnd()));
  await until(() => out.includes('type help for the commands'), 60_000, 'the simulator ready');
  return child;
}

const killed = (child: ChildProcess, signal: NodeJS.Signals) =>
  new Promise<void>((done) => {
    child.once('exit', () => done());
    child.kill(signal);
  });

describe('a simulation killed with SIGKILL', () => {
  it(
    'leaves socat and manifests, which the next start stops and removes before playing its own',
    { timeout: 120_000 },
    async () => {
      const dir = tempDir();
      const child = await simulateProcess(dir, 'reader,pinpad');
      const first = socatsUnder(dir);
      expect(first).toHaveLength(2);
      await killed(child, 'SIGKILL');
      // What the kill left: both socat processes, both manifests, the links and the record.
      expect(socatsUnder(dir).sort()).toEqual([...first].sort());
      expect(readdirSync(dir).sort()).toEqual([
        'pinpad-1',
        'pinpad-1.json',
        'reader-1',
        'reader-1.json',
        OWNER_FILE,
      ]);

      const said: string[] = [];
      const sim = await startSimulation({ dir, devices: ['reader'], out: (l) => said.push(l) });
      cleanup.push(() => sim.stop());
      expect(said[0]).toBe(
        `Cleared the simulated terminals left in ${dir} by process ${child.pid} (no longer running): stopped socat ${first.join(', ')}, manifests and links removed`,
      );
      const mine = sim.device('reader-1').pid;
      expect(socatsUnder(dir)).toEqual([mine]);
      expect(readdirSync(dir).sort()).toEqual(['reader-1', 'reader-1.json', OWNER_FILE]);

      const { transport, events } = await openReader(sim.device('reader-1').address);
      cleanup.push(() => transport.close());
      await sim.swipe('visa');
      await until(() => events.some((e) => e.type === 'card'), 10_000, 'the swipe read');

      await sim.stop();
      expect(readdirSync(dir)).toEqual([]);
      await until(() => socatsUnder(dir).length === 0, 5000, 'socat gone');
    },
  );
});

describe('a simulation whose owner runs', () => {
  it('is left alone, and a second simulation on its directory is refused', { timeout: 120_000 }, async () => {
    const dir = tempDir();
    const child = await simulateProcess(dir, 'reader');
    const theirs = socatsUnder(dir);
    expect(theirs).toHaveLength(1);

    expect(await clearAbandonedSimulation(dir)).toEqual({ state: 'live', owner: child.pid });
    await expect(startSimulation({ dir, devices: ['reader'], out: () => undefined })).rejects.toThrow(
      `${dir} holds the simulated terminals of process ${child.pid}, which still runs`,
    );
    expect(socatsUnder(dir)).toEqual(theirs);
    expect(readdirSync(dir).sort()).toEqual(['reader-1', 'reader-1.json', OWNER_FILE]);

    await killed(child, 'SIGTERM');
    expect(readdirSync(dir)).toEqual([]);
  });
});

describe('a record naming processes that are not our socat', () => {
  it('kills none of them, and still removes the manifests and links it names', async () => {
    const dir = tempDir();
    const elsewhere = tempDir();
    const stranger = spawn('sleep', ['60'], { stdio: 'ignore' });
    cleanup.push(() => stranger.kill('SIGKILL'));
    // A socat, but serving links of some other directory.
    const otherSocat = new SocatPty(join(elsewhere, 'a'), join(elsewhere, 'b'));
    await otherSocat.start();
    cleanup.push(() => otherSocat.kill());
    const self = processIdentity();
    expect(self).toBeDefined();
    writeSimulationRecord(dir, {
      // This process's pid with another start time: a reused pid, so the owner is gone.
      owner: { ...self!, startTime: String(BigInt(self!.startTime) + 1n) },
      simDir: join(elsewhere, 'tillback-sim-x'),
      devices: [
        { id: 'reader-1', socatPid: stranger.pid! },
        { id: 'pinpad-1', socatPid: otherSocat.pid! },
        { id: 'zvt-tcp-1' },
      ],
    });
    for (const name of ['reader-1.json', 'pinpad-1.json', 'zvt-tcp-1.json', 'scanner-1.json'])
      writeFileSync(join(dir, name), '{}');

    const result = await clearAbandonedSimulation(dir);
    expect(result).toMatchObject({ state: 'cleared', owner: process.pid, stopped: [] });
    expect(processAlive(stranger.pid!)).toBe(true);
    expect(otherSocat.running).toBe(true);
    expect(existsSync(join(elsewhere, 'a'))).toBe(true);
    // Only what the record names goes: scanner-1.json was never this simulation's.
    expect(readdirSync(dir)).toEqual(['scanner-1.json']);
  });

  it('an unreadable record is removed and kills nothing', async () => {
    const dir = tempDir();
    writeFileSync(join(dir, OWNER_FILE), '{"owner": {"pid": 1}}');
    writeFileSync(join(dir, 'reader-1.json'), '{}');
    expect(await clearAbandonedSimulation(dir)).toEqual({
      state: 'unreadable',
      message: `Removed an unreadable ${OWNER_FILE} in ${dir}; stopped nothing`,
    });
    expect(readdirSync(dir)).toEqual(['reader-1.json']);
    expect(await clearAbandonedSimulation(dir)).toEqual({ state: 'none' });
  });
});

describe('parsers', () => {
  it("reads this process's start time, the same each time, and nothing for a pid that is not running", () => {
    const a = processIdentity();
    expect(a?.startTime).toMatch(/^\d+$/);
    expect(processIdentity()).toEqual(a);
    expect(processIdentity(2 ** 22 + 1)).toBeUndefined(); // above pid_max's ceiling
  });

  it('finds state and start time after any command name, and never throws on other text', () => {
    const field = fc.bigInt({ min: 0n, max: 2n ** 64n }).map(String);
    fc.assert(
      fc.property(
        fc.string({ maxLength: 16 }),
        fc.constantFrom('R', 'S', 'D', 'Z', 'T'),
        fc.array(field, { minLength: 18, maxLength: 18 }),
        field,
        fc.array(field, { maxLength: 30 }),
        (comm, state, before, startTime, after) => {
          const line = `1234 (${comm}) ${state} ${before.join(' ')} ${startTime} ${after.join(' ')}\n`;
          expect(parseProcStat(line)).toEqual({ state, startTime });
        },
      ),
    );
    fc.assert(
      fc.property(fc.string(), (text) => {
        const parsed = parseProcStat(text);
        if (parsed) expect(parsed.startTime).toMatch(/^\d+$/);
      }),
    );
  });

  it('reads a record it wrote, and anything else as unreadable, never throwing', () => {
    const dir = tempDir();
    const record = {
      owner: { pid: 42, startTime: '123', bootId: 'b' },
      simDir: '/tmp/tillback-sim-abc',
      devices: [{ id: 'zvt-tcp-1' }, { id: 'reader-2', socatPid: 7 }],
    };
    writeSimulationRecord(dir, record);
    expect(readSimulationRecord(dir)).toEqual({ kind: 'record', record });
    fc.assert(
      fc.property(fc.oneof(fc.string(), fc.json()), (text) => {
        writeFileSync(join(dir, OWNER_FILE), text);
        expect(['record', 'unreadable']).toContain(readSimulationRecord(dir).kind);
      }),
    );
    // Paths come from ids and a simulator directory only: a record cannot aim outside them.
    for (const bad of [
      { ...record, simDir: '/home' },
      { ...record, devices: [{ id: '../../etc/passwd' }] },
    ]) {
      writeFileSync(join(dir, OWNER_FILE), JSON.stringify(bad));
      expect(readSimulationRecord(dir).kind).toBe('unreadable');
    }
  });
});
