// Several operations in one transaction, applied one after another in the order given, each in its
// own savepoint: an operation the domain refuses (a DomainError) rolls back only its own writes and
// the next one runs; anything else (a bug, a failing disk) throws and the whole transaction rolls
// back. One commit for all of them, and their order is the order given whatever the store: a till's
// queued earn and the refund of that purchase behind it are applied in that order.
import type { Tx } from '../store/store.ts';
import { DomainError } from './errors.ts';
import { markSharedSums } from './ledger.ts';

export type Settled<T> = { ok: true; value: T } | { ok: false; error: DomainError };

export async function inOrder<T>(
  tx: Tx,
  operations: readonly ((tx: Tx) => Promise<T>)[],
): Promise<Settled<T>[]> {
  const settled: Settled<T>[] = [];
  for (const operation of operations) {
    await tx.run('SAVEPOINT in_order');
    const restoreSharedSums = markSharedSums(tx);
    try {
      settled.push({ ok: true, value: await operation(tx) });
    } catch (error) {
      if (!(error instanceof DomainError)) throw error;
      await tx.run('ROLLBACK TO in_order');
      restoreSharedSums();
      settled.push({ ok: false, error });
    }
    await tx.run('RELEASE in_order');
  }
  return settled;
}
