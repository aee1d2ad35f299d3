// A real webhook receiver for tests: node:http on 127.0.0.1, checking each request's
// Tillback-Signature the way a merchant would (contract/webhook-signature.ts), with answers a test
// can script (status, delay, body) per request.
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { verifyWebhook, type VerifyResult } from '../../contract/webhook-signature.ts';

export interface Received {
  headers: IncomingHttpHeaders;
  /** The raw body, exactly as it arrived. */
  body: string;
  json: any;
  /** The signature checked with the receiver's secrets at the receiver's clock. */
  verified: VerifyResult;
  /** Host header, to see which name the request was sent for. */
  host: string | undefined;
}

export interface Answer {
  status?: number;
  delayMs?: number;
  body?: string;
}

export interface Receiver {
  url: string;
  port: number;
  received: Received[];
  /** The most requests it was answering at one time. */
  maxConcurrent: number;
  /** Secrets the receiver accepts (change them to play a rotation). */
  secrets: string[];
  /** Decides the answer to the n-th request (0-based); 200 "ok" by default. */
  answer: (n: number, request: Received) => Answer;
  /** Resolves when `count` requests have arrived in all. */
  waitFor(count: number, timeoutMs?: number): Promise<Received[]>;
  close(): Promise<void>;
}

export async function startReceiver(options: {
  secrets: string[];
  nowSeconds: () => number;
}): Promise<Receiver> {
  const waiters: { count: number; resolve: () => void }[] = [];
  let answering = 0;
  const receiver: Receiver = {
    url: '',
    port: 0,
    received: [],
    maxConcurrent: 0,
    secrets: options.secrets,
    answer: () => ({}),
    async waitFor(count, timeoutMs = 10_000) {
      if (receiver.received.length < count) {
        await new Promise<void>((resolve, reject) => {
          const timer = setTimeout(
            () => reject(new Error(`receiver got ${receiver.received.length} of ${count} requests`)),
            timeoutMs,
          );
          waiters.push({
            count,
            resolve: () => {
              clearTimeout(timer);
              resolve();
            },
          });
        });
      }
      return receiver.received;
    },
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
  const server: Server = createServer((req, res) => {
    answering++;
    receiver.maxConcurrent = Math.max(receiver.maxConcurrent, answering);
    res.on('close', () => answering--);
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      let json: unknown;
      try {
        json = JSON.parse(body);
      } catch {
        json = undefined;
      }
      const header = req.headers['tillback-signature'];
      const got: Received = {
        headers: req.headers,
        body,
        json,
        host: req.headers.host,
        verified: verifyWebhook({
          header: typeof header === 'string' ? header : undefined,
          body,
          secrets: receiver.secrets,
          nowSeconds: options.nowSeconds(),
        }),
      };
      const n = receiver.received.length;
      receiver.received.push(got);
      for (const w of waiters.filter((w) => receiver.received.length >= w.count)) {
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve();
      }
      const answer = receiver.answer(n, got);
      const reply = () => {
        if (res.destroyed) return;
        res.writeHead(answer.status ?? (got.verified.ok ? 200 : 401), { 'content-type': 'text/plain' });
        res.end(answer.body ?? (got.verified.ok ? 'ok' : `bad signature: ${got.verified.reason}`));
      };
      if (answer.delayMs) setTimeout(reply, answer.delayMs);
      else reply();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  receiver.port = (server.address() as AddressInfo).port;
  receiver.url = `http://127.0.0.1:${receiver.port}/hooks`;
  return receiver;
}
