// readManifest fuzzing (fast-check): whatever a manifest directory holds, every file is either an entry
// in the schema's shape or a reported problem, never a throw, and a valid file always reads back whole.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { manifestEntrySchema, readManifest } from '../../../drivers/devices/manifest.ts';

const root = mkdtempSync(join(tmpdir(), 'tillback-manifest-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
function writeDir(files: Array<string | Uint8Array>): string {
  const dir = mkdtempSync(join(root, 'd-'));
  files.forEach((contents, i) => writeFileSync(join(dir, `f${i}.json`), contents));
  return dir;
}

const hex4 = fc.stringMatching(/^[0-9a-fA-F]{4}$/);
const serialEntry = fc.record(
  {
    path: fc.string({ minLength: 1, maxLength: 40 }),
    manufacturer: fc.string({ maxLength: 20 }),
    serialNumber: fc.string({ maxLength: 20 }),
    vendorId: hex4,
    productId: hex4,
    label: fc.string({ maxLength: 20 }),
  },
  { requiredKeys: ['path'] },
);
const tcpEntry = fc.record(
  {
    tcp: fc
      .tuple(fc.stringMatching(/^[a-z0-9.-]{1,20}$/), fc.integer({ min: 0, max: 99999 }))
      .map(([h, p]) => `${h}:${p}`),
    driver: fc.constant('zvt' as const),
    manufacturer: fc.string({ maxLength: 20 }),
    label: fc.string({ maxLength: 20 }),
  },
  { requiredKeys: ['tcp', 'driver'] },
);
const validEntry = fc.oneof(serialEntry, tcpEntry);

/** Anything a file might hold: random bytes, random JSON, entries with a field broken, valid entries. */
const anyFile = fc.oneof(
  fc.uint8Array({ maxLength: 200 }),
  fc.json(),
  validEntry.chain((e) =>
    fc
      .constantFrom('path', 'tcp', 'vendorId', 'productId', 'driver')
      .map((k) => JSON.stringify({ ...e, [k]: 42 })),
  ),
  validEntry.map((e) => JSON.stringify(e)),
  validEntry.map((e) => JSON.stringify(e).slice(0, -3)),
);

describe('readManifest fuzzing (fast-check)', () => {
  it('every file is an entry or a problem, never a throw; entries satisfy the schema', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(anyFile, { maxLength: 6 }), async (files) => {
        const dir = writeDir(files);
        const { entries, problems } = await readManifest(dir);
        expect(entries.length + problems.length).toBe(files.length);
        for (const e of entries) expect(manifestEntrySchema.safeParse(e.entry).success).toBe(true);
        for (const p of problems) expect(p.message.length).toBeGreaterThan(0);
      }),
      { numRuns: 120 },
    );
  });

  it('a valid entry reads back exactly as written', async () => {
    await fc.assert(
      fc.asyncProperty(validEntry, async (entry) => {
        const { entries, problems } = await readManifest(writeDir([JSON.stringify(entry)]));
        expect(problems).toEqual([]);
        expect(entries[0]?.entry).toEqual(entry);
      }),
      { numRuns: 120 },
    );
  });
});
