// The device and queue event logs: the real device manager over the simulator's socat terminals (a
// swipe and a PIN entry logged with no PAN, PIN or PIN block anywhere in the till's file), the cap
// and its pruning in batches, and an earn through a real engine: its queue events, its history row
// with the engine's cashback, the day's totals and the history_changed messages on /api/events.
import { readFileSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import WebSocket from 'ws';
import type { CardRead } from '../../drivers/cards/magstripe.ts';
import { manifestEnumerator } from '../../drivers/devices/enumerators.ts';
import { DeviceManager } from '../../drivers/devices/manager.ts';
import { startSimulation, type SimulationController } from '../../drivers/simulate/simulation.ts';
import { ServerMessageSchema, type ServerMessage } from '../../till/api/messages.ts';
import { startEventLogs } from '../../till/history/event-logs.ts';
import { SIM_PINS, TEST_PANS } from '../fixtures/secrets.ts';
import { testLog } from '../fixtures/test-log.ts';
import { startEngineLink, type EngineLink } from './engine-link.ts';
import { startHistoryTill } from './history-fixture.ts';

const cleanup: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const f of cleanup.splice(0).reverse()) await f();
});

async function untilTrue(cond: () => Promise<boolean>, what: string, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > deadline) throw new Error(`${what}: not within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('device events', () => {
  let dir: string;
  let sim: SimulationController;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'tillback-history-sim-'));
    sim = await startSimulation({
      dir,
      devices: ['reader', 'pinpad'],
      pin: SIM_PINS[1],
      out: testLog('history-sim'),
    });
  });
  afterAll(async () => {
    await sim.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('a swipe and a PIN entry (6-digit PIN, unlikely by chance in binary) are logged masked: no PAN, PIN or PIN block in the till file', async () => {
    const till = await startHistoryTill();
    cleanup.push(() => till.close());
    const manager = new DeviceManager({
      enumerators: [manifestEnumerator(dir)],
      pollIntervalMs: 100,
      probe: false,
    });
    const logs = startEventLogs({ store: till.outbox.store, outbox: till.outbox, devices: manager });
    cleanup.push(() => manager.close());
    cleanup.push(() => logs.stop());
    await manager.start();
    const reader = manager.list().find((d) => d.kind === 'card_reader')!;
    const pinpad = manager.list().find((d) => d.kind === 'pinpad')!;
    expect(reader.state).toBe('connected');
    expect(pinpad.state).toBe('connected');

    const swiped = new Promise<CardRead>((resolve) => manager.once('swipe', (s) => resolve(s.card)));
    await sim.swipe('visa', 'reader-1');
    const { ksn, pinBlock } = await manager.enterPin(await swiped, { timeoutMs: 10_000 });
    await logs.flush();

    const r = await till.call(
      'GET',
      `/api/logs/devices?${new URLSearchParams({ device: reader.id, limit: '500' })}`,
    );
    expect(r.status).toBe(200);
    const readerLog = (await r.json()) as { events: { deviceId: string; type: string; summary: any }[] };
    expect(readerLog.events.every((e) => e.deviceId === reader.id)).toBe(true);
    const card = readerLog.events.find((e) => e.type === 'card');
    expect(card?.summary).toMatchObject({ panMasked: expect.stringMatching(/^411111\*+1111$/) });
    const all = await till.outbox.store.read((tx) =>
      tx.all<{ device_id: string; type: string; summary: string }>('SELECT * FROM device_events'),
    );
    expect(all.find((e) => e.type === 'pin')).toMatchObject({ device_id: pinpad.id });
    expect(JSON.parse(all.find((e) => e.type === 'pin')!.summary)).toEqual({
      ksn,
      pinBlock: 'encrypted PIN block',
    });
    expect(
      all
        .filter((e) => e.type === 'added')
        .map((e) => e.device_id)
        .sort(),
    ).toEqual([pinpad.id, reader.id].sort());

    // Nothing secret in the file as it is on disk (database and write-ahead log).
    await manager.close();
    await logs.stop();
    const file = join(till.dir, 'till.sqlite');
    const bytes = [file, `${file}-wal`]
      .filter((f) => existsSync(f))
      .map((f) => readFileSync(f).toString('latin1'))
      .join('');
    expect(bytes).toContain('411111');
    for (const secret of [
      ...TEST_PANS,
      SIM_PINS[1],
      pinBlock,
      pinBlock.toLowerCase(),
      pinBlock.toUpperCase(),
    ])
      expect(bytes).not.toContain(secret);
  });
});

describe('the cap', () => {
  it('keeps the newest N of each log, pruning at most pruneBatch rows per transaction', async () => {
    const till = await startHistoryTill();
    cleanup.push(() => till.close());
    const { store } = till.outbox;
    await store.transact(async (tx) => {
      for (let i = 1; i <= 25; i++) {
        await tx.run(
          "INSERT INTO queue_events (operation_id, kind, message, at) VALUES (?, 'queued', NULL, ?)",
          [`op-${i}`, i],
        );
        await tx.run(
          "INSERT INTO device_events (device_id, type, summary, at) VALUES ('d', 'state', '{}', ?)",
          [i],
        );
      }
    });
    const transactions = vi.spyOn(store, 'transact');
    const logs = startEventLogs({ store, outbox: till.outbox, maxEvents: 10, pruneBatch: 4 });
    await logs.flush();
    // 15 rows over the cap, 4 at a time: 4 transactions, none deleting more than 4 of a table.
    expect(transactions).toHaveBeenCalledTimes(4);
    transactions.mockRestore();
    const left = await store.read(async (tx) => ({
      queue: (
        await tx.all<{ operation_id: string }>('SELECT operation_id FROM queue_events ORDER BY seq')
      ).map((r) => r.operation_id),
      devices: (await tx.all<{ at: number }>('SELECT at FROM device_events ORDER BY seq')).map((r) => r.at),
    }));
    expect(left.queue).toEqual(Array.from({ length: 10 }, (_, i) => `op-${i + 16}`));
    expect(left.devices).toEqual(Array.from({ length: 10 }, (_, i) => i + 16));

    // New events join the log and push the oldest out, still 10 kept; the listing pages newest first.
    for (let i = 0; i < 3; i++)
      await till.outbox.enqueue({
        type: 'earn',
        cashier: 'carl',
        programId: 1,
        currency: 'TND',
        member: { email: 'jane@example.com' },
        purchaseAmount: 1_000 + i,
      });
    await logs.stop();
    const page1 = (await (await till.call('GET', '/api/logs/queue?limit=4')).json()) as any;
    expect(page1.events).toHaveLength(4);
    expect(page1.events.slice(0, 3).map((e: any) => e.kind)).toEqual(['queued', 'queued', 'queued']);
    const rest: any[] = [];
    let cursor: string | null = page1.nextCursor;
    while (cursor) {
      const p = (await (await till.call('GET', `/api/logs/queue?limit=4&cursor=${cursor}`)).json()) as any;
      rest.push(...p.events);
      cursor = p.nextCursor;
    }
    const seqs = [...page1.events, ...rest].map((e: any) => e.seq);
    expect(seqs).toHaveLength(10);
    expect(seqs).toEqual([...seqs].sort((a, b) => b - a));
  });
});

describe('an earn through a real engine', () => {
  let link: EngineLink;
  beforeAll(async () => {
    link = await startEngineLink();
  });
  afterAll(async () => {
    await link.close();
  });

  it('logs queued then delivered, shows the cashback the engine answered, totals it, and tells /api/events', async () => {
    const till = await startHistoryTill({ engine: { url: link.url, credentials: link.credentials } });
    cleanup.push(() => till.close());
    const logs = startEventLogs({ store: till.outbox.store, outbox: till.outbox });
    cleanup.push(() => logs.stop());

    const messages: ServerMessage[] = [];
    const ws = new WebSocket(`${till.api.url.replace('http', 'ws')}/api/events`);
    cleanup.push(async () => ws.close());
    ws.on('message', (data: Buffer) =>
      messages.push(ServerMessageSchema.parse(JSON.parse(data.toString('utf8')))),
    );
    await new Promise((resolve, reject) => {
      ws.once('open', resolve);
      ws.once('error', reject);
    });
    ws.send(JSON.stringify({ type: 'auth', token: till.api.token }));
    await untilTrue(async () => messages.some((m) => m.type === 'ready'), 'ready');

    till.outbox.start();
    const earn = await till.call('POST', '/api/earn', {
      session: till.cashier,
      body: {
        programId: link.programId,
        currency: 'TND',
        member: { email: 'jane@example.com' },
        memberName: 'Jane',
        purchaseAmount: 5_000,
        reference: 'SALE-ENGINE-1',
      },
    });
    expect(earn.status).toBe(201);
    const { id } = (await earn.json()) as { id: string };
    let detail: any;
    await untilTrue(async () => {
      detail = await (await till.call('GET', `/api/history/${id}`)).json();
      return detail.operation.state === 'delivered';
    }, 'delivered');
    await logs.flush();
    detail = await (await till.call('GET', `/api/history/${id}`)).json();

    // The program pays 5% (500 bps) of 5,000 minor units: 250, as the engine answered.
    expect(detail.operation).toMatchObject({
      id,
      type: 'earn',
      state: 'delivered',
      amount: 5_000,
      cashback: 250,
    });
    expect(detail.operation.answer).toMatchObject({ cashback_earned: 250, purchase_amount: 5_000 });
    expect(detail.events.map((e: any) => e.kind)).toEqual(['delivered', 'queued']);
    expect(JSON.parse(detail.events[0].message)).toMatchObject({ cashback_earned: 250 });

    const totals = (await (await till.call('GET', '/api/history/totals')).json()) as any;
    expect(totals.days).toEqual([
      {
        date: expect.any(String),
        currency: 'TND',
        operations: [{ type: 'earn', state: 'delivered', count: 1, amount: 5_000 }],
        cashback: { earned: 250, redeemed: 0, clawedBack: 0 },
      },
    ]);
    const queueLog = (await (await till.call('GET', `/api/logs/queue?operation=${id}`)).json()) as any;
    expect(queueLog.events.map((e: any) => e.kind)).toEqual(['delivered', 'queued']);

    await untilTrue(
      async () => messages.filter((m) => m.type === 'history_changed' && m.operationId === id).length >= 2,
      'history_changed messages',
    );
    expect(
      messages
        .filter((m) => m.type === 'history_changed')
        .map((m) => (m.type === 'history_changed' ? m.kind : '')),
    ).toEqual(['queued', 'delivered']);
  });
});
