// Helpers for the simulator tests: the real till-side drivers on the simulator's ports, with every
// event and log line they produce written to the run's log directory (scanned for PANs and PINs).
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { SerialCardReader, type SerialReaderEvent } from '../../../drivers/cards/serial-reader.ts';
import { PinPad } from '../../../drivers/pinpad/driver.ts';
import { SerialTransport } from '../../../drivers/transport/serial.ts';
import { TcpTransport } from '../../../drivers/transport/tcp.ts';
import type { Transport } from '../../../drivers/transport/transport.ts';
import { ZvtTerminal } from '../../../drivers/zvt/driver.ts';
import { testLog } from '../../fixtures/test-log.ts';

/** Resolves once `cond` holds (polled), or rejects after `timeoutMs`. */
export async function until(cond: () => boolean, timeoutMs = 5000, what = 'condition'): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`${what} not met after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

export function serialPort(path: string): SerialTransport {
  return new SerialTransport({ path, baudRate: 9600, livenessIntervalMs: 100 });
}

/** A SerialCardReader on `path`, collecting (and logging) its events. */
export async function openReader(path: string): Promise<{
  transport: SerialTransport;
  reader: SerialCardReader;
  events: SerialReaderEvent[];
  next: (timeoutMs?: number) => Promise<SerialReaderEvent>;
}> {
  const log = testLog('serial-reader');
  const transport = serialPort(path);
  const reader = new SerialCardReader(transport);
  const events: SerialReaderEvent[] = [];
  reader.on('event', (e) => {
    events.push(e);
    log(e);
  });
  transport.on('state', (s, err) => log({ state: s, error: err?.message }));
  await transport.open();
  let taken = 0;
  const next = async (timeoutMs = 5000): Promise<SerialReaderEvent> => {
    await until(() => events.length > taken, timeoutMs, 'a reader event');
    return events[taken++]!;
  };
  return { transport, reader, events, next };
}

export async function openPinPad(path: string): Promise<{ transport: SerialTransport; pad: PinPad }> {
  const log = testLog('pinpad-driver');
  const transport = serialPort(path);
  const pad = new PinPad(transport, { ackTimeoutMs: 1000, log });
  pad.on('event', log);
  await transport.open();
  return { transport, pad };
}

export async function openZvt(
  where: { path: string } | { tcp: string },
): Promise<{ transport: Transport; terminal: ZvtTerminal }> {
  const log = testLog('zvt-driver');
  let transport: Transport;
  if ('path' in where) transport = serialPort(where.path);
  else {
    const [host, port] = where.tcp.split(':');
    transport = new TcpTransport({ host: host!, port: Number(port) });
  }
  const terminal = new ZvtTerminal({
    transport,
    framing: 'path' in where ? 'serial' : 'tcp',
    commandTimeoutMs: 10_000,
  });
  terminal.on('log', log);
  terminal.on('event', log);
  await terminal.open();
  return { transport, terminal };
}

export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

export const gone = (path: string): boolean => !existsSync(path);

/** The socat processes whose arguments name a path under `dir`, found in /proc (not in any record). */
export function socatsUnder(dir: string): number[] {
  const pids: number[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    let argv: string[];
    try {
      argv = readFileSync(`/proc/${name}/cmdline`, 'utf8').split('\0');
    } catch {
      continue; // it ended while we looked
    }
    if (argv[0]?.endsWith('socat') && argv.some((a) => a.includes(`link=${dir}/`))) pids.push(Number(name));
  }
  return pids;
}
