// The merchant's webhook receiver during a load run: node:http on 127.0.0.1, every request's
// Tillback-Signature checked (contract/webhook-signature.ts, the recipe engine/README.md "Webhooks"
// documents), deduplicated by Tillback-Event-Id as receivers must (delivery is at least once), and
// every repeat counted. A verified event is answered 200 (also a repeat); anything else 400.
import { randomBytes } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { EVENT_ID_HEADER, SIGNATURE_HEADER, verifyWebhook } from '../../contract/webhook-signature.ts';

export interface Receiver {
  url: string;
  secret: string;
  /** Every verified event id, once. */
  readonly received: ReadonlySet<string>;
  /** Deliveries of an event id already received. */
  readonly redeliveries: number;
  /** Requests refused: bad or missing signature, no event id. */
  readonly refused: number;
  close(): Promise<void>;
}

export async function startReceiver(): Promise<Receiver> {
  const secret = randomBytes(32).toString('base64url');
  const received = new Set<string>();
  let redeliveries = 0;
  let refused = 0;
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const header = req.headers[SIGNATURE_HEADER.toLowerCase()];
      const eventId = req.headers[EVENT_ID_HEADER.toLowerCase()];
      const check = verifyWebhook({
        header: typeof header === 'string' ? header : undefined,
        body: Buffer.concat(chunks).toString('utf8'),
        secrets: [secret],
        nowSeconds: Math.floor(Date.now() / 1000),
      });
      if (!check.ok || typeof eventId !== 'string') {
        refused++;
        res.writeHead(400).end(check.ok ? 'no event id' : check.reason);
        return;
      }
      if (received.has(eventId)) redeliveries++;
      else received.add(eventId);
      res.writeHead(200).end('ok');
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/hooks`,
    secret,
    received,
    get redeliveries() {
      return redeliveries;
    },
    get refused() {
      return refused;
    },
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
