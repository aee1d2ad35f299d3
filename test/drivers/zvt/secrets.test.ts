// No event, error or log line of the driver contains the simulator's test PAN, whatever the outcome.
import { describe, expect, it } from 'vitest';
import { inspect } from 'node:util';
import { memoryRig, observable, panForms, TEST_PAN } from './helpers.ts';
import type { SimulatorFault } from '../../../drivers/zvt/simulator.ts';

const faults: SimulatorFault[] = [
  { kind: 'none' },
  { kind: 'abort', resultCode: 0x6c },
  { kind: 'refuse', resultCode: 0x9c },
  { kind: 'silent' },
  { kind: 'disconnect' },
  { kind: 'garbage' },
];

describe('PAN never leaves the ZVT driver', () => {
  for (const framing of ['tcp', 'serial'] as const) {
    it(`${framing}: every command under every fault`, async () => {
      const errors: unknown[] = [];
      const events: unknown[] = [];
      const logs: string[] = [];
      for (const fault of faults) {
        const r = await memoryRig(framing, { commandTimeoutMs: 150 });
        try {
          r.sim.misbehave(fault);
          for (const run of [
            () => r.terminal.readCard(),
            () => r.terminal.register(),
            () => r.terminal.statusEnquiry(),
            () => r.terminal.displayText(['hello']),
          ]) {
            const result = await run().catch((e: unknown) => {
              errors.push(e);
              return undefined;
            });
            if (result !== undefined) events.push(result);
          }
          events.push(...r.events);
          logs.push(...r.logs);
        } finally {
          await r.close();
        }
      }
      expect(events.length).toBeGreaterThan(0);
      expect(logs.length).toBeGreaterThan(0);
      const seen = `${observable({ events, logs }, errors)}\n${inspect(events, { depth: 9 })}\n${inspect(errors)}`;
      for (const form of panForms(TEST_PAN)) expect(seen).not.toContain(form);
      expect(seen).toContain('535029******5177'); // the masked form is what is shown
    });
  }
});
