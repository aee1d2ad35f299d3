// `webhooks listen`: a receiver for trying webhooks out. It checks every request's Tillback-Signature
// with the secrets given, prints one line per event, and answers as a receiver should: 200 for a
// verified event (also for a repeat of an event id, which it names as such: delivery is at least once),
// 400 for anything else, so the engine's retries and attempt log can be watched end to end.
import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { EVENT_ID_HEADER, SIGNATURE_HEADER, verifyWebhook } from '../../contract/webhook-signature.ts';
import { print } from './common.ts';
import { silentConnections } from '../http/silent-connections.ts';

export interface ListenOptions {
  host: string;
  port: number;
  secrets: readonly string[];
  json: boolean;
}

const MAX_BODY = 1 << 20;

function readBody(req: IncomingMessage): Promise<string | undefined> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size <= MAX_BODY) chunks.push(c);
    });
    req.on('end', () => resolve(size > MAX_BODY ? undefined : Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

/** What one line says about an event body, without assuming its format (native, seed 000, seed 001). */
function summary(body: string): string {
  try {
    const v = JSON.parse(body) as Record<string, unknown>;
    const subject = v['subject'] as { kind?: unknown; id?: unknown } | undefined;
    if (typeof v['type'] === 'string') return `${v['type']} ${String(subject?.kind)} ${String(subject?.id)}`;
    if (typeof v['withdrawal_id'] === 'string')
      return `withdrawal ${v['withdrawal_id']} ${String(v['status'])}`;
    if (typeof v['name'] === 'string') return `provider ${v['name']} ${JSON.stringify(v['details'])}`;
    return `${body.length} bytes`;
  } catch {
    return 'a body that is not JSON';
  }
}

function parseOrText(body: string): unknown {
  try {
    return JSON.parse(body) as unknown;
  } catch {
    return body;
  }
}

/** Starts the receiver; resolves with its address once it listens, and a close function. */
export async function listenForWebhooks(
  opts: ListenOptions,
): Promise<{ url: string; close: () => Promise<void> }> {
  const seen = new Set<string>();
  const server = createServer((req, res) => {
    void readBody(req).then((body) => {
      const eventId = req.headers[EVENT_ID_HEADER.toLowerCase()];
      const id = typeof eventId === 'string' ? eventId : '-';
      const header = req.headers[SIGNATURE_HEADER.toLowerCase()];
      const result =
        body === undefined
          ? ({ ok: false, reason: `body over ${MAX_BODY} bytes` } as const)
          : verifyWebhook({
              header: typeof header === 'string' ? header : undefined,
              body,
              secrets: opts.secrets,
              nowSeconds: Math.floor(Date.now() / 1000),
            });
      const repeat = result.ok && seen.has(id);
      if (result.ok) seen.add(id);
      const at = new Date().toISOString();
      if (opts.json) {
        print(
          JSON.stringify({
            at,
            eventId: id,
            verified: result.ok,
            repeat,
            reason: result.ok ? undefined : result.reason,
            body: result.ok ? parseOrText(body ?? '') : undefined,
          }),
        );
      } else if (result.ok) {
        print(`${at}  ${id}  verified${repeat ? ' (repeat: already received)' : ''}  ${summary(body ?? '')}`);
      } else {
        print(`${at}  ${id}  REFUSED: ${result.reason}`);
      }
      res
        .writeHead(result.ok ? 200 : 400, { 'Content-Type': 'text/plain' })
        .end(result.ok ? 'ok' : result.reason);
    });
  });
  const silent = silentConnections(server);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port, opts.host, resolve);
  });
  const { address, port } = server.address() as AddressInfo;
  return {
    url: `http://${address.includes(':') ? `[${address}]` : address}:${port}/`,
    close: () =>
      new Promise((resolve) => {
        server.close(() => resolve());
        silent.close();
      }),
  };
}
