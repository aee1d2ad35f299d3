// The CSV export at size: 50,000 operations streamed. A consumer that stops after the first chunk
// has made the export read only the first pages from SQLite (so a million rows never sit in memory);
// the whole export over HTTP parses back (csv-parse, streaming) to 50,000 rows, sampled against what
// was written. The million-row run is a bench script (bench/history-csv.ts).
import { request } from 'node:http';
import { Readable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { parse } from 'csv-parse';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { SESSION_HEADER } from '../../till/api/server.ts';
import { CSV_PAGE_SIZE, historyCsv } from '../../till/history/csv.ts';
import { OPERATION_STATES } from '../../till/history/filters.ts';
import { seed, startHistoryTill, type HistoryTill, type SeedOperation } from './history-fixture.ts';

const N = 50_000;
const BASE = Date.parse('2026-06-01T00:00:00Z');

function operation(i: number): SeedOperation {
  const state = OPERATION_STATES[i % OPERATION_STATES.length]!;
  return {
    id: `op-${String(i).padStart(6, '0')}`,
    type: 'earn',
    state,
    amount: 1 + i * 7,
    currency: i % 2 ? 'JPY' : 'TND',
    memberRef: `email:m${i % 100}@example.com`,
    cashier: `cashier-${i % 7}`,
    reference: i % 11 === 0 ? `=SUM(A${i})` : `SALE-${i}`,
    result:
      state === 'delivered' ? JSON.stringify({ cashback_earned: i }) : state === 'queued' ? null : 'refused',
    voidReason: state === 'voided' ? 'given up' : null,
    createdAt: BASE + i * 1_000,
    attempts: 1,
    lastError: null,
  };
}

let till: HistoryTill;
beforeAll(async () => {
  till = await startHistoryTill({ timeZone: 'UTC' });
  await seed(
    till.outbox,
    Array.from({ length: N }, (_, i) => operation(i)),
  );
}, 120_000);
afterAll(async () => {
  await till.close();
});

describe('CSV export of 50,000 operations', () => {
  it('reads pages only as the consumer pulls: after the first chunk, a few pages of 50', async () => {
    const reads = vi.spyOn(till.outbox.store, 'read');
    const csv = historyCsv(till.outbox.store, {}, 'UTC');
    const first = await new Promise<Buffer>((resolve) =>
      csv.once('data', (chunk: Buffer) => {
        csv.pause();
        resolve(chunk);
      }),
    );
    expect(first.toString('utf8')).toMatch(/^id,created_at,date,/);
    // Give the export every chance to run ahead: it must stop at its buffers' high-water marks.
    let seen = -1;
    while (seen !== reads.mock.calls.length) {
      seen = reads.mock.calls.length;
      await sleep(200);
    }
    const pagesRead = reads.mock.calls.length;
    expect(pagesRead).toBeGreaterThanOrEqual(1);
    expect(pagesRead * CSV_PAGE_SIZE).toBeLessThan(N / 5);
    // Then the rest: all of it, in pages.
    let lines = first.toString('utf8').split('\n').length - 1;
    csv.on('data', (chunk: Buffer) => {
      for (const byte of chunk) if (byte === 0x0a) lines++;
    });
    csv.resume();
    await new Promise((resolve) => csv.once('end', resolve));
    expect(lines).toBe(N + 1);
    expect(reads.mock.calls.length).toBe(N / CSV_PAGE_SIZE + (N % CSV_PAGE_SIZE === 0 ? 0 : 1));
    reads.mockRestore();
  });

  it('over HTTP: every row once, newest first, sampled rows equal to what was written', async () => {
    const r = await till.call('GET', '/api/history.csv');
    expect(r.status).toBe(200);
    expect(r.headers.get('content-disposition')).toMatch(/^attachment; filename="tillback-history-/);
    const parser = Readable.fromWeb(r.body as never).pipe(parse({ columns: true }));
    let count = 0;
    let previous = Number.POSITIVE_INFINITY;
    for await (const row of parser as AsyncIterable<Record<string, string>>) {
      const i = Number(row.id!.slice(3));
      expect(i).toBeLessThan(previous);
      previous = i;
      count++;
      if (i % 997 === 0) {
        const o = operation(i);
        expect(row).toMatchObject({
          created_at: new Date(o.createdAt).toISOString().replace('Z', '+00:00'),
          state: o.state,
          currency: o.currency,
          amount_minor: String(o.amount),
          cashier: o.cashier,
          reference: o.reference!.startsWith('=') ? `'${o.reference}` : o.reference,
          cashback_minor: o.state === 'delivered' ? String(i) : '',
        });
      }
    }
    expect(count).toBe(N);
  });

  it('a client that leaves mid-export ends the page reads', async () => {
    const reads = vi.spyOn(till.outbox.store, 'read');
    // node:http, not fetch: undici opens a spare connection after an abort (nodejs/undici#5845) that
    // would hold the server's close open; a browser leaving closes its connection.
    await new Promise<void>((resolve, reject) => {
      const req = request(
        new URL('/api/history.csv', till.api.url),
        { headers: { authorization: `Bearer ${till.api.token}`, [SESSION_HEADER]: till.manager } },
        (res) => {
          res.once('data', () => {
            req.destroy();
            resolve();
          });
        },
      );
      req.on('error', reject);
      req.end();
    });
    let seen = -1;
    while (seen !== reads.mock.calls.length) {
      seen = reads.mock.calls.length;
      await sleep(300);
    }
    expect(reads.mock.calls.length * CSV_PAGE_SIZE).toBeLessThan(N);
    reads.mockRestore();
  });
});
