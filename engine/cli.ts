// The engine's command line: `npm run engine -- <command>`. Setup without SQL (apps and keys,
// programs, partners), `verify` for the ledger, `webhooks` to list and re-send deliveries, and
// `serve` to run the engine (`serve --demo` adds demo data). Exit codes: 0 done, 1 refused or
// failed, 2 bad configuration or usage.
import { Command, CommanderError } from 'commander';
import { registerApps } from './cli/apps.ts';
import { EXIT, reportError } from './cli/common.ts';
import { registerPartners } from './cli/partners.ts';
import { registerPrograms } from './cli/programs.ts';
import { registerServe } from './cli/serve.ts';
import { registerVerify } from './cli/verify.ts';
import { registerWebhooks } from './cli/webhooks.ts';

function buildProgram(): Command {
  const program = new Command('tillback-engine')
    .description('Tillback cashback engine: run it, set it up, check its ledger')
    .showHelpAfterError('(run with --help for usage)')
    .exitOverride();
  registerServe(program);
  registerApps(program);
  registerPrograms(program);
  registerPartners(program);
  registerVerify(program);
  registerWebhooks(program);
  return program;
}

async function main(argv: string[]): Promise<number | undefined> {
  try {
    await buildProgram().parseAsync(argv);
    return undefined;
  } catch (error) {
    if (error instanceof CommanderError) {
      // Commander has printed the message (or the help); usage errors exit 2, help and version 0.
      return error.exitCode === 0 ? EXIT.ok : EXIT.usage;
    }
    return reportError(error);
  }
}

const code = await main(process.argv);
if (code !== undefined) process.exitCode = code;
