// Soak (issue 4 point 7): 100 unplug/replug cycles of a simulated reader, with the till's SerialTransport +
// SerialCardReader reconnecting each time and reading a swipe, then no file descriptor and no socat left
// over. Simulator and driver run in this process, so /proc/self/fd counts both ends.
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { startSimulation } from '../../../drivers/simulate/simulation.ts';
import { waitForState } from '../../../drivers/transport/transport.ts';
import { testLog } from '../../fixtures/test-log.ts';
import { openReader, processAlive, until } from './helpers.ts';

const CYCLES = 100;
const fdCount = (): number => readdirSync('/proc/self/fd').length;

it(`${CYCLES} unplug/replug cycles: every swipe read, no leaked file descriptors, no socat left`, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'tillback-soak-'));
  const sim = await startSimulation({ dir, devices: ['reader'], out: testLog('soak-simulator') });
  const r = await openReader(sim.device('reader-1').address);
  const pids = new Set<number>();
  try {
    // One cycle first, so lazily opened handles (the binding's poller, timers) are counted in the baseline.
    const cycle = async (): Promise<void> => {
      pids.add(sim.device('reader-1').pid!);
      const lost = waitForState(r.transport, 'failed', 5000);
      await sim.unplug('reader-1');
      await lost;
      await sim.replug('reader-1');
      await r.transport.open();
      const before = r.events.length;
      await sim.swipe('visa');
      await until(() => r.events.length > before, 5000, 'the swipe');
    };
    await cycle();
    const baseline = fdCount();
    for (let i = 1; i < CYCLES; i++) await cycle();
    expect(r.events).toHaveLength(CYCLES);
    expect(r.events.every((e) => e.type === 'card')).toBe(true);
    // Closes finish asynchronously: give the last cycle's a moment, then compare.
    await until(() => fdCount() <= baseline, 2000, 'file descriptors back to the baseline').catch(
      () => undefined,
    );
    expect(fdCount()).toBe(baseline);
  } finally {
    await r.transport.close();
    await sim.stop();
    rmSync(dir, { recursive: true, force: true });
  }
  expect(pids.size).toBe(CYCLES);
  await until(() => [...pids].every((p) => !processAlive(p)), 5000, 'every socat gone');
}, 120_000);
