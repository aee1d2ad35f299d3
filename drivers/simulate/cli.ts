// `npm run simulate`: simulated card reader, PIN pad, ZVT terminals (serial and TCP) and barcode scanner
// over socat pseudo-terminals, with a manifest file per device for the device manager. Commands come from
// `--script <file>`, then the arguments (one command each), then stdin (typed, or piped) until `quit`,
// SIGINT or SIGTERM; every way out removes the manifests and links and stops every socat.
// Exit codes: 0 done, 1 failed to start, 2 bad usage or a bad script (nothing started).
import { readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import { HELP, parseScript, type Command as SimCommand } from './commands.ts';
import { DEVICE_KINDS, type DeviceKind } from './devices.ts';
import {
  DEFAULT_DEVICE_DIR,
  describeDevice,
  startSimulation,
  type SimulationController,
} from './simulation.ts';

interface CliOptions {
  dir: string;
  devices: DeviceKind[];
  zvtPort: number;
  baud: number;
  script?: string;
}

function parseKinds(value: string): DeviceKind[] {
  const kinds = value.split(',').map((k) => k.trim());
  for (const k of kinds) {
    if (!(DEVICE_KINDS as readonly string[]).includes(k))
      throw new InvalidArgumentError(`devices are ${DEVICE_KINDS.join(', ')}`);
  }
  return kinds as DeviceKind[];
}

function parsePort(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0 || n > 65535) throw new InvalidArgumentError('a port is 0..65535');
  return n;
}

function parseBaud(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 50 || n > 4_000_000)
    throw new InvalidArgumentError('a baud rate is 50..4000000');
  return n;
}

function buildProgram(): Command {
  return new Command('simulate')
    .description('Simulated terminals over socat pseudo-terminals (and ZVT over TCP), driven by commands')
    .option('--dir <dir>', 'where manifest files and device links go', DEFAULT_DEVICE_DIR)
    .addOption(
      new Option('--devices <kinds>', `comma-separated, repeats allowed (${DEVICE_KINDS.join(',')})`)
        .default([...DEVICE_KINDS], DEVICE_KINDS.join(','))
        .argParser(parseKinds),
    )
    .option('--zvt-port <port>', 'TCP port of the LAN ZVT terminal (0: any free port)', parsePort, 0)
    .option('--baud <rate>', 'baud rate of the serial devices', parseBaud, 9600)
    .option('--script <file>', 'run the commands of this file first')
    .argument('[commands...]', 'commands to run after the script, one per argument, e.g. "swipe visa"')
    .addHelpText('after', `\n${HELP}`)
    .showHelpAfterError('(run with --help for usage)')
    .exitOverride();
}

async function main(argv: string[]): Promise<number> {
  const program = buildProgram();
  try {
    program.parse(argv);
  } catch (err) {
    if (err instanceof CommanderError) return err.exitCode === 0 ? 0 : 2;
    throw err;
  }
  const opts = program.opts<CliOptions>();
  let scriptText = '';
  if (opts.script) {
    try {
      scriptText = readFileSync(opts.script, 'utf8');
    } catch (err) {
      console.error(`cannot read the script: ${err instanceof Error ? err.message : String(err)}`);
      return 2;
    }
  }
  const parsed = parseScript([scriptText, ...program.args].join('\n'));
  if (!parsed.ok) {
    for (const e of parsed.errors) console.error(`script ${e}`);
    return 2;
  }

  let sim: SimulationController;
  try {
    sim = await startSimulation({
      dir: opts.dir,
      devices: opts.devices,
      zvtTcpPort: opts.zvtPort,
      baudRate: opts.baud,
    });
  } catch (err) {
    console.error(`cannot start the simulation: ${err instanceof Error ? err.message : String(err)}`);
    return 1;
  }
  let quitting: Promise<number> | undefined;
  const quit = (code: number): Promise<number> =>
    (quitting ??= sim.stop().then(() => {
      console.log('stopped: manifests and links removed, socat stopped');
      return code;
    }));
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.once(signal, () => void quit(0).then((code) => process.exit(code)));
  }

  console.log(`ready: ${sim.devices().length} simulated devices, manifests in ${sim.dir}`);
  for (const d of sim.devices()) console.log(describeDevice(d));
  console.log('type help for the commands');

  if (await runAll(sim, parsed.commands)) return quit(0);
  const interactive = process.stdin.isTTY === true;
  const lines = createInterface({
    input: process.stdin,
    ...(interactive ? { output: process.stdout, terminal: true, prompt: 'simulate> ' } : { terminal: false }),
  });
  // In a terminal readline reads Ctrl-C itself (raw mode, no signal): it quits as SIGINT does.
  lines.on('SIGINT', () => void quit(0).then((code) => process.exit(code)));
  lines.prompt();
  let quitCommand = false;
  for await (const line of lines) {
    if ((await sim.run(line)) === 'quit') {
      quitCommand = true;
      break;
    }
    lines.prompt();
  }
  lines.close();
  // Ctrl-D at the prompt quits. A piped stdin that ended (a script, /dev/null, a background job) leaves
  // the devices playing until SIGINT or SIGTERM.
  if (quitCommand || interactive) return quit(0);
  return new Promise<number>(() => undefined);
}

/** Runs the script's commands in order; true when one of them was `quit`. A failing command is reported. */
async function runAll(sim: SimulationController, commands: SimCommand[]): Promise<boolean> {
  for (const c of commands) {
    try {
      if ((await sim.execute(c)) === 'quit') return true;
    } catch (err) {
      console.log(`error: ${err instanceof Error ? err.message : String(err)}`);
    }
  }
  return false;
}

process.exitCode = await main(process.argv);
