// The sender's batches, through a recording proxy in front of a real engine on loopback: a backlog
// goes in batches of at most `batchSize`, one request at a time, in order, with a refused operation
// failed in its place and the queue state right after every batch; an answer lost after the engine
// applied a batch is sent again and applied once; an engine that refuses the batch route gets one
// request per operation.
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, expect, it, vi } from 'vitest';
import { openOutbox, type Outbox, type QueueState } from '../../till/outbox/outbox.ts';
import { startEngineLink, type EngineLink } from './engine-link.ts';

/** What the proxy does with a request to the engine. */
type Mode = 'down' | 'forward' | 'lose-answer' | 'no-batch-route';

let link: EngineLink;
let dir: string;
let proxy: Server;
let proxyUrl: string;
let mode: (path: string) => Mode;
/** Each forwarded request: its path, how many operations it carried, how many were in flight with it. */
let seen: { path: string; operations: number; inFlight: number }[];
let outbox: Outbox;

beforeEach(async () => {
  link = await startEngineLink();
  dir = mkdtempSync(join(tmpdir(), 'tillback-batch-'));
  seen = [];
  mode = () => 'forward';
  let inFlight = 0;
  proxy = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const path = req.url ?? '';
      const m = req.method === 'GET' ? 'forward' : mode(path);
      if (m === 'down') return void req.socket.destroy();
      if (m === 'no-batch-route' && path === '/v1/batch') {
        return void res
          .writeHead(404, { 'content-type': 'application/json' })
          .end('{"error":{"code":"not_found","message":"No route POST /v1/batch"}}');
      }
      const body = Buffer.concat(chunks);
      if (req.method === 'POST') {
        const ops =
          path === '/v1/batch' ? (JSON.parse(body.toString()) as { operations: [] }).operations : [0];
        seen.push({ path, operations: ops.length, inFlight: ++inFlight });
      }
      const headers = Object.fromEntries(
        Object.entries(req.headers).filter(([k]) => !['host', 'content-length', 'connection'].includes(k)),
      ) as Record<string, string>;
      void fetch(link.url + path, { method: req.method, headers, ...(req.method === 'POST' ? { body } : {}) })
        .then(async (r) => {
          const text = await r.text();
          if (req.method === 'POST') inFlight -= 1;
          // The engine has applied it; the till never hears so.
          if (m === 'lose-answer') return void req.socket.destroy();
          res.writeHead(r.status, { 'content-type': 'application/json' }).end(text);
        })
        .catch(() => req.socket.destroy());
    });
  });
  await new Promise<void>((r) => proxy.listen(0, '127.0.0.1', r));
  proxyUrl = `http://127.0.0.1:${(proxy.address() as AddressInfo).port}`;
  outbox = await openOutbox({
    path: join(dir, 'till.sqlite'),
    engine: { url: proxyUrl, ...link.credentials },
    retry: { baseMs: 10, maxMs: 100 },
    timeoutMs: 5_000,
    batchSize: 40,
  });
});
afterEach(async () => {
  await outbox.close();
  proxy.closeAllConnections();
  await new Promise((r) => proxy.close(r));
  await link.close();
  rmSync(dir, { recursive: true, force: true });
});

const earn = (i: number, extra: Record<string, unknown> = {}) => ({
  type: 'earn',
  cashier: 'alice',
  programId: link.programId,
  currency: 'TND',
  member: { email: `member${i % 5}@example.com` },
  memberName: 'A Member',
  purchaseAmount: 1_000 + i,
  reference: `sale-${i}`,
  ...extra,
});

async function backlog(count: number, refused: number[] = []): Promise<string[]> {
  const ids: string[] = [];
  for (let i = 0; i < count; i++) {
    ids.push(await outbox.enqueue(earn(i, refused.includes(i) ? { programId: link.programId + 1 } : {})));
  }
  return ids;
}

const drained = () =>
  vi.waitFor(async () => expect((await outbox.state()).waiting).toBe(0), { timeout: 60_000, interval: 50 });

it('sends a backlog in batches, one request at a time, in order, the state right after each', async () => {
  mode = () => 'down';
  outbox.start();
  const ids = await backlog(130, [57]);
  await vi.waitFor(async () => expect((await outbox.operation(ids[0]!))!.attempts).toBeGreaterThanOrEqual(2));
  expect(seen).toEqual([]);

  const states: QueueState[] = [];
  outbox.onState((s) => states.push(s));
  mode = () => 'forward';
  await drained();
  expect(seen.map((r) => [r.path, r.operations])).toEqual([
    ['/v1/batch', 40],
    ['/v1/batch', 40],
    ['/v1/batch', 40],
    ['/v1/batch', 10],
  ]);
  expect(Math.max(...seen.map((r) => r.inFlight))).toBe(1);
  expect((await link.applied()).map((t) => t.reference)).toEqual(
    ids.map((_, i) => `sale-${i}`).filter((r) => r !== 'sale-57'),
  );
  const refused = (await outbox.operation(ids[57]!))!;
  expect(refused).toMatchObject({
    state: 'failed',
    result: expect.stringMatching(/^404 program_not_found: /),
  });
  // One state per batch, counting down by what each delivered or refused.
  await vi.waitFor(() =>
    expect(states.filter((s) => s.online).map((s) => s.waiting)).toEqual([90, 50, 10, 0]),
  );
  expect(states.at(-1)).toMatchObject({ online: true, failed: 1, oldestAgeMs: null });
  expect(await link.h.ledgerProblems()).toEqual([]);
});

it('sends a batch again when its answer is lost after the engine applied it, and it is applied once', async () => {
  let lost = 0;
  mode = (path) => (path === '/v1/batch' && lost++ === 0 ? 'lose-answer' : 'forward');
  const ids = await backlog(25);
  outbox.start();
  await drained();
  expect(seen.map((r) => r.operations)).toEqual([25, 25]);
  expect((await link.applied()).map((t) => t.reference)).toEqual(ids.map((_, i) => `sale-${i}`));
  for (const id of ids) {
    const op = (await outbox.operation(id))!;
    expect(op.state).toBe('delivered');
    // The engine's stored answer: the first attempt applied it.
    expect(JSON.parse(op.result!)).toMatchObject({ replayed: true, purchase_amount: op.amount });
  }
  expect(await link.h.ledgerProblems()).toEqual([]);
});

it('sends one request per operation to an engine that refuses the batch route', async () => {
  mode = () => 'no-batch-route';
  const ids = await backlog(12);
  outbox.start();
  await drained();
  expect(seen.map((r) => r.path)).toEqual(ids.map(() => '/v1/earn'));
  expect((await link.applied()).map((t) => t.reference)).toEqual(ids.map((_, i) => `sale-${i}`));
  for (const id of ids) expect((await outbox.operation(id))!.state).toBe('delivered');
});
