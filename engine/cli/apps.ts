// `apps create|list|revoke`: API apps and their keys. A secret is printed once, when it is made; the
// engine keeps only its hash.
import type { Command } from 'commander';
import { SCOPES, createApp, listApps, revokeApp, type App, type Scope } from '../domain/apps.ts';
import { DomainError } from '../domain/errors.ts';
import {
  fields,
  isoTime,
  jsonOption,
  print,
  printJson,
  shortTime,
  splitList,
  storeOptions,
  table,
  wholeNumber,
  withStore,
  type JsonFlag,
  type StoreFlags,
} from './common.ts';

/** How long a running engine may keep accepting a revoked key (its authenticator's cache). */
const AUTH_CACHE_SECONDS = 5;

const appJson = (a: App) => ({
  appId: a.appId,
  name: a.name,
  scopes: a.scopes,
  rateLimitPerMinute: a.rateLimitPerMinute,
  store: a.store,
  till: a.till,
  createdAt: isoTime(a.createdAt),
  revokedAt: isoTime(a.revokedAt),
});

function parseScopes(value: string): Scope[] {
  const scopes = splitList(value);
  if (scopes.length === 0) {
    throw new DomainError('validation_error', `Give at least one scope: ${SCOPES.join(', ')}`);
  }
  return scopes as Scope[];
}

export function registerApps(program: Command): void {
  const apps = program.command('apps').description('API apps: an app id and a secret key with scopes');

  jsonOption(
    storeOptions(
      apps
        .command('create')
        .description('create an app and print its secret key (shown only once)')
        .requiredOption('--name <name>', 'what the app is, e.g. "Till 1, Main St"')
        .requiredOption('--scopes <list>', `comma-separated scopes: ${SCOPES.join(', ')}`)
        .option('--rate-limit <n>', 'requests per minute (default 600)', wholeNumber(1))
        .option('--id <appId>', 'the app id (default: a random app_...)')
        .option(
          '--store <store>',
          "a till's app: the store it is in (chain reports group by it; with --till)",
        )
        .option('--till <till>', 'a till\'s app: which till it is, e.g. "Till 2" (with --store)'),
    ),
  ).action(
    async (
      opts: StoreFlags &
        JsonFlag & {
          name: string;
          scopes: string;
          rateLimit?: number;
          id?: string;
          store?: string;
          till?: string;
        },
    ) => {
      const scopes = parseScopes(opts.scopes);
      const { app, secret } = await withStore(opts, 'create', (store) =>
        store.transact((tx) =>
          createApp(
            tx,
            {
              name: opts.name,
              scopes,
              ...(opts.rateLimit !== undefined ? { rateLimitPerMinute: opts.rateLimit } : {}),
              ...(opts.id !== undefined ? { appId: opts.id } : {}),
              ...(opts.store !== undefined ? { store: opts.store } : {}),
              ...(opts.till !== undefined ? { till: opts.till } : {}),
            },
            Date.now(),
          ),
        ),
      );
      if (opts.json) {
        printJson({ ...appJson(app), secret });
        return;
      }
      print(`Created app ${app.appId} (${app.name})`);
      print(
        fields([
          ['App id', app.appId],
          ['Secret', secret],
          ['Scopes', app.scopes.join(', ')],
          ['Rate limit', `${app.rateLimitPerMinute} requests/minute`],
          ...(app.store === null ? [] : [['Store, till', `${app.store}, ${app.till}`] as [string, string]]),
        ]),
      );
      print();
      print('Copy the secret now: the engine keeps only its hash, and it is NOT shown again.');
      print(`Send it as X-Api-Key with X-App-Id: ${app.appId}. A lost secret cannot be recovered:`);
      print('revoke the app and create a new one.');
    },
  );

  jsonOption(storeOptions(apps.command('list').description('list apps (secrets are never shown)'))).action(
    async (opts: StoreFlags & JsonFlag) => {
      const list = await withStore(opts, 'existing', (store) => store.read((tx) => listApps(tx)));
      if (opts.json) {
        printJson(list.map(appJson));
        return;
      }
      if (list.length === 0) {
        print('No apps yet. Create one: apps create --name "Till 1" --scopes cashback_read,cashback_write');
        return;
      }
      print(
        table(
          [
            'APP ID',
            'NAME',
            'STORE / TILL',
            'SCOPES',
            { header: 'RATE/MIN', align: 'right' },
            'CREATED (UTC)',
            'STATUS',
          ],
          list.map((a) => [
            a.appId,
            a.name,
            a.store === null ? '-' : `${a.store} / ${a.till}`,
            a.scopes.join(','),
            String(a.rateLimitPerMinute),
            shortTime(a.createdAt),
            a.revokedAt === null ? 'active' : `revoked ${shortTime(a.revokedAt)}`,
          ]),
        ),
      );
    },
  );

  jsonOption(
    storeOptions(
      apps
        .command('revoke')
        .description('revoke an app: its key stops working')
        .argument('<appId>', 'the app to revoke'),
    ),
  ).action(async (appId: string, opts: StoreFlags & JsonFlag) => {
    const { app, already } = await withStore(opts, 'existing', (store) =>
      store.transact(async (tx) => {
        const found = (await listApps(tx)).find((a) => a.appId === appId);
        if (found?.revokedAt != null) return { app: found, already: true };
        return { app: await revokeApp(tx, appId, Date.now()), already: false };
      }),
    );
    if (opts.json) {
      printJson({ ...appJson(app), alreadyRevoked: already });
      return;
    }
    if (already && app.revokedAt !== null) {
      print(`App ${app.appId} (${app.name}) was already revoked on ${shortTime(app.revokedAt)} UTC.`);
      return;
    }
    print(`Revoked app ${app.appId} (${app.name}).`);
    print(`A running engine refuses its key within ${AUTH_CACHE_SECONDS} seconds.`);
  });
}
