// No card number or IPIN leaves either client: every outcome, thrown message and stack, and every line
// the engine's own pino logger wrote during paid, declined, failing, hanging and misconfigured runs is
// scanned for the test cards and the IPIN.
import { randomUUID } from 'node:crypto';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loggerOptions } from '../../../engine/logger.ts';
import { createNoebsProvider, type NoebsOptions } from '../../../engine/payouts/noebs.ts';
import { createPayPalProvider } from '../../../engine/payouts/paypal.ts';
import type { PayoutProvider, PayoutRequest } from '../../../engine/payouts/provider.ts';
import { startFakeNoebs, type FakeNoebs } from '../../fakes/noebs-server.ts';
import { startFakePayPal, type FakePayPal } from '../../fakes/paypal-server.ts';
import { CUSTOMER_CARD, ebsKeyPair, OTHER_CARD, SOURCE } from './noebs-keys.ts';

const lines: string[] = [];
const logger = pino(loggerOptions('debug'), { write: (line: string) => void lines.push(line) });
const seen: string[] = [];

let keys: ReturnType<typeof ebsKeyPair>;
let noebs: FakeNoebs;
let paypal: FakePayPal;

beforeAll(async () => {
  keys = ebsKeyPair();
  noebs = await startFakeNoebs({
    privateKey: keys.privateKey,
    publicKeyBase64: keys.publicKeyBase64,
    source: SOURCE,
  });
  paypal = await startFakePayPal();
});
afterAll(async () => {
  await noebs.close();
  await paypal.close();
});

/** Runs a call and keeps whatever it produced: the outcome, or the error's message and stack. */
async function record(call: () => Promise<unknown>): Promise<void> {
  try {
    seen.push(JSON.stringify(await call()));
  } catch (error) {
    seen.push(String(error), (error as Error).stack ?? '');
  }
}

function noebsClient(extra: Partial<NoebsOptions> = {}): PayoutProvider {
  return createNoebsProvider(
    { baseUrl: noebs.url, publicKey: keys.publicKeyBase64, source: SOURCE, ...extra },
    { logger },
  );
}

const card = (pan: string): PayoutRequest => ({
  payoutId: randomUUID(),
  amount: 5000,
  currency: 'SDG',
  method: { kind: 'card', pan, expiry: '2912', ipin: SOURCE.ipin },
});

describe('card data never leaves the clients', () => {
  it('in any outcome, error or log line', async () => {
    const provider = noebsClient();
    await record(() => provider.submit(card(CUSTOMER_CARD)));
    // A decline whose text echoes both card numbers in full.
    noebs.respond(OTHER_CARD, 51, `Insufficient funds: ${SOURCE.pan} -> ${OTHER_CARD}`);
    await record(() => provider.submit(card(OTHER_CARD)));
    await record(() => noebsClient({ source: { ...SOURCE, ipin: '0000' } }).submit(card(CUSTOMER_CARD)));
    noebs.fault('p2p', { kind: 'status', status: 500 });
    await record(() => provider.submit(card(CUSTOMER_CARD)));
    noebs.fault('p2p', { kind: 'hang' });
    await record(() => noebsClient({ timeoutMs: 300 }).submit(card(CUSTOMER_CARD)));
    await record(() => provider.status(randomUUID()));
    await record(() => noebsClient({ baseUrl: 'http://127.0.0.1:9' }).submit(card(CUSTOMER_CARD)));
    await record(async () => noebsClient({ source: { ...SOURCE, pan: `${SOURCE.pan.slice(0, -1)}0` } }));
    await record(async () => noebsClient({ source: { ...SOURCE, ipin: `${SOURCE.ipin}9` } }));
    await record(() => provider.submit({ ...card(CUSTOMER_CARD), currency: 'USD' }));

    const pp = createPayPalProvider(
      { baseUrl: paypal.url, clientId: paypal.clientId, clientSecret: paypal.clientSecret },
      { logger },
    );
    await record(() => pp.submit({ ...card(CUSTOMER_CARD), currency: 'USD' }));
    paypal.refuseNextCreate(400, {
      name: 'VALIDATION_ERROR',
      message: `Invalid request for ${CUSTOMER_CARD}`,
      details: [{ field: 'items[0].note', issue: `contains ${SOURCE.pan}` }],
    });
    await record(() =>
      pp.submit({
        payoutId: randomUUID(),
        amount: 100,
        currency: 'USD',
        method: { kind: 'paypal', email: 'jane@example.com' },
      }),
    );

    // The runs did produce output, and did reach the servers with the card data they need.
    expect(seen.length).toBeGreaterThanOrEqual(12);
    expect(lines.length).toBeGreaterThan(0);
    expect(noebs.transfers.length).toBeGreaterThan(0);
    expect(noebs.decryptedBlocks).toContain(noebs.transfers[0]!.uuid + SOURCE.ipin);

    const everything = [...seen, ...lines].join('\n');
    for (const pan of [SOURCE.pan, CUSTOMER_CARD, OTHER_CARD]) expect(everything).not.toContain(pan);
    // The IPIN as a token of its own (hex ids and port numbers may contain the digits by chance).
    expect(everything).not.toMatch(new RegExp(`(?<![0-9a-fA-F])${SOURCE.ipin}(?![0-9a-fA-F])`));
    expect(everything).not.toContain(`${SOURCE.ipin}9`);
    // Masked forms are what a reader gets.
    expect(everything).toContain(`${CUSTOMER_CARD.slice(0, 6)}******${CUSTOMER_CARD.slice(-4)}`);
  });
});
