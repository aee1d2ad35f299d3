// The request hash of an idempotency key is stored with the key, and a retry is matched against it
// for 30 days: its canonical form must never change. This holds requestHash to the form it was
// first written in (object keys sorted recursively, then JSON.stringify), for any value.
import { createHash } from 'node:crypto';
import fc from 'fast-check';
import { LosslessNumber } from 'lossless-json';
import { describe, expect, it } from 'vitest';
import { requestHash } from '../../engine/domain/idempotency.ts';

/** The first implementation, kept as the definition of the stored form. */
function firstRequestHash(value: unknown): string {
  const canonical = (v: unknown): unknown =>
    v && typeof v === 'object' && !Array.isArray(v)
      ? Object.fromEntries(
          Object.keys(v)
            .sort()
            .map((k) => [k, canonical((v as Record<string, unknown>)[k])]),
        )
      : Array.isArray(v)
        ? v.map(canonical)
        : v;
  return createHash('sha256')
    .update(JSON.stringify(canonical(value)) ?? 'null')
    .digest('hex');
}

const outcome = (f: () => string) => {
  try {
    return { hash: f() };
  } catch (error) {
    return { threw: (error as Error).constructor.name };
  }
};

describe('requestHash', () => {
  it('hashes any value exactly as the first implementation did', () => {
    fc.assert(
      fc.property(
        fc.anything({
          withBoxedValues: true,
          withDate: true,
          withMap: true,
          withSet: true,
          withSparseArray: true,
          withNullPrototype: true,
          withObjectString: true,
          withTypedArray: true,
          withBigInt: true,
        }),
        (value) => {
          expect(outcome(() => requestHash(value))).toEqual(outcome(() => firstRequestHash(value)));
        },
      ),
      { numRuns: 5_000 },
    );
  });

  it('hashes requests as the engine builds them, with undefined fields and exact numbers', () => {
    const request = {
      appId: 'app_till',
      programId: 3,
      member: { email: 'jane@example.com' },
      memberName: undefined,
      purchaseAmount: { decimal: new LosslessNumber('50.00') },
      metadata: { lane: [1, undefined, 'x'], note: () => 'dropped' },
      idempotency: undefined,
    };
    const reordered = {
      idempotency: undefined,
      metadata: { note: () => 'dropped', lane: [1, undefined, 'x'] },
      purchaseAmount: { decimal: new LosslessNumber('50.00') },
      member: { email: 'jane@example.com' },
      programId: 3,
      appId: 'app_till',
    };
    expect(requestHash(request)).toBe(firstRequestHash(request));
    expect(requestHash(reordered)).toBe(requestHash(request));
    expect(requestHash({ ...request, programId: 4 })).not.toBe(requestHash(request));
  });
});
