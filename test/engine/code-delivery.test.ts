// One-time codes sent through the chain's code gateway (engine/code-delivery.ts): a real HTTP server
// on loopback plays the gateway; the engine posts each code there, and a gateway that refuses or
// hangs gives the member API's 503 `delivery_failed` (the till then says the code could not be sent).
import { readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { loadEngineConfig } from '../../engine/config.ts';
import { testLogFile } from '../fixtures/test-log.ts';
import { startHarness, type Harness } from './harness.ts';

interface Received {
  headers: IncomingMessage['headers'];
  body: { to: string; kind: string; code: string };
}

let gateway: Server;
let gatewayUrl: string;
const received: Received[] = [];
/** What the gateway does with the next message: accept it (202), refuse it, or never answer. */
let behaviour: 'accept' | 'refuse' | 'hang' = 'accept';
let h: Harness;
let headers: Record<string, string>;

beforeAll(async () => {
  gateway = createServer((req, res) => {
    let text = '';
    req.on('data', (chunk: Buffer) => (text += chunk.toString()));
    req.on('end', () => {
      received.push({ headers: req.headers, body: JSON.parse(text) as Received['body'] });
      if (behaviour === 'hang') return;
      res.writeHead(behaviour === 'accept' ? 202 : 500).end();
    });
  });
  await new Promise<void>((resolve) => gateway.listen(0, '127.0.0.1', resolve));
  gatewayUrl = `http://127.0.0.1:${(gateway.address() as AddressInfo).port}/send`;
  h = await startHarness({ codes: { gatewayUrl, authorization: 'Bearer gateway-token', timeoutMs: 500 } });
  headers = (await h.app(['cashback_read', 'cashback_write'])).headers;
});

afterEach(() => {
  behaviour = 'accept';
  received.length = 0;
});

afterAll(async () => {
  await h?.close();
  gateway.closeAllConnections();
  await new Promise((resolve) => gateway.close(resolve));
});

let seq = 0;
async function member(): Promise<string> {
  seq += 1;
  const email = `gateway${seq}@example.com`;
  const created = await h.request({
    method: 'POST',
    url: '/v1/members',
    headers: { ...headers, 'idempotency-key': `member-${seq}` },
    body: { email, name: `Gateway ${seq}` },
  });
  expect(created.status, created.text).toBe(201);
  return email;
}

const askCode = (email: string, key: string) =>
  h.request({
    method: 'POST',
    url: '/v1/otp',
    headers: { ...headers, 'idempotency-key': key },
    body: { member: { email } },
  });

describe('the code gateway', () => {
  it('gets each code with who and which kind, and the code it got signs the member in', async () => {
    const email = await member();
    const otp = await askCode(email, 'otp-ok');
    expect(otp.status, otp.text).toBe(200);
    expect(received).toHaveLength(1);
    const [message] = received;
    expect(message?.headers['authorization']).toBe('Bearer gateway-token');
    expect(message?.headers['content-type']).toBe('application/json');
    expect(message?.body).toEqual({ to: email, kind: 'otp', code: expect.stringMatching(/^\d{6}$/) });
    // The code the gateway got is the one the engine accepts; the API answer never holds it.
    expect(otp.text).not.toContain(message?.body.code);
    const verified = await h.request({
      method: 'POST',
      url: '/v1/otp/verify',
      headers: { ...headers, 'idempotency-key': 'verify-ok' },
      body: { challenge_id: otp.body.challenge_id, code: message?.body.code },
    });
    expect(verified.status, verified.text).toBe(200);
    expect(typeof verified.body.member_token).toBe('string');
  });

  it('refusing a code: 503 delivery_failed, which says to try again', async () => {
    behaviour = 'refuse';
    const otp = await askCode(await member(), 'otp-refused');
    expect(otp.status).toBe(503);
    expect(otp.body.error).toMatchObject({
      code: 'delivery_failed',
      message: 'The one-time code could not be sent; try again shortly',
    });
    expect(received).toHaveLength(1);
    expect(otp.text).not.toContain(received[0]?.body.code);
    // The operator's log says why (the error's cause); the client's answer does not.
    expect(otp.text).not.toContain('gateway answered');
    const loggedWhy = () =>
      readFileSync(testLogFile('engine'), 'utf8')
        .split('\n')
        .some((line) => line.includes('could not be sent') && line.includes('the code gateway answered 500'));
    await expect.poll(loggedWhy, { timeout: 3_000 }).toBe(true);
  });

  it('not answering within codes.timeoutMs: the same 503, not a request left hanging', async () => {
    behaviour = 'hang';
    const started = Date.now();
    const otp = await askCode(await member(), 'otp-hung');
    expect(otp.status).toBe(503);
    expect(otp.body.error.code).toBe('delivery_failed');
    expect(Date.now() - started).toBeLessThan(5_000);
  });
});

describe('codes configuration', () => {
  const load = (environment: Record<string, string>) => loadEngineConfig({ environment });

  it('reads the gateway and its authorization from the environment', () => {
    const config = load({
      TILLBACK_CODES_GATEWAY_URL: 'https://sms.example.com/send',
      TILLBACK_CODES_AUTHORIZATION: 'Bearer x',
    });
    expect(config.codes).toEqual({
      gatewayUrl: 'https://sms.example.com/send',
      authorization: 'Bearer x',
      timeoutMs: 5_000,
    });
    expect(load({}).codes.gatewayUrl).toBeUndefined();
  });

  it('sends codes over the network only by https; http only to this machine', () => {
    expect(() => load({ TILLBACK_CODES_GATEWAY_URL: 'http://sms.example.com/send' })).toThrow(
      /codes\.gatewayUrl.*needs https:\/\//s,
    );
    expect(() => load({ TILLBACK_CODES_GATEWAY_URL: 'not a url' })).toThrow(/codes\.gatewayUrl/);
    expect(load({ TILLBACK_CODES_GATEWAY_URL: 'http://localhost:9000/send' }).codes.gatewayUrl).toBe(
      'http://localhost:9000/send',
    );
  });
});
