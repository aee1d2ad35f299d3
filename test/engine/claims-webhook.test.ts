// End to end: a seed 000 claim generated, opened, submitted and paid by the sandbox, and its outcome
// received by a real local HTTP server at the provider's registered endpoint, in the noebs body
// {name, details: {response, code, time, amount}}, signed with Tillback-Signature.
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, expect, it } from 'vitest';
import { verifyWebhook } from '../../contract/webhook-signature.ts';
import { startHarness, type Harness } from './harness.ts';

const SECRET = 'w'.repeat(40);
let h: Harness | undefined;
let server: Server | undefined;
afterEach(async () => {
  await h?.close();
  // The engine's stop aborts any delivery in flight; one aborted as it connected leaves a connection
  // that sent nothing, which Node 20's close() alone would wait on for as long as it stays.
  await new Promise((r) => {
    if (!server) return r(undefined);
    server.close(r);
    server.closeAllConnections();
  });
});

it('delivers a seed 000 claim outcome to the provider endpoint, signed', { timeout: 60_000 }, async () => {
  const received: { body: string; signature: string | undefined }[] = [];
  server = createServer((req: IncomingMessage, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      received.push({ body, signature: req.headers['tillback-signature'] as string | undefined });
      res.writeHead(200).end();
    });
  });
  await new Promise<void>((r) => server!.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  h = await startHarness({ webhooks: { secrets: [SECRET], allowPrivateNetworks: ['127.0.0.1/32'] } });
  const merchant = (await h.app(['cashback_read', 'cashback_write'])).headers;

  const registered = await h.request({
    method: 'POST',
    url: '/cashout/register',
    headers: merchant,
    body: {
      name: 'shifa',
      pan: '5350290149345177',
      expDate: '3012',
      ipin: '0000',
      consent: true,
      endpoint: `http://127.0.0.1:${port}/noebs`,
    },
  });
  expect(registered.status).toBe(200);
  const { uuid } = (
    await h.request({
      method: 'POST',
      url: '/cashout/generate/shifa',
      headers: merchant,
      body: { amount: 100, id: 'xcx' },
    })
  ).body;
  await h.request({ method: 'POST', url: `/v1/public/claims/${uuid}/open` });
  await h.request({
    method: 'POST',
    url: `/v1/public/claims/${uuid}/submit`,
    body: { method: { kind: 'card', number: '4111111111111111', expiry: '01/31' }, consent: true },
  });

  const deadline = Date.now() + 30_000;
  while (received.length === 0) {
    if (Date.now() > deadline) throw new Error('no webhook arrived');
    h.engine.payouts.kick();
    await new Promise((r) => setTimeout(r, 20));
  }
  // Only the outcome goes to a seed 000 endpoint: one delivery among the claim's five events.
  const deliveries = await h.store.read((tx) =>
    tx.all<{ type: string }>(
      'SELECT e.type FROM webhook_deliveries d JOIN events e ON e.id = d.event_id WHERE e.subject_id = ?',
      [uuid],
    ),
  );
  expect(deliveries).toEqual([{ type: 'claim.paid' }]);
  expect(received).toHaveLength(1);
  const [delivery] = received;
  expect(JSON.parse(delivery!.body)).toEqual({
    name: 'shifa',
    details: { response: 'Approval', code: 0, time: expect.any(String), amount: 100 },
  });
  expect(
    verifyWebhook({
      header: delivery!.signature,
      body: delivery!.body,
      secrets: [SECRET],
      nowSeconds: Math.floor(h.clock.now / 1000),
    }),
  ).toMatchObject({ ok: true });
  expect(delivery!.body).not.toContain('5350290149345177');
});
