// createEngine: the cashback engine as an embeddable Fastify server over a store. The till embeds
// it; `npm run engine` runs it standalone.
import { readFileSync } from 'node:fs';
import Fastify, { LogController, type FastifyInstance } from 'fastify';
import rateLimit from '@fastify/rate-limit';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import { ConfigError, resolveSecrets, type EngineConfig } from './config.ts';
import { appDirectory } from './domain/apps.ts';
import { DAY_MS, type DomainContext, type Notifier } from './domain/context.ts';
import { expireDueClaims } from './domain/claims.ts';
import { domainContext } from './domain-context.ts';
import { pruneIdempotencyKeys } from './domain/idempotency.ts';
import { processDueLots } from './domain/lots.ts';
import { setSubscribers } from './domain/outbox.ts';
import { returnUnclaimedTextcoins } from './domain/partners.ts';
import { parseJson, serializeJson } from './http/json.ts';
import { closeSilentConnectionsOnClose } from './http/silent-connections.ts';
import { loggerOptions } from './logger.ts';
import type { PayoutProvider } from './payouts/provider.ts';
import { createPayoutProviders, singleProvider } from './payouts/providers.ts';
import { createTipaltiPayees } from './payouts/tipalti.ts';
import { createPayoutWorker, type PayoutWorker } from './payouts/worker.ts';
import { claimPageRoutes } from './routes/claim-page.ts';
import { healthRoutes } from './routes/health.ts';
import { nativeRoutes } from './routes/native.ts';
import { nativeBatchRoutes } from './routes/native-batch.ts';
import { nativeClaimRoutes } from './routes/native-claims.ts';
import { nativeReportRoutes } from './routes/native-reports.ts';
import { createPayoneerPayees } from './payouts/payoneer.ts';
import { createPayPalConnect } from './payouts/paypal-connect.ts';
import { paypalWebhookRoutes } from './routes/paypal-webhook.ts';
import { seed000Routes } from './routes/seed-000-cashout.ts';
import { seed001Routes } from './routes/seed-001-withdraw.ts';
import { seed003Routes } from './routes/seed-003-cashout.ts';
import { seed002Routes } from './routes/seed-002-loyalty.ts';
import { seed004Routes } from './routes/seed-004-partner.ts';
import type { Store } from './store/store.ts';
import type { Resolve } from './webhooks/address-policy.ts';
import { webhookWorker, type WebhookWorker } from './webhooks/worker.ts';

export interface EngineOptions {
  store: Store;
  /** A read replica of `store` (store/replica.ts) for the reads that may lag: `ctx.laggingStore`. */
  laggingStore?: Store | undefined;
  config: EngineConfig;
  /** The clock; tests pass one they can move. */
  now?: () => number;
  /** Delivers OTPs and textcoin claim codes; the default refuses, naming the missing setting. */
  notifier?: Notifier;
  /** Replace the pino logger (tests pass false). */
  logger?: boolean;
  /** Pays every claim it can (tests); the default is the providers `payouts.provider` chooses. */
  payoutProvider?: PayoutProvider;
  /** Start the payout worker with the engine (default true); tests may drive it themselves. */
  startPayoutWorker?: boolean;
  /** How webhook hosts are resolved to addresses (tests pass their own; the default is DNS). */
  resolve?: Resolve;
  /** Append log lines to this file instead of stdout (tests write theirs to the run's log directory). */
  logFile?: string;
}

export interface Engine {
  app: FastifyInstance;
  ctx: DomainContext;
  /** Pays submitted claims through the payout provider. */
  payouts: PayoutWorker;
  /** Settles matured and expired cashback, unclaimed textcoins, expired claims and old idempotency keys. */
  sweep(): Promise<{
    matured: number;
    expired: number;
    returned: number;
    claimsExpired: number;
    pruned: number;
  }>;
  /** The webhook delivery worker, started with the engine. */
  webhooks: WebhookWorker;
  /**
   * Listens on the configured host and port and resolves with the URL people should use: the
   * configured public URL, else where it listens. Without a configured public URL, claim URLs follow
   * the address actually bound (a port of 0 picks a free one).
   */
  listen(): Promise<string>;
  close(): Promise<void>;
}

/** The certificate and key the config names; a file that cannot be read stops the engine, named. */
function readTls(tls: { certFile: string; keyFile: string }): { cert: Buffer; key: Buffer } {
  const read = (setting: string, file: string) => {
    try {
      return readFileSync(file);
    } catch (error) {
      throw new ConfigError(
        `${setting}: cannot read ${file} (${(error as NodeJS.ErrnoException).code ?? 'error'})`,
      );
    }
  };
  return { cert: read('tls.certFile', tls.certFile), key: read('tls.keyFile', tls.keyFile) };
}

/** The URL people should use: the configured public URL, else where we listen (wildcards as localhost). */
export function publicBaseUrl(config: EngineConfig, listening: string): string {
  if (config.publicUrl) return config.publicUrl.replace(/\/+$/, '');
  const url = new URL(listening);
  if (url.hostname === '[::]' || url.hostname === '0.0.0.0') url.hostname = 'localhost';
  return url.origin;
}

export async function createEngine(options: EngineOptions): Promise<Engine> {
  const { store, config } = options;
  const now = options.now ?? Date.now;
  const ctx = domainContext(store, config, {
    now,
    notifier: options.notifier,
    laggingStore: options.laggingStore,
  });
  const apps = appDirectory(store);
  const authenticate = apps.authenticate;

  const app = Fastify({
    https: config.tls ? readTls(config.tls) : null,
    trustProxy: config.trustProxy,
    logger:
      options.logger === false
        ? false
        : { ...loggerOptions(config.logLevel), ...(options.logFile ? { file: options.logFile } : {}) },
    bodyLimit: config.bodyLimitBytes,
    // Per-request lines only when debugging: at thousands of requests a second they are the cost.
    logController: new LogController({
      disableRequestLogging: config.logLevel !== 'debug' && config.logLevel !== 'trace',
    }),
  });
  closeSilentConnectionsOnClose(app);
  // JSON only: any other body type is answered 415 in the API's own error shape.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (_req, body, done) => {
    try {
      done(null, parseJson(body as string));
    } catch (error) {
      done(
        Object.assign(new Error(`Malformed JSON: ${(error as Error).message}`), {
          statusCode: 400,
          code: 'malformed_json',
        }),
      );
    }
  });
  // Validation is done by zod in each route (http/api.ts); the JSON Schemas are for the document.
  app.setValidatorCompiler(() => (value) => ({ value }));
  app.setSerializerCompiler(() => serializeJson);
  app.setReplySerializer(serializeJson);

  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'Tillback cashback engine',
        version: '1',
        description:
          "Native API (/v1) for tills, with cashout claims and the claim page API (/v1/public/claims), plus the APIs of the systems Tillback stands in for: the loyalty cashback API (/api/v1/cashback), the noebs cashout API (/cashout), the cashback withdrawal API (/api/v2/cashbacks/withdraw) and the Obyte partner cashback API (/new_purchase). Money in the native API is integer minor units; the seed APIs use their documents' shapes.",
      },
      components: {
        securitySchemes: {
          appId: { type: 'apiKey', in: 'header', name: 'X-App-Id' },
          apiKey: { type: 'apiKey', in: 'header', name: 'X-Api-Key' },
          memberToken: { type: 'apiKey', in: 'header', name: 'X-Member-Token' },
          seed001AppId: { type: 'apiKey', in: 'header', name: 'app-id' },
          seed001SecretKey: { type: 'apiKey', in: 'header', name: 'secret-key' },
        },
      },
    },
  });
  await app.register(swaggerUi, { routePrefix: '/docs' });
  await app.register(rateLimit, {
    global: true,
    hook: 'preHandler',
    timeWindow: 60_000,
    keyGenerator: (req) => {
      const appId = req.headers['x-app-id'] ?? req.headers['app-id']; // seed 001 names it app-id
      const partner = (req.body as { partner?: unknown } | undefined)?.partner;
      if (typeof appId === 'string') return `app:${appId}`;
      if (typeof partner === 'string') return `app:${partner}`;
      return `ip:${req.ip}`;
    },
    max: async (_req, key) =>
      (key.startsWith('app:') ? await apps.rateLimitFor(key.slice(4)) : undefined) ??
      config.defaultRateLimitPerMinute,
  });

  const providers = options.payoutProvider
    ? singleProvider(options.payoutProvider)
    : createPayoutProviders(config.payouts, { store, now, logger: app.log });
  const payouts = createPayoutWorker({
    ctx,
    providers,
    retryBaseMs: config.payouts.retryBaseMs,
    retryMaxMs: config.payouts.retryMaxMs,
    pollIntervalMs: config.payouts.pollIntervalMs,
    leaseMs: config.payouts.leaseSeconds * 1000,
    onError: (error, payoutId) => app.log.error({ err: error, payoutId }, 'payout attempt failed'),
  });

  await app.register(healthRoutes(store));
  await app.register(nativeRoutes(ctx, authenticate), { prefix: '/v1' });
  await app.register(nativeReportRoutes(ctx, authenticate), { prefix: '/v1' });
  await app.register(nativeBatchRoutes(ctx, authenticate), { prefix: '/v1' });
  await app.register(
    nativeClaimRoutes(ctx, authenticate, { methods: providers.methods, onSubmitted: payouts.kick }),
    { prefix: '/v1' },
  );
  if (providers.paypal) await app.register(paypalWebhookRoutes(providers.paypal, payouts));
  await app.register(seed000Routes(ctx, authenticate, providers.methods), { prefix: '/cashout' });
  const tipalti =
    config.payouts.tipalti && createTipaltiPayees(config.payouts.tipalti, { now, logger: app.log });
  await app.register(
    seed003Routes(ctx, authenticate, {
      methods: providers.methods,
      paypalConnect: config.payouts.paypal ? createPayPalConnect(config.payouts.paypal) : undefined,
      payoneer: config.payouts.payoneer ? createPayoneerPayees(config.payouts.payoneer) : undefined,
      tipalti: tipalti || undefined,
      onSubmitted: payouts.kick,
    }),
    { prefix: '/cashout' },
  );
  await app.register(
    seed001Routes(ctx, authenticate, { methods: providers.methods, onSubmitted: payouts.kick }),
    { prefix: '/api/v2/cashbacks' },
  );
  await app.register(claimPageRoutes(ctx));
  await app.register(seed002Routes(ctx, authenticate), { prefix: '/api/v1/cashback' });
  await app.register(seed004Routes(ctx, authenticate));

  async function sweep() {
    const t = now();
    return store.transact(async (tx) => {
      const lots = await processDueLots(tx, t);
      const returned = await returnUnclaimedTextcoins(tx, t);
      const claimsExpired = await expireDueClaims(tx, t);
      const pruned = await pruneIdempotencyKeys(tx, t - config.idempotencyRetentionDays * DAY_MS);
      return { ...lots, returned, claimsExpired, pruned };
    });
  }
  const timer = setInterval(() => {
    sweep().catch((error: unknown) => app.log.error({ err: error }, 'sweep failed'));
  }, config.sweepIntervalSeconds * 1000);
  timer.unref();
  if (options.startPayoutWorker !== false) payouts.start();

  await store.transact((tx) =>
    setSubscribers(
      tx,
      config.webhooks.subscribers.map((s) => s.url),
    ),
  );
  const webhooks = webhookWorker({
    store,
    settings: config.webhooks,
    targetSecrets: config.webhooks.secrets ?? [resolveSecrets(config).webhookSecret],
    now,
    resolve: options.resolve,
    onError: (error) => app.log.error({ err: error }, 'webhook delivery failed'),
  });

  return {
    app,
    ctx,
    payouts,
    sweep,
    webhooks,
    async listen() {
      const url = publicBaseUrl(config, await app.listen({ host: config.host, port: config.port }));
      ctx.settings.publicUrl = url;
      return url;
    },
    async close() {
      clearInterval(timer);
      await payouts.stop();
      await webhooks.close();
      await app.close();
    },
  };
}
