// Browser mode after a kill -9: `till/cli.ts` as a child process, SIGKILLed, leaves its simulator's socat
// processes and manifests; the next start (startTill, auto) clears them, says so in one line, and runs
// its own simulated terminals (a swipe is read). And a simulation someone runs on purpose (`npm run
// simulate` into the till's device directory) is taken for attached terminals and left alone.
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CardRead } from '../../drivers/cards/magstripe.ts';
import { OWNER_FILE } from '../../drivers/simulate/leftovers.ts';
import { startTill } from '../../till/core.ts';
import { socatsUnder, until } from '../drivers/simulate/helpers.ts';
import { testLog, testLogDir } from '../fixtures/test-log.ts';
import { ROOT, startTillProcess } from './fixtures/till-process.ts';

let dir: string;
let logDir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'tillback-leftovers-'));
  logDir = mkdtempSync(join(testLogDir(), 'till-leftovers-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const startHere = (dataDir: string, out: (line: string) => void) =>
  startTill(
    { dataDir, logDir, devices: { pollIntervalMs: 200 } },
    { simulate: 'auto', simulatorOut: out, handleSignals: false },
  );

describe('browser mode killed with SIGKILL', () => {
  it(
    'the next start stops the socat processes it left, removes its manifests, and simulates anew',
    { timeout: 180_000 },
    async () => {
      const dataDir = join(dir, 'killed');
      const devicesDir = join(dataDir, 'devices');
      const first = startTillProcess(['--data-dir', dataDir], { TILLBACK_TILL_LOG_DIR: logDir });
      await first.ready;
      const leftBehind = socatsUnder(devicesDir);
      expect(leftBehind.length).toBeGreaterThanOrEqual(3);
      first.child.kill('SIGKILL');
      expect(await first.exited).toEqual({ code: null, signal: 'SIGKILL' });
      // The kill left them: nothing could stop them.
      expect(socatsUnder(devicesDir).sort()).toEqual([...leftBehind].sort());
      expect(readdirSync(devicesDir)).toContain('reader-1.json');

      const said: string[] = [];
      const log = testLog('till-leftovers-simulator');
      const till = await startHere(dataDir, (line) => {
        said.push(line);
        log(line);
      });
      try {
        expect(said[0]).toMatch(
          new RegExp(
            `^Cleared the simulated terminals left in ${devicesDir} by process ${first.child.pid} \\(no longer running\\): stopped socat [\\d, ]+, manifests and links removed$`,
          ),
        );
        const sim = till.simulation;
        expect(sim, 'a simulator of its own').toBeDefined();
        const mine = sim!.devices().flatMap((d) => (d.pid ? [d.pid] : []));
        expect(socatsUnder(devicesDir).sort()).toEqual([...mine].sort());
        for (const pid of leftBehind) expect(mine).not.toContain(pid);

        const swiped = new Promise<CardRead>((resolve) => till.devices.once('swipe', (s) => resolve(s.card)));
        await sim!.swipe('visa');
        expect((await swiped).panMasked).toMatch(/^\d{6}\*+\d{4}$/);
      } finally {
        await till.close();
      }
      expect(socatsUnder(devicesDir)).toEqual([]);
      expect(readdirSync(devicesDir)).toEqual([]);
    },
  );
});

describe('a simulation run on purpose by another process', () => {
  it('is used as attached terminals and left running', { timeout: 180_000 }, async () => {
    const dataDir = join(dir, 'attached');
    const devicesDir = join(dataDir, 'devices');
    const simulate = spawn(
      process.execPath,
      ['--import', 'tsx', 'drivers/simulate/cli.ts', '--dir', devicesDir, '--devices', 'reader,scanner'],
      { cwd: ROOT, stdio: ['pipe', 'pipe', 'pipe'] },
    );
    const stopped = new Promise<void>((done) => simulate.once('exit', () => done()));
    let out = '';
    simulate.stdout.on('data', (d: Buffer) => (out += d.toString()));
    try {
      await until(() => out.includes('type help for the commands'), 60_000, 'the simulator ready');
      const theirs = socatsUnder(devicesDir);
      expect(theirs).toHaveLength(2);

      const said: string[] = [];
      const till = await startHere(dataDir, (line) => said.push(line));
      try {
        expect(till.simulation).toBeUndefined();
        await until(
          () => till.devices.list().filter((d) => d.state === 'connected').length >= 2,
          30_000,
          'both terminals connected',
        );
        const terminals = till.devices.list().filter((d) => d.kind !== 'unknown'); // as the core counts them
        expect(terminals.map((d) => d.kind).sort()).toEqual(['card_reader', 'scanner']);
        expect(said).toEqual([]);
      } finally {
        await till.close();
      }
      expect(socatsUnder(devicesDir).sort()).toEqual([...theirs].sort());
      expect(readdirSync(devicesDir)).toContain(OWNER_FILE);
    } finally {
      simulate.kill('SIGTERM');
      await stopped;
    }
    expect(readdirSync(devicesDir)).toEqual([]);
  });
});
