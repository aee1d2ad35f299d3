// `npm run devices -- list | watch | test <id>`: the attached terminals and their live events.
// list   one enumeration (with probing), then a table: id, kind, driver, path, state
// watch  one line per event, with its time; after a swipe it asks a connected PIN pad for the PIN of that
//        card as a till would (--no-pin turns that off) and shows the KSN, never the PIN or the block
// test   a harmless self-test of one device (ZVT status enquiry, PIN pad cancel, reader link check)
// --json prints one JSON object per line. Exit codes: 0 done, 1 failed, 2 usage.
import { Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import { DEFAULT_MANIFEST_DIR, DeviceManager } from './devices/manager.ts';
import type { DeviceInfo, ManagerEvent } from './devices/events.ts';

interface CommonOptions {
  manifest: string;
  json: boolean;
  probe: boolean;
  pollMs: number;
}

function withCommon(cmd: Command): Command {
  return cmd
    .option('--manifest <dir>', 'manifest directory of ports enumeration cannot see', DEFAULT_MANIFEST_DIR)
    .option('--json', 'one JSON object per line', false)
    .option('--no-probe', 'do not probe serial ports that no VID/PID or name matched')
    .addOption(new Option('--poll-ms <ms>', 'enumeration interval').default(1000).argParser(positiveInt));
}

function positiveInt(text: string): number {
  const n = Number(text);
  if (!Number.isInteger(n) || n <= 0) throw new InvalidArgumentError('not a positive integer');
  return n;
}

function managerFor(o: CommonOptions): DeviceManager {
  return new DeviceManager({ manifestDir: o.manifest, probe: o.probe, pollIntervalMs: o.pollMs });
}

const COLUMNS = ['id', 'kind', 'driver', 'path', 'state'] as const;

function table(devices: DeviceInfo[]): string {
  const rows = devices.map((d) => [d.id, d.kind, d.driver ?? '-', d.path, d.state]);
  const widths = COLUMNS.map((c, i) => Math.max(c.length, ...rows.map((r) => r[i]?.length ?? 0)));
  const line = (cells: readonly string[]): string =>
    cells
      .map((c, i) => c.padEnd(widths[i] ?? 0))
      .join('  ')
      .trimEnd();
  return [line(COLUMNS), ...rows.map(line)].join('\n');
}

/** One line of text per event: time, device, what happened. Every field is already redacted. */
function describeEvent(e: ManagerEvent): string {
  const time = new Date(e.at).toISOString();
  if (e.type === 'notice') return `${time}  notice ${e.source}: ${e.message}`;
  let what: string;
  switch (e.type) {
    case 'added':
      what = `added ${e.device.kind} driver=${e.device.driver ?? '-'} matched=${e.device.matchedBy ?? '-'} path=${e.device.path}`;
      break;
    case 'state':
      what = `state ${e.state}${e.reason ? ` (${e.reason})` : ''}`;
      break;
    case 'frame':
      what = `${e.direction} ${e.summary}${e.length === undefined ? '' : ` (${e.length} bytes)`}`;
      break;
    case 'error':
      what = `error ${e.code}: ${e.message}`;
      break;
    case 'card':
      what = `card ${e.panMasked} expires ${e.expiry} (track ${e.track})`;
      break;
    case 'scan':
      what = `scan ${e.scan.kind}${'memberNumber' in e.scan ? ` ${e.scan.memberNumber}` : ''}${'receiptCode' in e.scan ? ` ${e.scan.receiptCode}` : ''}`;
      break;
    case 'pin':
      what = `pin KSN ${e.ksn}, ${e.pinBlock} received`;
      break;
    case 'terminal':
      what = `terminal ${e.text}`;
      break;
  }
  return `${time}  ${e.deviceId}  ${what}`;
}

function printer(json: boolean): (e: ManagerEvent) => void {
  return (e) => console.log(json ? JSON.stringify(e) : describeEvent(e));
}

async function list(o: CommonOptions): Promise<void> {
  const manager = managerFor(o);
  const notices: ManagerEvent[] = [];
  manager.subscribe('*', (e) => {
    if (e.type === 'notice') notices.push(e);
  });
  await manager.pollOnce();
  await manager.settled();
  const devices = manager.list();
  await manager.close();
  if (o.json) {
    for (const n of notices) console.log(JSON.stringify(n));
    for (const d of devices) console.log(JSON.stringify({ type: 'device', ...d }));
    return;
  }
  for (const n of notices) console.error(describeEvent(n));
  console.log(table(devices));
}

async function watch(o: CommonOptions & { pin: boolean }): Promise<void> {
  const manager = managerFor(o);
  manager.subscribe('*', printer(o.json));
  let pinRunning = false;
  if (o.pin) {
    manager.on('swipe', ({ card }) => {
      if (pinRunning || !manager.list().some((d) => d.kind === 'pinpad' && d.state === 'connected')) return;
      pinRunning = true;
      // The pin event on the PIN pad's stream shows the KSN; the block itself is for the engine only.
      manager
        .enterPin(card)
        .catch(() => undefined) // the PIN pad's stream already carries the coded error
        .finally(() => (pinRunning = false));
    });
  }
  await manager.start();
  await new Promise<void>((resolve) => {
    const stop = (): void => {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      resolve();
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  });
  await manager.close();
}

async function test(id: string, o: CommonOptions): Promise<number> {
  const manager = managerFor(o);
  await manager.pollOnce();
  await manager.settled();
  try {
    const result = await manager.selfTest(id);
    console.log(
      o.json ? JSON.stringify({ type: 'test', deviceId: id, ok: true, result }) : `${id}: ${result}`,
    );
    return 0;
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    console.log(
      o.json
        ? JSON.stringify({ type: 'test', deviceId: id, ok: false, message })
        : `${id}: FAILED ${message}`,
    );
    return 1;
  } finally {
    await manager.close();
  }
}

async function main(argv: string[]): Promise<number> {
  let code = 0;
  const program = new Command('tillback-devices')
    .description('Tillback terminals: list them, watch their events, test one')
    .showHelpAfterError('(run with --help for usage)')
    .exitOverride();
  withCommon(program.command('list').description('attached devices as a table')).action((o: CommonOptions) =>
    list(o),
  );
  withCommon(program.command('watch').description('live events, one per line'))
    .option('--no-pin', 'do not ask the PIN pad for a PIN after a swipe')
    .action((o: CommonOptions & { pin: boolean }) => watch(o));
  withCommon(
    program.command('test').argument('<id>', 'device id from list').description('harmless self-test'),
  ).action(async (id: string, o: CommonOptions) => {
    code = await test(id, o);
  });
  try {
    await program.parseAsync(argv);
    return code;
  } catch (error) {
    if (error instanceof CommanderError) return error.exitCode === 0 ? 0 : 2;
    console.error(error instanceof Error ? error.message : String(error));
    return 1;
  }
}

process.exitCode = await main(process.argv);
