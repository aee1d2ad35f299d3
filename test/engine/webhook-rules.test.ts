// The rules behind webhook delivery, without the network: which addresses may be reached, the retry
// schedule (fast-check: every jitter sequence retries for the whole window and then stops), the money
// in seed 001's body, what the attempt log keeps of a response, and the webhook settings.
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { formatAmount, parseAmount } from '../../contract/money.ts';
import { ConfigError, loadEngineConfig, resolveSecrets } from '../../engine/config.ts';
import { nextAfterFailure, retryDelayMs, type RetryPolicy } from '../../engine/domain/webhook-deliveries.ts';
import { addressPolicy, AddressRefused } from '../../engine/webhooks/address-policy.ts';
import { renderBody } from '../../engine/webhooks/bodies.ts';
import { cleanExcerpt } from '../../engine/webhooks/worker.ts';

describe('address policy', () => {
  const strict = addressPolicy([]);
  it.each([
    ['127.0.0.1', 'loopback'],
    ['127.255.255.254', 'loopback'],
    ['10.0.0.1', 'private'],
    ['172.16.0.1', 'private'],
    ['172.31.255.255', 'private'],
    ['192.168.0.1', 'private'],
    ['169.254.169.254', 'linkLocal'],
    ['100.64.0.1', 'carrierGradeNat'],
    ['0.0.0.0', 'unspecified'],
    ['224.0.0.1', 'multicast'],
    ['255.255.255.255', 'broadcast'],
    ['::1', 'loopback'],
    ['::', 'unspecified'],
    ['fe80::1', 'linkLocal'],
    ['fc00::1', 'uniqueLocal'],
    ['fd12:3456::1', 'uniqueLocal'],
    ['ff02::1', 'multicast'],
    ['::ffff:127.0.0.1', 'loopback'],
    ['::ffff:10.0.0.1', 'private'],
  ])('refuses %s (%s)', (address, kind) => {
    expect(() => strict.check(address)).toThrow(AddressRefused);
    expect(() => strict.check(address)).toThrow(` is a ${kind} address`);
  });

  it.each([
    '8.8.8.8',
    '93.184.216.34',
    '172.32.0.1',
    '2606:4700:4700::1111',
    '2001:4860:4860::8888',
    '::ffff:8.8.8.8',
  ])('lets %s through', (address) => {
    expect(() => strict.check(address)).not.toThrow();
  });

  it('lets through exactly the ranges the configuration allows', () => {
    const allowing = addressPolicy(['127.0.0.0/8', '::1/128', '10.1.2.3']);
    for (const ok of ['127.0.0.5', '::1', '10.1.2.3', '::ffff:127.0.0.1']) {
      expect(() => allowing.check(ok), ok).not.toThrow();
    }
    for (const refused of ['10.1.2.4', '192.168.0.1', 'fe80::1']) {
      expect(() => allowing.check(refused), refused).toThrow(AddressRefused);
    }
  });
});

describe('retry schedule', () => {
  // Caps from 10 minutes to 6 hours (the default is 1 hour): a smaller cap is legal but would make
  // hundreds of thousands of attempts per simulated window.
  const policyArb = fc
    .record({
      baseMs: fc.integer({ min: 1_000, max: 60_000 }),
      maxMs: fc.integer({ min: 600_000, max: 21_600_000 }),
      windowHours: fc.integer({ min: 72, max: 240 }),
    })
    .map(({ baseMs, maxMs, windowHours }): RetryPolicy => ({
      baseMs,
      maxMs,
      windowMs: windowHours * 3_600_000,
    }));
  const jitter = fc.infiniteStream(fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }));

  it('waits base x 2^(n-1), capped, in the upper half of that (equal jitter)', () => {
    fc.assert(
      fc.property(
        policyArb,
        fc.integer({ min: 1, max: 200 }),
        fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }),
        (policy, n, r) => {
          const ceiling = Math.min(policy.maxMs, policy.baseMs * 2 ** (n - 1));
          const wait = retryDelayMs(n, policy, () => r);
          expect(Number.isInteger(wait)).toBe(true);
          expect(wait).toBeGreaterThanOrEqual(Math.floor(ceiling / 2));
          expect(wait).toBeLessThanOrEqual(ceiling);
        },
      ),
    );
  });

  it('retries for the whole window whatever the jitter, makes its last attempt at the end, then stops', () => {
    fc.assert(
      fc.property(policyArb, jitter, fc.integer({ min: 0, max: 2 ** 40 }), (policy, randoms, start) => {
        const random = () => randoms.next().value as number;
        const times = [start];
        let state = nextAfterFailure(start, 1, start, policy, random);
        let forward = true;
        while (state.status === 'pending') {
          forward &&= state.nextAttemptAt > times.at(-1)!;
          times.push(state.nextAttemptAt);
          state = nextAfterFailure(start, times.length, state.nextAttemptAt, policy, random);
        }
        expect(forward, 'each attempt after the one before').toBe(true);
        expect(times.at(-1)).toBe(start + policy.windowMs);
        // Bounded: the waits reach half the cap after log2(max/base) doublings and never shrink below it.
        const growth = Math.ceil(Math.log2(policy.maxMs / policy.baseMs)) + 1;
        expect(times.length).toBeLessThanOrEqual(
          growth + Math.ceil(policy.windowMs / (policy.maxMs / 2)) + 2,
        );
      }),
      { numRuns: 100 },
    );
  });

  it('fails at once an attempt made after the window, e.g. by a worker that was down', () => {
    const policy = { baseMs: 10_000, maxMs: 3_600_000, windowMs: 72 * 3_600_000 };
    expect(nextAfterFailure(0, 3, policy.windowMs + 1, policy, () => 0.5)).toEqual({ status: 'failed' });
  });
});

describe("seed 001's amount", () => {
  it('is the minor amount in major units with the currency decimals, exact for any amount', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 10 ** 15 }),
        fc.constantFrom('AUD', 'JPY', 'TND'),
        (amount, currency) => {
          const body = renderBody(
            'seed001',
            {
              id: 'evt_1',
              type: 'withdrawal.settled',
              subject: { kind: 'withdrawal', id: 'W1' },
              createdAt: 0,
              data: {
                withdrawal_id: 'W1',
                client_transaction_id: 'c1',
                merchant_name: 'm',
                site_name: 's',
                customer_id: 'u1',
                amount,
                currency,
                withdrawal_method: 'au_payid_npp_aud',
                status: 'failed',
                created_at: 0,
                updated_at: 0,
                payout_method_params: { payid: 'a@b.example' },
              },
            },
            { url: 'https://merchant.example/hook', headers: {} },
          );
          const text = /"amount":([0-9.]+),/.exec(body)?.[1] ?? '';
          expect(text).toBe(formatAmount(amount, currency));
          expect(parseAmount(text, currency, { allowZero: true })).toBe(amount);
        },
      ),
    );
  });
});

describe('attempt log excerpt', () => {
  it('never keeps a secret or a header value the receiver echoed, and keeps at most 256 characters', () => {
    const token = fc.stringMatching(/^[A-Za-z0-9_]{8,40}$/);
    fc.assert(
      fc.property(
        fc.string({ maxLength: 300 }),
        token,
        token,
        fc.string({ maxLength: 300 }),
        (before, secret, bearer, after) => {
          const text = `${before}${secret} and ${bearer}${after}`;
          const clean = cleanExcerpt(text, [secret, `Bearer ${bearer}`]);
          expect(clean.length).toBeLessThanOrEqual(256);
          expect(clean).not.toContain(secret);
          expect(clean).not.toContain(bearer);
        },
      ),
    );
  });
});

describe('webhook settings', () => {
  const load = (webhooks: unknown) => loadEngineConfig({ environment: {}, overrides: { webhooks } as never });

  it('have safe defaults: nothing private allowed, 72 hours of retries', () => {
    expect(load({})).toMatchObject({
      webhooks: {
        subscribers: [],
        allowPrivateNetworks: [],
        retryWindowHours: 72,
        retryBaseSeconds: 10,
        retryMaxSeconds: 3600,
        timeoutMs: 10_000,
      },
    });
  });

  it.each([
    [{ allowPrivateNetworks: ['localhost'] }, 'webhooks.allowPrivateNetworks.0'],
    [{ retryWindowHours: 24 }, 'webhooks.retryWindowHours: retries last at least 72 hours'],
    [{ secrets: ['short'] }, 'webhooks.secrets.0: a webhook signing secret needs at least 32 characters'],
    [{ secrets: ['a'.repeat(32), 'b'.repeat(32), 'c'.repeat(32)] }, 'webhooks.secrets: at most two secrets'],
    [{ subscribers: [{ url: 'ftp://x.example/', secrets: ['a'.repeat(32)] }] }, 'webhooks.subscribers.0.url'],
    [{ subscribers: [{ url: 'https://x.example/' }] }, 'webhooks.subscribers.0.secrets'],
    [{ retryBaseSeconds: 60, retryMaxSeconds: 10 }, 'webhooks.retryMaxSeconds'],
    [{ timeoutMs: 5 }, 'webhooks.timeoutMs'],
  ])('refuse %j naming the setting', (webhooks, named) => {
    expect(() => load(webhooks)).toThrow(ConfigError);
    expect(() => load(webhooks)).toThrow(named);
  });

  it('keep a configured signing secret out of the secrets file, which holds only generated ones', () => {
    const dir = mkdtempSync(join(tmpdir(), 'tillback-secrets-'));
    try {
      const secretsFile = join(dir, 'secrets.json');
      const configured = 'whsec_configured_0123456789abcdefghijklmn';
      const config = loadEngineConfig({
        environment: {},
        overrides: { secretsFile, webhooks: { secrets: [configured] } },
      });
      const secrets = resolveSecrets(config);
      expect(secrets.webhookSecret).toBe(configured);
      const stored = JSON.parse(readFileSync(secretsFile, 'utf8'));
      expect(Object.keys(stored).sort()).toEqual(['cardHashKey', 'credentialsKey', 'memberTokenKey']);
      expect(resolveSecrets(config)).toEqual(secrets); // the same on every start

      const allConfigured = join(dir, 'none.json');
      resolveSecrets(
        loadEngineConfig({
          environment: {},
          overrides: {
            secretsFile: allConfigured,
            secrets: {
              cardHashKey: 'c'.repeat(32),
              memberTokenKey: 'm'.repeat(32),
              credentialsKey: 'k'.repeat(32),
            },
            webhooks: { secrets: [configured] },
          },
        }),
      );
      expect(existsSync(allConfigured)).toBe(false);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
