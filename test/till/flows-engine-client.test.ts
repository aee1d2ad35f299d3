// The flows' engine client against a real HTTP server on 127.0.0.1 that answers as each test scripts:
// the headers it sends (shared with the outbox's sender), answers read, the engine's refusals as a typed
// EngineError with its code and message, and no answer (refused connection, a hang) as unreachable.
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeTrack2 } from '../../drivers/cards/magstripe.ts';
import { createEngineClient, EngineError, mayCarryCardData } from '../../till/engine-client.ts';
import { engineCalls } from '../../till/flows/engine-calls.ts';
import { VISA_PAN } from '../fixtures/secrets.ts';

type Script = (respond: (status: number, body: string) => void) => void;
let server: Server;
let url: string;
let script: Script = (respond) => respond(200, '{}');
const received: { method: string; path: string; headers: IncomingHttpHeaders; body: string }[] = [];

beforeAll(async () => {
  server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      received.push({
        method: req.method ?? '',
        path: req.url ?? '',
        headers: req.headers,
        body: Buffer.concat(chunks).toString('utf8'),
      });
      script((status, body) => res.writeHead(status, { 'content-type': 'application/json' }).end(body));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

const client = (timeoutMs = 5_000) =>
  createEngineClient({ url, appId: 'app_till', apiKey: 'sk_till_secret' }, { timeoutMs });

async function failure(p: Promise<unknown>): Promise<EngineError> {
  const error = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(EngineError);
  return error as EngineError;
}

describe('the engine client', () => {
  it('posts JSON with the app credentials, the Idempotency-Key and a member token, and reads the answer', async () => {
    script = (respond) => respond(200, '{"amount_redeemed":250}');
    const answer = await client().post(
      '/v1/redeem',
      { amount: 250 },
      { idempotencyKey: 'key-1', memberToken: 'tok' },
    );
    expect(answer).toEqual({ amount_redeemed: 250 });
    const last = received.at(-1)!;
    expect(last).toMatchObject({ method: 'POST', path: '/v1/redeem', body: '{"amount":250}' });
    expect(last.headers).toMatchObject({
      'content-type': 'application/json',
      'x-app-id': 'app_till',
      'x-api-key': 'sk_till_secret',
      'idempotency-key': 'key-1',
      'x-member-token': 'tok',
    });
  });

  it("gives the engine's refusal as its status, code and message", async () => {
    script = (respond) => respond(401, '{"error":{"code":"pin_invalid","message":"Wrong PIN"}}');
    const e = await failure(client().post('/v1/redeem', {}));
    expect({ status: e.status, code: e.code, message: e.message, unreachable: e.unreachable }).toEqual({
      status: 401,
      code: 'pin_invalid',
      message: 'Wrong PIN',
      unreachable: false,
    });
  });

  it('counts a 5xx that is not the engine speaking as unreachable', async () => {
    script = (respond) => respond(502, '<html>Bad gateway</html>');
    const e = await failure(client().get('/v1/claims/x'));
    expect({ status: e.status, code: e.code, unreachable: e.unreachable }).toEqual({
      status: 502,
      code: 'engine_error',
      unreachable: true,
    });
  });

  it("gives a 5xx in the engine's own error shape as its refusal, with its reason", async () => {
    script = (respond) =>
      respond(503, '{"error":{"code":"delivery_failed","message":"The one-time code could not be sent"}}');
    const e = await failure(client().post('/v1/members/otp', {}));
    expect({ status: e.status, code: e.code, message: e.message, unreachable: e.unreachable }).toEqual({
      status: 503,
      code: 'delivery_failed',
      message: 'The one-time code could not be sent',
      unreachable: false,
    });
  });

  it('reports a hang past the timeout (engine_timeout) and a refused connection (engine_unreachable)', async () => {
    script = () => undefined; // never answers
    const hung = await failure(client(200).get('/v1/claims/x'));
    expect({ status: hung.status, code: hung.code, unreachable: hung.unreachable }).toEqual({
      status: null,
      code: 'engine_timeout',
      unreachable: true,
    });
    expect(hung.message).toBe('The engine did not answer in time');
    const closed = createEngineClient(
      { url: 'http://127.0.0.1:9', appId: 'a', apiKey: 'k' },
      { timeoutMs: 2_000 },
    );
    const refused = await failure(closed.get('/v1/claims/x'));
    expect(refused.code).toBe('engine_unreachable');
    expect(refused.message).not.toContain('sk_till_secret');
  });

  it('sends card data only over HTTPS or to an engine on this machine', async () => {
    const table: [string, boolean][] = [
      ['https://engine.example.com', true],
      ['http://127.0.0.1:8080', true],
      ['http://localhost:8080', true],
      ['http://[::1]:8080', true],
      ['http://10.0.0.5:8080', false],
      ['http://engine.example.com', false],
    ];
    for (const [url, allowed] of table) expect([url, mayCarryCardData(url)]).toEqual([url, allowed]);

    // A PIN redeem to a plain-HTTP engine elsewhere is refused before any request (192.0.2.1 is TEST-NET).
    const read = decodeTrack2(`;${VISA_PAN}=30122010000000000000?`);
    if (!read.ok) throw read.error;
    const far = createEngineClient(
      { url: 'http://192.0.2.1:8080', appId: 'a', apiKey: 'k' },
      { timeoutMs: 5_000 },
    );
    const sale = { programId: 1, amount: 100, reference: null };
    const event = await engineCalls(far, 'Store').redeemWithPin(
      sale,
      read.value,
      { ksn: 'f'.repeat(20), block: '0'.repeat(16) },
      'key',
    );
    expect(event).toMatchObject({ type: 'engine_failed', code: 'card_data_needs_tls', unreachable: false });
  });
});
