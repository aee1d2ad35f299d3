// `verify`: recomputes every balance from the transfers and checks the ledger's invariants. Exit 0
// when the ledger is consistent, 1 when it is not.
import type { Command } from 'commander';
import { formatAmount, isCurrency } from '../../contract/money.ts';
import { verifyLedger } from '../domain/ledger.ts';
import {
  EXIT,
  jsonOption,
  print,
  printJson,
  storeOptions,
  table,
  withStore,
  type JsonFlag,
  type StoreFlags,
} from './common.ts';

const amount = (minor: number, currency: string) =>
  isCurrency(currency) ? formatAmount(minor, currency) : String(minor);

export function registerVerify(program: Command): void {
  jsonOption(
    storeOptions(
      program
        .command('verify')
        .description('recompute every balance from the transfers and report any difference (exit 1 if any)'),
    ),
  ).action(async (opts: StoreFlags & JsonFlag) => {
    const report = await withStore(opts, 'existing', (store) => store.read((tx) => verifyLedger(tx)));
    const ok = report.problems.length === 0;
    process.exitCode = ok ? EXIT.ok : EXIT.failed;
    const currencies = Object.entries(report.currencies).sort(([a], [b]) => a.localeCompare(b));
    if (opts.json) {
      printJson({
        ok,
        accounts: report.accounts,
        transfers: report.transfers,
        currencies: Object.fromEntries(
          currencies.map(([code, c]) => [code, { ...c, balanced: c.debits === c.credits }]),
        ),
        problems: report.problems,
      });
      return;
    }
    print(`Accounts:  ${report.accounts}`);
    print(`Transfers: ${report.transfers}`);
    if (currencies.length > 0) {
      print();
      print(
        table(
          [
            'CURRENCY',
            { header: 'DEBITS', align: 'right' },
            { header: 'CREDITS', align: 'right' },
            'BALANCED',
          ],
          currencies.map(([code, c]) => [
            code,
            amount(c.debits, code),
            amount(c.credits, code),
            c.debits === c.credits ? 'yes' : 'NO',
          ]),
        ),
      );
    }
    print();
    if (ok) {
      print('Ledger OK: every cached balance matches its transfers, and debits equal credits per currency.');
      return;
    }
    print(`Ledger has ${report.problems.length} problem${report.problems.length === 1 ? '' : 's'}:`);
    for (const p of report.problems) print(`  - [${p.kind}] ${p.message}`);
  });
}
