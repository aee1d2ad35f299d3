// Choosing payout providers by configuration: one provider for every method it pays, or one per method
// kind; each mistake stops the engine with the setting's name (never a secret's value); PayPal's secret
// may come from the environment; and no provider secret survives into a log line.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadEngineConfig, type EngineConfigInput } from '../../engine/config.ts';
import { loggerOptions } from '../../engine/logger.ts';
import { createPayoutProviders, PAYOUT_PROVIDERS, PROVIDER_METHODS } from '../../engine/payouts/providers.ts';
import type { Store } from '../../engine/store/store.ts';

const paypal = {
  clientId: 'AbC123',
  clientSecret: 'EL-very-secret-value-9876',
  baseUrl: 'http://127.0.0.1:9',
};
const noebs = { baseUrl: 'http://127.0.0.1:9' };

const load = (payouts: EngineConfigInput['payouts'], environment: NodeJS.ProcessEnv = {}) =>
  loadEngineConfig({ environment, overrides: { payouts } });
function failure(payouts: unknown): string {
  try {
    load(payouts as EngineConfigInput['payouts']);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as Error).message;
  }
  throw new Error('the configuration was accepted');
}
// The providers are only built here, never called: no store is touched.
const methods = (payouts: EngineConfigInput['payouts']) =>
  createPayoutProviders(load(payouts).payouts, { store: {} as Store, now: Date.now }).methods;

describe('payouts.provider', () => {
  it('is the sandbox by default, paying every method', () => {
    expect(load({}).payouts.provider).toBe('sandbox');
    expect(methods({})).toEqual(['card', 'au_bank', 'payid', 'paypal']);
  });

  it('offers what the chosen providers pay: one provider, or one per method kind', () => {
    expect(methods({ provider: 'paypal', paypal })).toEqual(['paypal']);
    expect(methods({ provider: 'noebs', noebs })).toEqual(['card']);
    expect(
      methods({ provider: { paypal: 'paypal', card: 'noebs', au_bank: 'sandbox' }, paypal, noebs }),
    ).toEqual(['paypal', 'card', 'au_bank']);
    const built = createPayoutProviders(
      load({ provider: { paypal: 'paypal', card: 'noebs' }, paypal, noebs }).payouts,
      {
        store: {} as Store,
        now: Date.now,
      },
    );
    expect(built.nameFor('card')).toBe('noebs');
    expect(built.nameFor('au_bank')).toBeUndefined();
    expect(built.byName('paypal')?.name).toBe('paypal');
    expect(built.byName('sandbox')).toBeUndefined();
    expect(built.paypal?.name).toBe('paypal');
  });

  it('stops on each mistake with the setting to fix', () => {
    expect(failure({ provider: 'stripe' })).toMatch(/payouts\.provider: one of sandbox, paypal, noebs/);
    expect(failure({ provider: {} })).toMatch(/payouts\.provider/);
    expect(failure({ provider: { bitcoin: 'sandbox' } })).toMatch(/payouts\.provider/);
    expect(failure({ provider: 'paypal' })).toMatch(
      /payouts\.paypal: the paypal provider is chosen .* no options/,
    );
    expect(failure({ provider: { card: 'noebs' } })).toMatch(/payouts\.noebs: the noebs provider is chosen/);
    expect(failure({ provider: { card: 'paypal' }, paypal })).toMatch(
      /payouts\.provider: paypal cannot pay by card \(it pays by paypal\)/,
    );
    expect(failure({ provider: { paypal: 'noebs' }, noebs })).toMatch(/noebs cannot pay by paypal/);
    expect(failure({ provider: 'noebs', noebs: { baseUrl: 'not a url' } })).toMatch(
      /payouts\.noebs\.baseUrl/,
    );
    expect(
      failure({
        provider: 'noebs',
        noebs: { ...noebs, source: { pan: '4111111111111112', expDate: '3012', ipin: '1234' } },
      }),
    ).toMatch(/payouts\.noebs\.source\.pan/);
    const noId = failure({ provider: 'paypal', paypal: { ...paypal, clientId: '' } });
    expect(noId).toMatch(/payouts\.paypal\.clientId: clientId is required/);
    expect(noId).not.toContain(paypal.clientSecret);
  });

  it('leases payouts for 300 s by default, and refuses a lease that is not positive or ends before a provider call can', () => {
    expect(load({}).payouts.leaseSeconds).toBe(300);
    expect(load({ leaseSeconds: 2 }).payouts.leaseSeconds).toBe(2);
    expect(failure({ leaseSeconds: 0 })).toMatch(/payouts\.leaseSeconds/);
    expect(failure({ leaseSeconds: -5 })).toMatch(/payouts\.leaseSeconds/);
    expect(failure({ leaseSeconds: 1.5 })).toMatch(/payouts\.leaseSeconds/);
    // noebs waits 95 s for an answer by default; PayPal 20 s; the sandbox its configured latency.
    expect(failure({ provider: 'noebs', noebs, leaseSeconds: 60 })).toMatch(
      /payouts\.leaseSeconds: 60 s is shorter than payouts\.noebs\.timeoutMs \(95000 ms\)/,
    );
    expect(load({ provider: 'noebs', noebs, leaseSeconds: 95 }).payouts.leaseSeconds).toBe(95);
    expect(
      failure({ provider: 'paypal', paypal: { ...paypal, timeoutMs: 30_000 }, leaseSeconds: 29 }),
    ).toMatch(/payouts\.leaseSeconds: 29 s is shorter than payouts\.paypal\.timeoutMs/);
    expect(failure({ sandboxLatencyMs: 5_000, leaseSeconds: 4 })).toMatch(
      /payouts\.leaseSeconds: 4 s is shorter than payouts\.sandboxLatencyMs/,
    );
    // Options of a provider no method is routed to make no call to outlast.
    expect(load({ provider: 'sandbox', noebs, leaseSeconds: 2 }).payouts.leaseSeconds).toBe(2);
  });

  it('accepts exactly the leases that are positive and at least the chosen provider timeout', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: -10, max: 400 }),
        fc.integer({ min: 100, max: 300_000 }),
        (lease, timeoutMs) => {
          const payouts = { provider: 'noebs' as const, noebs: { ...noebs, timeoutMs }, leaseSeconds: lease };
          if (lease > 0 && lease * 1000 >= timeoutMs) expect(load(payouts).payouts.leaseSeconds).toBe(lease);
          else expect(failure(payouts)).toMatch(/payouts\.leaseSeconds/);
        },
      ),
      { numRuns: 300 },
    );
  });

  it("takes PayPal's client secret from the environment, keeping it out of the config file", () => {
    const { clientSecret: _kept, ...withoutSecret } = paypal;
    const dir = mkdtempSync(join(tmpdir(), 'tillback-config-'));
    const file = join(dir, 'engine.json');
    writeFileSync(file, JSON.stringify({ payouts: { provider: 'paypal', paypal: withoutSecret } }));
    try {
      const config = loadEngineConfig({
        file,
        environment: { TILLBACK_PAYPAL_CLIENT_SECRET: 'from-the-environment' },
      });
      expect(config.payouts.paypal?.clientSecret).toBe('from-the-environment');
      expect(() => loadEngineConfig({ file, environment: {} })).toThrow(/payouts\.paypal\.clientSecret/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('never lets a provider secret into a log line', () => {
    const lines: string[] = [];
    const sink = new Writable({
      write(chunk: Buffer, _enc, done) {
        lines.push(chunk.toString());
        done();
      },
    });
    const log = pino(loggerOptions('info'), sink);
    const config = load({ provider: 'paypal', paypal });
    log.info({ payouts: { paypal: config.payouts.paypal } }, 'configuration');
    log.info({ access_token: 'A21AAF-token', authorization: 'Basic abc' }, 'token');
    log.info({ payee: { taxDetails: { tin: '123456782' } } }, 'payee');
    const text = lines.join('');
    expect(text).toContain('AbC123'); // the client id is not a secret
    for (const secret of [paypal.clientSecret, 'A21AAF-token', 'Basic abc', '123456782']) {
      expect(text).not.toContain(secret);
    }
  });
  it('accepts a per-method map exactly when every provider can pay its method, and offers its keys', () => {
    const kinds = ['card', 'au_bank', 'payid', 'paypal', 'cheque'] as const;
    fc.assert(
      fc.property(
        fc.dictionary(fc.constantFrom(...kinds), fc.constantFrom(...PAYOUT_PROVIDERS, 'stripe')),
        (map) => {
          const entries = Object.entries(map);
          const valid =
            entries.length > 0 &&
            entries.every(([kind, name]) =>
              (PROVIDER_METHODS as Record<string, readonly string[] | undefined>)[name]?.includes(kind),
            );
          const payouts = { provider: map, paypal, noebs } as EngineConfigInput['payouts'];
          if (!valid) {
            expect(failure(payouts)).toMatch(/payouts\.provider/);
            return;
          }
          const built = createPayoutProviders(load(payouts).payouts, { store: {} as Store, now: Date.now });
          expect([...built.methods].sort()).toEqual(Object.keys(map).sort());
          for (const [kind, name] of entries) expect(built.nameFor(kind)).toBe(name);
        },
      ),
      { numRuns: 300 },
    );
  });
});
