// `webhooks list|show|resend`: the webhook deliveries of the outbox, each attempt, and sending again.
// A re-send only marks the delivery due: the running engine's worker sends it within its poll
// interval (webhooks.pollIntervalMs), with the first body and event id.
import { InvalidArgumentError, type Command } from 'commander';
import {
  getDelivery,
  listDeliveries,
  resendWebhooks,
  type DeliveryStatus,
  type DeliverySummary,
} from '../domain/webhook-deliveries.ts';
import { listenForWebhooks } from './webhook-listen.ts';
import {
  CliError,
  EXIT,
  fields,
  isoTime,
  jsonOption,
  print,
  printJson,
  splitList,
  shortTime,
  storeOptions,
  table,
  wholeNumber,
  withStore,
  type JsonFlag,
  type StoreFlags,
} from './common.ts';

const STATUSES: readonly DeliveryStatus[] = ['pending', 'delivered', 'failed'];

function parseStatus(value: string): DeliveryStatus {
  const status = STATUSES.find((s) => s === value);
  if (!status) throw new InvalidArgumentError(`Expected one of ${STATUSES.join(', ')}.`);
  return status;
}

const deliveryJson = (d: DeliverySummary) => ({
  deliveryId: d.id,
  eventId: d.eventId,
  eventType: d.eventType,
  url: d.url,
  format: d.format,
  status: d.status,
  attempts: d.attempts,
  nextAttemptAt: isoTime(d.nextAttemptAt),
  lastStatusCode: d.lastStatusCode,
  lastError: d.lastError,
  deliveredAt: isoTime(d.deliveredAt),
  createdAt: isoTime(d.createdAt),
  headerNames: d.headerNames,
});

/** What happened last, in a few words. */
const outcome = (d: DeliverySummary) =>
  d.status === 'delivered'
    ? `delivered ${shortTime(d.deliveredAt ?? d.createdAt)}`
    : `${d.status}${d.lastError ? `: ${d.lastError.slice(0, 60)}` : ''}`;

function printDeliveries(list: DeliverySummary[]): void {
  print(
    table(
      ['DELIVERY', 'EVENT', 'TYPE', 'FORMAT', { header: 'TRIES', align: 'right' }, 'URL', 'STATUS'],
      list.map((d) => [d.id, d.eventId, d.eventType, d.format, String(d.attempts), d.url, outcome(d)]),
    ),
  );
}

export function registerWebhooks(program: Command): void {
  const webhooks = program
    .command('webhooks')
    .description('webhook deliveries: list them, show the attempts of one, send again');

  jsonOption(
    storeOptions(
      webhooks
        .command('list')
        .description('list deliveries, newest first')
        .option('--status <status>', `only ${STATUSES.join(', ')}`, parseStatus)
        .option('--event <eventId>', 'only the deliveries of this event')
        .option('--limit <n>', 'how many (default 50)', wholeNumber(1), 50),
    ),
  ).action(
    async (opts: StoreFlags & JsonFlag & { status?: DeliveryStatus; event?: string; limit: number }) => {
      const list = await withStore(opts, 'existing', (store) =>
        store.read((tx) =>
          listDeliveries(tx, { status: opts.status, eventId: opts.event, limit: opts.limit }),
        ),
      );
      if (opts.json) {
        printJson(list.map(deliveryJson));
        return;
      }
      if (list.length === 0) {
        print('No webhook deliveries.');
        return;
      }
      printDeliveries(list);
    },
  );

  jsonOption(
    storeOptions(
      webhooks
        .command('show')
        .description('one delivery with every attempt')
        .argument('<deliveryId>', 'dlv_...'),
    ),
  ).action(async (id: string, opts: StoreFlags & JsonFlag) => {
    const d = await withStore(opts, 'existing', (store) => store.read((tx) => getDelivery(tx, id)));
    if (opts.json) {
      printJson({
        ...deliveryJson(d),
        attemptLog: d.attemptLog.map((a) => ({ ...a, startedAt: isoTime(a.startedAt) })),
      });
      return;
    }
    print(
      fields([
        ['Delivery', d.id],
        ['Event', `${d.eventId} (${d.eventType})`],
        ['URL', `${d.url} (${d.format})`],
        ['Status', outcome(d)],
        ['Next attempt', d.nextAttemptAt === null ? '-' : `${shortTime(d.nextAttemptAt)} UTC`],
      ]),
    );
    if (d.attemptLog.length === 0) return;
    print();
    print(
      table(
        [
          { header: '#', align: 'right' },
          'STARTED (UTC)',
          'RESULT',
          { header: 'MS', align: 'right' },
          'RESPONSE',
        ],
        d.attemptLog.map((a) => [
          String(a.attempt),
          shortTime(a.startedAt),
          a.statusCode === null ? (a.error ?? '') : `HTTP ${a.statusCode}`,
          String(a.latencyMs),
          (a.responseExcerpt ?? '').replace(/\s+/g, ' ').slice(0, 60),
        ]),
      ),
    );
  });

  jsonOption(
    storeOptions(
      webhooks
        .command('resend')
        .description('send again now, with the same body and event id, and retry for a fresh window')
        .argument('<id>', 'a delivery (dlv_...) or an event (evt_...: all its deliveries)'),
    ),
  ).action(async (id: string, opts: StoreFlags & JsonFlag) => {
    const list = await withStore(opts, 'existing', (store) =>
      store.transact((tx) => resendWebhooks(tx, id, Date.now())),
    );
    if (opts.json) {
      printJson(list.map(deliveryJson));
      return;
    }
    print(`Queued ${list.length} deliver${list.length === 1 ? 'y' : 'ies'} to send again:`);
    printDeliveries(list);
    print();
    print('A running engine sends them within its poll interval (webhooks.pollIntervalMs).');
  });

  webhooks
    .command('listen')
    .description(
      'a local receiver that checks each signature and prints each event (for trying webhooks out)',
    )
    .option('--host <host>', 'address to listen on', '127.0.0.1')
    .option('--port <n>', 'port (0: any free port)', wholeNumber(0), 9000)
    .option(
      '--secret <secret>',
      'a secret to accept; repeat it during a rotation (or set TILLBACK_WEBHOOK_LISTEN_SECRET)',
      (value: string, previous: string[] = []) => [...previous, value],
    )
    .option('--json', 'one JSON line per request, with the verified body')
    .action(async (opts: { host: string; port: number; secret?: string[]; json?: boolean }) => {
      const secrets = opts.secret ?? splitList(process.env['TILLBACK_WEBHOOK_LISTEN_SECRET'] ?? '');
      if (secrets.length === 0) {
        throw new CliError(
          'give the subscriber secret with --secret <secret> or TILLBACK_WEBHOOK_LISTEN_SECRET',
          EXIT.usage,
        );
      }
      // Signals are caught before the address is printed: a supervisor may stop us as soon as it reads it.
      const stopped = new Promise<void>((resolve) => {
        process.once('SIGINT', resolve);
        process.once('SIGTERM', resolve);
      });
      const listener = await listenForWebhooks({ ...opts, secrets, json: opts.json === true });
      print(`Listening on ${listener.url} (Ctrl-C to stop); checking ${secrets.length} secret(s).`);
      await stopped;
      await listener.close();
    });
}
