// `npm run load -- <scenario> [options]`: a load or fault scenario against real engine processes on
// one database, printing its figures and a verdict per check. Exit 0 when every check passes, 1 on
// any violation, 2 on bad usage. Progress goes to stderr, the report to stdout.
//
//   npm run load -- steady                  8 tills on 12 shared members for 60 s, then the checks
//   npm run load -- kill --seconds 30       the same while engines are SIGKILLed and restarted
//   npm run load -- steady --store postgres --engines 4   four engine processes on one PostgreSQL
//   npm run load -- pg-restart --store postgres --engines 2
//   npm run load -- steady --tills 4 --in-flight 2 --members 6 --keep
import { Argument, Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import { renderReport } from './report.ts';
import { STORES, type StoreKind } from './database.ts';
import { DEFAULT_OPTIONS, runScenario, SCENARIOS, type Scenario } from './scenario.ts';

const whole = (min: number) => (value: string) => {
  if (!/^\d+$/.test(value) || Number(value) < min)
    throw new InvalidArgumentError(`a whole number of at least ${min}`);
  return Number(value);
};

const program = new Command('load')
  .description('load and fault scenarios against engine processes on one database (bench/README.md)')
  .addArgument(new Argument('<scenario>', 'what to run (bench/README.md)').choices(SCENARIOS))
  .addOption(
    new Option('--seconds <n>', 'how long the load runs')
      .argParser(whole(1))
      .default(DEFAULT_OPTIONS.seconds),
  )
  .addOption(
    new Option('--store <kind>', 'sqlite (one engine on a file) or postgres (a throwaway server)')
      .choices(STORES)
      .default(DEFAULT_OPTIONS.store),
  )
  .addOption(
    new Option('--engines <n>', 'engine processes on the database')
      .argParser(whole(1))
      .default(DEFAULT_OPTIONS.engines),
  )
  .addOption(
    new Option('--tills <n>', 'tills, each with its own app')
      .argParser(whole(1))
      .default(DEFAULT_OPTIONS.tills),
  )
  .addOption(
    new Option('--in-flight <n>', 'requests in flight per till')
      .argParser(whole(1))
      .default(DEFAULT_OPTIONS.inFlight),
  )
  .addOption(
    new Option('--members <n>', 'members every till shares')
      .argParser(whole(1))
      .default(DEFAULT_OPTIONS.members),
  )
  .addOption(
    new Option('--settle <seconds>', 'longest wait for payouts and webhooks after the load')
      .argParser(whole(1))
      .default(DEFAULT_OPTIONS.settleSeconds),
  )
  .option('--dir <dir>', 'where the run directory goes (default the OS temp dir)')
  .option('--keep', 'keep the run directory (database, config, engine logs)')
  .exitOverride()
  .action(
    async (
      scenario: Scenario,
      opts: {
        store: StoreKind;
        seconds: number;
        engines: number;
        tills: number;
        inFlight: number;
        members: number;
        settle: number;
        dir?: string;
        keep?: boolean;
      },
    ) => {
      if (opts.engines > 1 && opts.store === 'sqlite') {
        program.error('several engine processes need PostgreSQL (--store postgres): SQLite runs one engine');
      }
      if (scenario === 'pg-restart' && opts.store !== 'postgres') {
        program.error('pg-restart restarts PostgreSQL: add --store postgres');
      }
      const report = await runScenario({
        ...DEFAULT_OPTIONS,
        scenario,
        store: opts.store,
        seconds: opts.seconds,
        engines: opts.engines,
        tills: opts.tills,
        inFlight: opts.inFlight,
        members: opts.members,
        settleSeconds: opts.settle,
        baseDir: opts.dir,
        keep: opts.keep,
        progress: (line) => process.stderr.write(`[load] ${line}\n`),
      });
      process.stdout.write(`${renderReport(report)}\n`);
      process.exitCode = report.ok ? 0 : 1;
    },
  );

try {
  await program.parseAsync(process.argv);
} catch (error) {
  // Commander has printed the usage error (or the help).
  if (error instanceof CommanderError) process.exitCode = error.exitCode === 0 ? 0 : 2;
  else throw error;
}
