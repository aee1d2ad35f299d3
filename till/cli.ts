// Browser mode, `npm start`: the till core with the embedded engine (or a central one with
// --engine-url), simulated terminals when none is attached, simulator commands read from stdin (the
// language of `npm run simulate`), and the screens' URLs, the launch token and commands to paste
// printed once it is up. Stops on Ctrl+C, SIGTERM or `quit`. Exit codes: 0 stopped, 1 failed, 2 bad
// configuration or usage.
import { createInterface } from 'node:readline';
import { Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import { trustProxyFromText } from '../engine/config.ts';
import { demoNotifier } from '../engine/demo.ts';
import { banner, tryItCommands } from './banner.ts';
import { DEFAULT_MANAGER_NAME, startTill, type Till } from './core.ts';
import { SIMULATE_MODES, TillConfigError, loadTillConfig, type TillConfigInput } from './config.ts';

interface Flags {
  config?: string;
  dataDir?: string;
  port?: number;
  engineHost?: string;
  enginePort?: number;
  publicUrl?: string;
  tlsCert?: string;
  tlsKey?: string;
  trustProxy?: string;
  engineUrl?: string;
  appId?: string;
  apiKey?: string;
  tokenizationKey?: string;
  programId?: number;
  currency?: string;
  simulate?: (typeof SIMULATE_MODES)[number];
}

function wholeNumber(value: string): number {
  if (!/^\d+$/.test(value)) throw new InvalidArgumentError('Expected a whole number.');
  return Number(value);
}

function buildProgram(): Command {
  return new Command('tillback-till')
    .description('The Tillback till in browser mode: the till core, its local API and the embedded engine')
    .option('--config <file>', 'JSON config file (default: $TILLBACK_TILL_CONFIG)')
    .option('--data-dir <dir>', 'where the till keeps its files (default data/till)')
    .option('--port <n>', 'port of the local API (default: any free one)', wholeNumber)
    .option('--engine-host <host>', 'address the embedded engine listens on (default 127.0.0.1)')
    .option('--engine-port <n>', "the embedded engine's port (default: any free one)", wholeNumber)
    .option('--public-url <url>', "the embedded engine's URL as customers' phones reach it (claim pages)")
    .option('--tls-cert <file>', "the embedded engine's HTTPS certificate (PEM)")
    .option('--tls-key <file>', "the embedded engine's HTTPS key (PEM)")
    .option('--trust-proxy <list>', 'behind a TLS proxy: its addresses or CIDRs, comma-separated, or true')
    .option('--engine-url <url>', 'use this central engine instead of the embedded one')
    .option('--app-id <id>', "the till's app id at the central engine")
    .option('--api-key <key>', "the till's API key at the central engine")
    .option('--tokenization-key <key>', "the central engine's card hash key (shared by the chain's tills)")
    .option('--program-id <n>', 'the program earns go to (needed with --engine-url)', wholeNumber)
    .option('--currency <code>', "the program's currency (default AUD)")
    .addOption(
      new Option('--simulate <when>', 'simulated terminals (default: auto, when none is attached)').choices(
        SIMULATE_MODES,
      ),
    )
    .showHelpAfterError('(run with --help for usage)')
    .exitOverride();
}

const print = (line = '') => process.stdout.write(`${line}\n`);

async function main(argv: string[]): Promise<number | undefined> {
  const program = buildProgram();
  try {
    program.parse(argv);
  } catch (error) {
    if (error instanceof CommanderError) return error.exitCode === 0 ? 0 : 2;
    throw error;
  }
  const flags = program.opts<Flags>();
  const overrides: TillConfigInput = {
    dataDir: flags.dataDir,
    engine: {
      listen: { host: flags.engineHost, port: flags.enginePort },
      publicUrl: flags.publicUrl,
      // Both files or neither: the schema names the missing one.
      tls:
        flags.tlsCert === undefined && flags.tlsKey === undefined
          ? undefined
          : ({ certFile: flags.tlsCert, keyFile: flags.tlsKey } as { certFile: string; keyFile: string }),
      trustProxy: flags.trustProxy === undefined ? undefined : trustProxyFromText(flags.trustProxy),
      url: flags.engineUrl,
      appId: flags.appId,
      apiKey: flags.apiKey,
      tokenizationKey: flags.tokenizationKey,
    },
    program: { id: flags.programId, currency: flags.currency },
    api: { port: flags.port },
    devices: { simulate: flags.simulate },
  };
  let till: Till;
  try {
    const config = loadTillConfig({ file: flags.config, overrides });
    till = await startTill(config, { simulate: 'auto', simulatorOut: print, notifier: demoNotifier(print) });
    for (const line of banner(till)) print(line);
    print();
    print('Try it (paste into a shell):');
    const manager = {
      name: config.api.firstManager?.name ?? DEFAULT_MANAGER_NAME,
      pin: till.firstManager?.generatedPin,
    };
    for (const line of tryItCommands(till, manager)) print(`  ${line}`);
    print();
    print('Stop with Ctrl+C.');
  } catch (error) {
    if (error instanceof TillConfigError) {
      process.stderr.write(`${error.message}\n`);
      return 2;
    }
    process.stderr.write(
      `The till could not start: ${error instanceof Error ? error.message : String(error)}\n`,
    );
    return 1;
  }

  const stop = () => void till.close().catch(() => (process.exitCode = 1));
  const interactive = process.stdin.isTTY === true;
  const lines = createInterface({
    input: process.stdin,
    ...(interactive ? { output: process.stdout, terminal: true } : { terminal: false }),
  });
  // In a terminal readline reads Ctrl+C itself (raw mode, no signal): it stops the till as SIGINT does.
  lines.on('SIGINT', stop);
  lines.on('line', (line) => {
    const sim = till.simulation;
    if (!sim) {
      if (line.trim() === 'quit') stop();
      else if (line.trim()) print('No simulated terminals in this run (quit stops the till).');
      return;
    }
    void sim.run(line).then((result) => {
      if (result === 'quit') stop();
    });
  });
  await till.closed;
  lines.close();
  print('Stopped: the queue is kept in the till file and goes on at the next start.');
  // stdin may still hold the event loop open.
  process.exit(process.exitCode ?? 0);
}

const code = await main(process.argv);
if (code !== undefined) process.exitCode = code;
