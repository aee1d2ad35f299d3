// `partners create|list|deposit`: seed 004 partners (an app with the "partner" scope), their
// cashback rates and their prepaid deposit, which funds the extra cashback they offer.
import { randomUUID } from 'node:crypto';
import type { Command } from 'commander';
import { formatAmount, formatPercent, parseAmount, parsePercent } from '../../contract/money.ts';
import { createPartner, depositToPartner, listPartners, type Partner } from '../domain/partners.ts';
import { domainContext } from '../domain-context.ts';
import {
  fields,
  isoTime,
  jsonOption,
  parseOption,
  print,
  printJson,
  storeOptions,
  table,
  withStore,
  type JsonFlag,
  type StoreFlags,
} from './common.ts';

const partnerJson = (p: Partner & { deposit?: number }) => ({
  appId: p.appId,
  name: p.name,
  unit: p.unit,
  baseBps: p.baseBps,
  maxPartnerBps: p.maxPartnerBps,
  ...(p.deposit !== undefined ? { deposit: p.deposit } : {}),
  createdAt: isoTime(p.createdAt),
});

export function registerPartners(program: Command): void {
  const partners = program
    .command('partners')
    .description('partners of the seed 004 partner cashback API and their deposits');

  jsonOption(
    storeOptions(
      partners
        .command('create')
        .description('make an app (with the "partner" scope) a cashback partner')
        .requiredOption(
          '--app <appId>',
          'the partner\'s app; its id and secret are "partner" and "partner_key"',
        )
        .option('--unit <code>', 'unit cashback is paid and the deposit kept in', 'GBYTE')
        .requiredOption('--base-percent <percent>', 'regular cashback paid by the fund, e.g. 1')
        .option(
          '--max-partner-percent <percent>',
          'highest partner_cashback_percentage allowed (default 10)',
        ),
    ),
  ).action(
    async (
      opts: StoreFlags &
        JsonFlag & { app: string; unit: string; basePercent: string; maxPartnerPercent?: string },
    ) => {
      const baseBps = parseOption('--base-percent', () => parsePercent(opts.basePercent));
      const maxPercent = opts.maxPartnerPercent;
      const maxPartnerBps =
        maxPercent === undefined
          ? undefined
          : parseOption('--max-partner-percent', () => parsePercent(maxPercent));
      const partner = await withStore(opts, 'create', (store) =>
        store.transact((tx) =>
          createPartner(
            tx,
            {
              appId: opts.app,
              unit: opts.unit.toUpperCase(),
              baseBps,
              ...(maxPartnerBps !== undefined ? { maxPartnerBps } : {}),
            },
            Date.now(),
          ),
        ),
      );
      if (opts.json) {
        printJson(partnerJson(partner));
        return;
      }
      print(`App ${partner.appId} (${partner.name}) is now a cashback partner`);
      print(
        fields([
          ['Unit', partner.unit],
          ['Base cashback', `${formatPercent(partner.baseBps)}% (from the fund)`],
          ['Max partner percent', `${formatPercent(partner.maxPartnerBps)}%`],
          ['Deposit', `${formatAmount(0, partner.unit)} ${partner.unit}`],
        ]),
      );
      print();
      print(`Fund the partner's extra cashback: partners deposit ${partner.appId} <amount>`);
    },
  );

  jsonOption(storeOptions(partners.command('list').description('list partners with their deposits'))).action(
    async (opts: StoreFlags & JsonFlag) => {
      const list = await withStore(opts, 'existing', (store) => store.read((tx) => listPartners(tx)));
      if (opts.json) {
        printJson(list.map(partnerJson));
        return;
      }
      if (list.length === 0) {
        print('No partners yet. Create one: partners create --app <appId> --base-percent 1');
        return;
      }
      print(
        table(
          [
            'APP ID',
            'NAME',
            'UNIT',
            { header: 'BASE %', align: 'right' },
            { header: 'MAX PARTNER %', align: 'right' },
            { header: 'DEPOSIT', align: 'right' },
          ],
          list.map((p) => [
            p.appId,
            p.name,
            p.unit,
            formatPercent(p.baseBps),
            formatPercent(p.maxPartnerBps),
            formatAmount(p.deposit, p.unit),
          ]),
        ),
      );
    },
  );

  jsonOption(
    storeOptions(
      partners
        .command('deposit')
        .description("add to a partner's deposit (a ledger transfer from the partner's funding account)")
        .argument('<appId>', 'the partner app')
        .argument('<amount>', "decimal amount in the partner's unit, e.g. 12.5")
        .option('--reference <text>', 'your reference for this deposit, e.g. a bank transfer id')
        .option('--key <idempotencyKey>', 'idempotency key: repeat it to retry safely (default: a new one)'),
    ),
  ).action(
    async (
      appId: string,
      amount: string,
      opts: StoreFlags & JsonFlag & { reference?: string; key?: string },
    ) => {
      const key = opts.key ?? `cli-${randomUUID()}`;
      const result = await withStore(opts, 'existing', (store, config) =>
        depositToPartner(domainContext(store, config), {
          appId,
          amount: { decimal: amount },
          ...(opts.reference !== undefined ? { reference: opts.reference } : {}),
          idempotency: { appId, scope: 'cli:partner_deposit', key },
        }),
      );
      if (opts.json) {
        printJson({ ...result, idempotencyKey: key });
        return;
      }
      const unit = result.unit;
      print(
        result.replayed
          ? `Already deposited with key ${key} (transaction ${result.transactionId}); nothing changed.`
          : `Deposited ${formatAmount(parseAmount(amount, unit), unit)} ${unit} to partner ${appId} (transaction ${result.transactionId}).`,
      );
      print(
        fields([
          [
            result.replayed ? 'Deposit after it' : 'Deposit now',
            `${formatAmount(result.deposit, unit)} ${unit}`,
          ],
          ['Idempotency key', `${key} (repeat with --key to retry safely)`],
        ]),
      );
    },
  );
}
