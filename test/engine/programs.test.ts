// Programs are immutable in the database, which is what lets the engine keep committed programs in
// memory (programReader): these tests hold the database to that, and the reader to keeping only
// what a committed transaction read.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createProgram, getProgram, programReader, type NewProgram } from '../../engine/domain/programs.ts';
import { openTestStore } from './fixtures/test-store.ts';
import type { Store, Tx } from '../../engine/store/store.ts';

const NOW = Date.UTC(2026, 0, 15);
const terms = (uniqueIdentifier: string, cashbackBps: number): NewProgram => ({
  uniqueIdentifier,
  name: uniqueIdentifier,
  currency: 'USD',
  cashbackBps,
});

/** The real transaction, counting the statements run through it. */
function counting(tx: Tx): { tx: Tx; statements: () => number } {
  let n = 0;
  const wrapped = new Proxy(tx, {
    get(target, name, receiver) {
      const value: unknown = Reflect.get(target, name, receiver);
      if (typeof value !== 'function') return value;
      return (...args: unknown[]) => {
        n++;
        return (value as (...a: unknown[]) => unknown).apply(target, args);
      };
    },
  });
  return { tx: wrapped, statements: () => n };
}

describe('programs', () => {
  let dir: string;
  let store: Store;
  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'tillback-programs-'));
    store = await openTestStore(dir);
  });
  afterEach(async () => {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('refuses to change or delete a program, leaving it as it was', async () => {
    const p = await store.transact((tx) => createProgram(tx, terms('FIVE', 500), NOW));
    await expect(
      store.transact((tx) => tx.run('UPDATE programs SET cashback_bps = 900 WHERE id = ?', [p.id])),
    ).rejects.toThrow(/programs are immutable/);
    await expect(store.transact((tx) => tx.run('DELETE FROM programs WHERE id = ?', [p.id]))).rejects.toThrow(
      /programs are immutable/,
    );
    expect(await store.read((tx) => getProgram(tx, p.id))).toEqual(p);
  });

  it('serves a program a committed transaction read without reading it again', async () => {
    const p = await store.transact((tx) => createProgram(tx, terms('FIVE', 500), NOW));
    const first = programReader(store);
    await store.transact((tx) => first.get(tx, p.id));
    first.committed();
    const again = await store.transact(async (tx) => {
      const c = counting(tx);
      const program = await programReader(store).get(c.tx, p.id);
      return { program, statements: c.statements() };
    });
    expect(again).toEqual({ program: p, statements: 0 });
  });

  it('keeps nothing read by a transaction that rolled back, whose program id is then reused', async () => {
    const reader = programReader(store);
    const rolledBack = store.transact(async (tx) => {
      const gone = await createProgram(tx, terms('GONE', 100), NOW);
      expect((await reader.get(tx, gone.id)).cashbackBps).toBe(100);
      throw new Error('roll back');
    });
    await expect(rolledBack).rejects.toThrow('roll back');
    const kept = await store.transact((tx) => createProgram(tx, terms('KEPT', 700), NOW));
    const seen = await store.transact((tx) => programReader(store).get(tx, kept.id));
    expect(seen).toEqual(kept);
    expect(seen.cashbackBps).toBe(700);
  });

  it('keeps programs per store: another database with the same id has its own', async () => {
    const otherDir = mkdtempSync(join(tmpdir(), 'tillback-programs-'));
    const other = await openTestStore(otherDir);
    try {
      const here = await store.transact((tx) => createProgram(tx, terms('HERE', 500), NOW));
      const there = await other.transact((tx) => createProgram(tx, terms('THERE', 300), NOW));
      expect(there.id).toBe(here.id);
      const reader = programReader(store);
      await store.transact((tx) => reader.get(tx, here.id));
      reader.committed();
      expect(await other.transact((tx) => programReader(other).get(tx, there.id))).toEqual(there);
    } finally {
      await other.close();
      rmSync(otherDir, { recursive: true, force: true });
    }
  });
});
