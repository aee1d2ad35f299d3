// Which provider pays which payout method. The configuration names one provider for every method it
// can pay (`"paypal"`), or a provider per method kind (`{"paypal": "paypal", "card": "noebs",
// "au_bank": "sandbox"}`) so one engine pays PayPal claims through PayPal, seed 000's card claims
// through noebs and seed 001's bank withdrawals through the sandbox at once. Claims offer only the
// methods routed here. A payout keeps the provider it started with (payouts.provider), so its status is
// asked of the provider that was sent it even after the configuration changes.
import type { Store } from '../store/store.ts';
import type { PayoutLogger } from './http.ts';
import { createNoebsProvider, type NoebsOptions } from './noebs.ts';
import { createPayPalProvider, type PayPalOptions, type PayPalProvider } from './paypal.ts';
import type { PayoutMethodKind, PayoutProvider } from './provider.ts';
import { createSandboxProvider } from './sandbox.ts';

export const PAYOUT_PROVIDERS = ['sandbox', 'paypal', 'noebs'] as const;
export type PayoutProviderName = (typeof PAYOUT_PROVIDERS)[number];

/** What each provider can pay to: the sandbox everything, PayPal PayPal accounts, noebs cards. */
export const PROVIDER_METHODS: Readonly<Record<PayoutProviderName, readonly PayoutMethodKind[]>> = {
  sandbox: ['card', 'au_bank', 'payid', 'paypal'],
  paypal: ['paypal'],
  noebs: ['card'],
};

export type ProviderChoice = PayoutProviderName | Partial<Record<PayoutMethodKind, PayoutProviderName>>;

/** The method -> provider table a choice means, what is wrong with it, and whether it uses a provider. */
export function providerRoutes(choice: ProviderChoice) {
  const routes: Partial<Record<PayoutMethodKind, PayoutProviderName>> =
    typeof choice === 'string'
      ? Object.fromEntries(PROVIDER_METHODS[choice].map((kind) => [kind, choice]))
      : choice;
  const problems = Object.entries(routes)
    .filter(([kind, name]) => !PROVIDER_METHODS[name].includes(kind as PayoutMethodKind))
    .map(([kind, name]) => `${name} cannot pay by ${kind} (it pays by ${PROVIDER_METHODS[name].join(', ')})`);
  return {
    routes,
    problems,
    uses: (name: PayoutProviderName) => Object.values(routes).includes(name),
  };
}

export interface PayoutProviders {
  /** The method kinds claims may offer: those a provider is chosen for. */
  readonly methods: readonly PayoutMethodKind[];
  /** The name of the provider that pays `kind`, if any. */
  nameFor(kind: string): string | undefined;
  /** A provider by the name a payout recorded. */
  byName(name: string): PayoutProvider | undefined;
  /** The PayPal client when it is configured (its webhook route needs it). */
  readonly paypal: PayPalProvider | undefined;
}

/** Every method `provider` pays goes to it: what `createEngine({ payoutProvider })` is given. */
export function singleProvider(provider: PayoutProvider): PayoutProviders {
  return {
    methods: provider.methods,
    nameFor: (kind) => (provider.methods.includes(kind as PayoutMethodKind) ? provider.name : undefined),
    byName: (name) => (name === provider.name ? provider : undefined),
    paypal: isPayPal(provider) ? provider : undefined,
  };
}

function isPayPal(provider: PayoutProvider): provider is PayPalProvider {
  return provider.name === 'paypal' && 'handleWebhook' in provider;
}

export interface ProviderSettings {
  provider: ProviderChoice;
  sandboxLatencyMs: number;
  paypal?: PayPalOptions | undefined;
  noebs?: NoebsOptions | undefined;
}

/** The providers the configuration chooses, each built once, with the engine's clock and logger. */
export function createPayoutProviders(
  settings: ProviderSettings,
  deps: { store: Store; now: () => number; logger?: PayoutLogger },
): PayoutProviders {
  const { routes, problems, uses } = providerRoutes(settings.provider);
  if (problems.length > 0) throw new Error(`payouts.provider: ${problems.join('; ')}`);
  const need = <T>(name: 'paypal' | 'noebs', options: T | undefined): T => {
    if (options === undefined) throw new Error(`payouts.${name}: the ${name} provider has no options`);
    return options;
  };
  const clientDeps = { now: deps.now, ...(deps.logger ? { logger: deps.logger } : {}) };
  const built = new Map<string, PayoutProvider>();
  if (uses('sandbox')) {
    built.set(
      'sandbox',
      createSandboxProvider({ store: deps.store, now: deps.now, latencyMs: settings.sandboxLatencyMs }),
    );
  }
  let paypal: PayPalProvider | undefined;
  if (uses('paypal')) {
    paypal = createPayPalProvider(need('paypal', settings.paypal), clientDeps);
    built.set('paypal', paypal);
  }
  if (uses('noebs')) built.set('noebs', createNoebsProvider(need('noebs', settings.noebs), clientDeps));
  return {
    methods: Object.keys(routes) as PayoutMethodKind[],
    nameFor: (kind) => routes[kind as PayoutMethodKind],
    byName: (name) => built.get(name),
    paypal,
  };
}
