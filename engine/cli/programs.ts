// `programs create|list`: cashback programs (seed 002's "cards"). Amounts are decimal text parsed
// exactly into minor units; percentages become basis points.
import type { Command } from 'commander';
import {
  currency as currencyOf,
  formatAmount,
  formatPercent,
  parseAmount,
  parsePercent,
} from '../../contract/money.ts';
import { createProgram, listPrograms, type Program } from '../domain/programs.ts';
import {
  fields,
  isoTime,
  jsonOption,
  parseOption,
  print,
  printJson,
  storeOptions,
  table,
  wholeNumber,
  withStore,
  type JsonFlag,
  type StoreFlags,
} from './common.ts';

interface CreateFlags extends StoreFlags, JsonFlag {
  id: string;
  name: string;
  currency: string;
  percent: string;
  min?: string;
  max?: string;
  pin?: boolean;
  maturationDays?: number;
  expiryDays?: number;
  description?: string;
}

const days = (n: number | null, none: string) => (n === null ? none : n === 0 ? 'at once' : `${n} days`);

/** JSON output: amounts in integer minor units and rates in basis points, as the ledger keeps them. */
const programJson = (p: Program) => ({
  cardId: p.id,
  uniqueIdentifier: p.uniqueIdentifier,
  name: p.name,
  description: p.description,
  currency: p.currency,
  cashbackBps: p.cashbackBps,
  minPurchase: p.minPurchase,
  maxCashback: p.maxCashback,
  allowsPinRedemption: p.allowsPinRedemption,
  maturationDays: p.maturationDays,
  expiryDays: p.expiryDays,
  createdAt: isoTime(p.createdAt),
});

export function registerPrograms(program: Command): void {
  const programs = program
    .command('programs')
    .description('cashback programs (the "cards" of the seed 002 loyalty API)');

  jsonOption(
    storeOptions(
      programs
        .command('create')
        .description('create a cashback program')
        .requiredOption('--id <uniqueIdentifier>', 'unique identifier, e.g. CASH-001')
        .requiredOption('--name <name>', 'display name')
        .requiredOption('--currency <code>', 'ISO 4217 code, e.g. AUD')
        .requiredOption('--percent <percent>', 'cashback percentage, e.g. 5 or 2.5')
        .option('--min <amount>', 'minimum purchase, decimal, e.g. 10.00 (default 0)')
        .option('--max <amount>', 'maximum cashback per purchase, decimal, e.g. 1000.00 (default none)')
        .option('--pin', 'allow redemption with a PIN instead of a member token')
        .option(
          '--maturation-days <n>',
          'days before earned cashback is available (default 0)',
          wholeNumber(0),
        )
        .option(
          '--expiry-days <n>',
          'days after which earned cashback expires (default never)',
          wholeNumber(1),
        )
        .option('--description <text>', 'description'),
    ),
  ).action(async (opts: CreateFlags) => {
    const currency = opts.currency.toUpperCase();
    parseOption('--currency', () => currencyOf(currency));
    const cashbackBps = parseOption('--percent', () => parsePercent(opts.percent));
    const { min, max } = opts;
    const minPurchase =
      min === undefined ? 0 : parseOption('--min', () => parseAmount(min, currency, { allowZero: true }));
    const maxCashback = max === undefined ? null : parseOption('--max', () => parseAmount(max, currency));
    const created = await withStore(opts, 'create', (store) =>
      store.transact((tx) =>
        createProgram(
          tx,
          {
            uniqueIdentifier: opts.id,
            name: opts.name,
            description: opts.description ?? '',
            currency,
            cashbackBps,
            minPurchase,
            maxCashback,
            allowsPinRedemption: opts.pin === true,
            maturationDays: opts.maturationDays ?? 0,
            expiryDays: opts.expiryDays ?? null,
          },
          Date.now(),
        ),
      ),
    );
    if (opts.json) {
      printJson(programJson(created));
      return;
    }
    const c = created.currency;
    print(`Created program ${created.uniqueIdentifier}: card_id ${created.id} in the seed 002 API`);
    print(
      fields([
        ['Name', created.name],
        ['Currency', c],
        ['Cashback', `${formatPercent(created.cashbackBps)}%`],
        ['Minimum purchase', `${formatAmount(created.minPurchase, c)} ${c}`],
        [
          'Max per purchase',
          created.maxCashback === null ? 'no cap' : `${formatAmount(created.maxCashback, c)} ${c}`,
        ],
        ['PIN redemption', created.allowsPinRedemption ? 'allowed' : 'not allowed'],
        ['Available', days(created.maturationDays, 'at once')],
        ['Expires', days(created.expiryDays, 'never')],
      ]),
    );
  });

  jsonOption(storeOptions(programs.command('list').description('list cashback programs'))).action(
    async (opts: StoreFlags & JsonFlag) => {
      const list = await withStore(opts, 'existing', (store) => store.read((tx) => listPrograms(tx)));
      if (opts.json) {
        printJson(list.map(programJson));
        return;
      }
      if (list.length === 0) {
        print(
          'No programs yet. Create one: programs create --id CASH-001 --name "Cashback" --currency AUD --percent 5',
        );
        return;
      }
      const right = (header: string) => ({ header, align: 'right' as const });
      print(
        table(
          [
            right('CARD ID'),
            'IDENTIFIER',
            'NAME',
            'CURRENCY',
            right('PERCENT'),
            right('MIN PURCHASE'),
            right('MAX CASHBACK'),
            'PIN',
            'MATURES',
            'EXPIRES',
          ],
          list.map((p) => [
            String(p.id),
            p.uniqueIdentifier,
            p.name,
            p.currency,
            `${formatPercent(p.cashbackBps)}%`,
            formatAmount(p.minPurchase, p.currency),
            p.maxCashback === null ? '-' : formatAmount(p.maxCashback, p.currency),
            p.allowsPinRedemption ? 'yes' : 'no',
            days(p.maturationDays, 'at once'),
            days(p.expiryDays, 'never'),
          ]),
        ),
      );
    },
  );
}
