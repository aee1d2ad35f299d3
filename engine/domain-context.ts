// The domain context of a configured engine: its store, clock, notifier and the settings and
// secrets the configuration gives. The server and the CLI build it the same way, here.
import { gatewayNotifier } from './code-delivery.ts';
import { resolveSecrets, type EngineConfig } from './config.ts';
import type { DomainContext, Notifier } from './domain/context.ts';
import type { Store } from './store/store.ts';

/** Without a code gateway (config `codes.gatewayUrl`) sending a code fails clearly. */
export const noNotifier: Notifier = {
  async send() {
    throw new Error('No code gateway is configured (codes.gatewayUrl) to send one-time codes');
  },
};

export function domainContext(
  store: Store,
  config: EngineConfig,
  options: {
    now?: (() => number) | undefined;
    notifier?: Notifier | undefined;
    /** A read replica of `store` for the reads that may lag (store/replica.ts); default `store`. */
    laggingStore?: Store | undefined;
  } = {},
): DomainContext {
  const secrets = resolveSecrets(config);
  const { gatewayUrl } = config.codes;
  return {
    store,
    laggingStore: options.laggingStore ?? store,
    now: options.now ?? Date.now,
    notifier:
      options.notifier ?? (gatewayUrl ? gatewayNotifier({ ...config.codes, gatewayUrl }) : noNotifier),
    settings: {
      cardHashKey: secrets.cardHashKey,
      memberTokenKey: secrets.memberTokenKey,
      memberTokenTtlSeconds: config.memberTokenTtlSeconds,
      otpTtlSeconds: config.otpTtlSeconds,
      pinMaxFailures: config.pinMaxFailures,
      pinLockSeconds: config.pinLockSeconds,
      idempotencyRetentionDays: config.idempotencyRetentionDays,
      textcoinClaimDays: config.textcoinClaimDays,
      credentialsKey: secrets.credentialsKey,
      // Straight from the configuration: resolveSecrets never generates or stores a PIN key.
      pinBdks: { tdes: config.secrets.pinBdk, aes: config.secrets.pinAesBdk },
      claimTtlSeconds: config.claims.ttlSeconds,
      publicUrl: (config.publicUrl ?? `http://${config.host}:${config.port}`).replace(/\/$/, ''),
      rates: config.rates,
    },
  };
}
