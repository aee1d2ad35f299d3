import { memoryPair } from '../../../drivers/transport/memory.ts';
import type { MemoryTransport } from '../../../drivers/transport/memory.ts';
import { ZvtTerminal } from '../../../drivers/zvt/driver.ts';
import type { ZvtTerminalEvent } from '../../../drivers/zvt/driver.ts';
import { ZvtSimulator } from '../../../drivers/zvt/simulator.ts';
import type { ZvtSimulatorOptions } from '../../../drivers/zvt/simulator.ts';
import type { ZvtFraming } from '../../../drivers/zvt/channel.ts';
import { testLog } from '../../fixtures/test-log.ts';

export { EXPIRED_TEST_PAN as TEST_PAN } from '../../fixtures/secrets.ts';

export interface Rig {
  terminal: ZvtTerminal;
  sim: ZvtSimulator;
  ecrEnd: MemoryTransport;
  simEnd: MemoryTransport;
  events: ZvtTerminalEvent[];
  logs: string[];
  close: () => Promise<void>;
}

/** Collects every event and log line of a terminal (for the PAN scan). */
export function record(terminal: ZvtTerminal): { events: ZvtTerminalEvent[]; logs: string[] } {
  const events: ZvtTerminalEvent[] = [];
  const logs: string[] = [];
  const writeLog = testLog('zvt-driver');
  terminal.on('event', (e) => {
    events.push(e);
    writeLog(e);
  });
  terminal.on('log', (l) => {
    logs.push(l);
    writeLog(l);
  });
  return { events, logs };
}

export async function memoryRig(
  framing: ZvtFraming,
  opts: { commandTimeoutMs?: number; ackTimeoutMs?: number; sim?: Partial<ZvtSimulatorOptions> } = {},
): Promise<Rig> {
  const [ecrEnd, simEnd] = memoryPair({ ids: ['ecr', 'pt'] });
  const sim = new ZvtSimulator(simEnd, { framing, stepDelayMs: 2, ...opts.sim });
  const terminal = new ZvtTerminal({
    transport: ecrEnd,
    framing,
    commandTimeoutMs: opts.commandTimeoutMs ?? 3000,
    ...(opts.ackTimeoutMs !== undefined ? { ackTimeoutMs: opts.ackTimeoutMs } : {}),
  });
  const { events, logs } = record(terminal);
  await sim.open();
  await terminal.open();
  return {
    terminal,
    sim,
    ecrEnd,
    simEnd,
    events,
    logs,
    close: async () => {
      await terminal.close();
      await sim.close();
    },
  };
}

/** Everything observable from the driver, as one string, for secret scans. */
export function observable(rig: { events: unknown[]; logs: string[] }, errors: unknown[] = []): string {
  const errs = errors.map((e) =>
    e instanceof Error ? `${e.name} ${e.message} ${JSON.stringify(e)} ${e.stack ?? ''}` : JSON.stringify(e),
  );
  return [JSON.stringify(rig.events), ...rig.logs, ...errs].join('\n');
}

export function panForms(pan: string): string[] {
  return [pan, Buffer.from(pan, 'hex').toString('hex'), pan.slice(6, 12)];
}
