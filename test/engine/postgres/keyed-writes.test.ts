// "Once per key" across engine processes on one PostgreSQL database: a keyed write that opens its own
// transactions (domain/keyed-writes.ts: an OTP request, say) runs under the store's lock on the key
// (Store.withKeyLock), so two engines given one key at the same instant run it once and answer alike;
// without the lock the OTP test sends two codes. Member creation takes its key in its own transaction
// (domain/idempotency.ts) and is shown here alongside. The lock itself: held per key, given up when
// its work fails, on connections of its own, refused by a read-only store.
import { afterEach, describe, expect, it } from 'vitest';
import { openPostgresStore } from '../../../engine/store/postgres.ts';
import { startHarness, type Harness } from '../harness.ts';

let engines: Harness[] = [];
afterEach(async () => {
  // The first engine's store drops the database: it closes last.
  for (const h of engines.reverse()) await h.close();
  engines = [];
});

async function twoEngines(): Promise<[Harness, Harness]> {
  const a = await startHarness();
  engines.push(a);
  const b = await startHarness({ secretsFile: `${a.dir}/secrets.json` }, { shared: a.store.location });
  engines.push(b);
  return [a, b];
}

/** `n` requests alternating between the engines, all in flight together. */
async function both(
  [a, b]: [Harness, Harness],
  n: number,
  request: Parameters<Harness['request']>[0],
): Promise<Awaited<ReturnType<Harness['request']>>[]> {
  return Promise.all(Array.from({ length: n }, (_, i) => (i % 2 ? b : a).request(request)));
}

const count = (h: Harness, sql: string) => h.store.read((tx) => tx.row<{ n: number }>(sql)).then((r) => r.n);

describe('keyed writes across two engines on one PostgreSQL database', () => {
  it('create a member with one key through both engines at once: one member, one answer', async () => {
    const engines = await twoEngines();
    const admin = await engines[0].app(['admin']);
    const results = await both(engines, 12, {
      method: 'POST',
      url: '/v1/members',
      headers: { ...admin.headers, 'idempotency-key': 'member-1' },
      body: { email: 'sana@example.com', name: 'Sana' },
    });
    for (const r of results) expect(r.status, r.text).toBe(201);
    expect(new Set(results.map((r) => r.body.member_id)).size).toBe(1);
    expect(results.filter((r) => !r.body.replayed)).toHaveLength(1);
    expect(await count(engines[0], 'SELECT COUNT(*) AS n FROM members')).toBe(1);
  });

  it('request an OTP with one key through both engines at once: one code sent, one challenge', async () => {
    const engines = await twoEngines();
    const [a, b] = engines;
    const admin = await a.app(['admin']);
    const member = await a.request({
      method: 'POST',
      url: '/v1/members',
      headers: { ...admin.headers, 'idempotency-key': 'member-1' },
      body: { phone: '+216 70 000 000' },
    });
    expect(member.status, member.text).toBe(201);
    // Each engine has looked the app up once, so the requests below reach the key together.
    for (const h of engines) {
      const read = await h.request({ method: 'GET', url: '/v1/programs', headers: admin.headers });
      expect(read.status, read.text).toBe(200);
    }
    const results = await both(engines, 12, {
      method: 'POST',
      url: '/v1/otp',
      headers: { ...admin.headers, 'idempotency-key': 'otp-1' },
      body: { member: { id: member.body.member_id } },
    });
    for (const r of results) expect(r.status, r.text).toBe(200);
    // Without the lock each engine reads "no stored result" and sends its own code.
    expect(new Set(results.map((r) => r.body.challenge_id)).size).toBe(1);
    expect(results.filter((r) => !r.body.replayed)).toHaveLength(1);
    expect(a.sent.length + b.sent.length).toBe(1);
    expect(await count(a, 'SELECT COUNT(*) AS n FROM otp_challenges')).toBe(1);
    // A different request under the key, through the engine that did not run it, is still a conflict.
    const runBy = a.sent.length === 1 ? b : a;
    const other = await runBy.request({
      method: 'POST',
      url: '/v1/otp',
      headers: { ...admin.headers, 'idempotency-key': 'otp-1' },
      body: { member: { phone: '+216 70 000 001' } },
    });
    expect(other.status, other.text).toBe(409);
    expect(other.body.error.code).toBe('idempotency_conflict');
  });
});

describe('Store.withKeyLock on PostgreSQL', () => {
  it('two stores take turns on one key, and a failed holder gives the key up', async () => {
    const [a, b] = await twoEngines();
    const steps: string[] = [];
    const hold =
      (name: string, fail = false) =>
      async () => {
        steps.push(`${name} in`);
        // Long enough for the other store to ask for the key meanwhile; the order holds however long.
        await new Promise((resolve) => setTimeout(resolve, 100));
        steps.push(`${name} out`);
        if (fail) throw new Error(`${name} failed`);
        return name;
      };
    let entered!: () => void;
    const aIn = new Promise<void>((resolve) => (entered = resolve));
    const first = a.store.withKeyLock('key-1', async () => {
      entered();
      return hold('a', true)();
    });
    await aIn;
    const second = b.store.withKeyLock('key-1', hold('b'));
    await expect(first).rejects.toThrow('a failed');
    await expect(second).resolves.toBe('b');
    expect(steps).toEqual(['a in', 'a out', 'b in', 'b out']);
  });

  it('holds only its own key: another key is taken while it is held', async () => {
    const [a, b] = await twoEngines();
    let release!: () => void;
    const released = new Promise<void>((resolve) => (release = resolve));
    // a holds key-1 until b has run under key-2: this settles only if key-2 was free meanwhile.
    const first = a.store.withKeyLock('key-1', () => released.then(() => 'a'));
    const second = b.store.withKeyLock('key-2', async () => {
      release();
      return 'b';
    });
    await expect(Promise.all([first, second])).resolves.toEqual(['a', 'b']);
  });

  it('more locks held at once than the store has connections still leave its transactions one', async () => {
    const [a] = await twoEngines();
    // The harness's pool has 4 connections: 12 holders each running a transaction would wait forever
    // for one if the locks held connections of that pool.
    const ids = await Promise.all(
      Array.from({ length: 12 }, (_, i) =>
        a.store.withKeyLock(`key-${i}`, () =>
          a.store.transact((tx) => tx.row<{ n: number }>('SELECT ? AS n', [i]).then((r) => Number(r.n))),
        ),
      ),
    );
    expect(ids).toEqual(Array.from({ length: 12 }, (_, i) => i));
  });

  it('is refused by a read-only store (a replica)', async () => {
    const [a] = await twoEngines();
    const readOnly = await openPostgresStore({ url: a.store.location, readOnly: true, poolSize: 1 });
    try {
      let ran = false;
      await expect(
        readOnly.withKeyLock('key-1', async () => {
          ran = true;
        }),
      ).rejects.toThrow(/read-only store takes no key locks/);
      expect(ran).toBe(false);
    } finally {
      await readOnly.close();
    }
  });
});
