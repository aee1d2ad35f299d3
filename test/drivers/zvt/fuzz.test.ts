// Whatever a (broken or hostile) terminal sends, a command ends with a result or a coded ZvtError, in time.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { memoryPair } from '../../../drivers/transport/memory.ts';
import { ZvtError, ZvtTerminal } from '../../../drivers/zvt/driver.ts';

describe('ZvtTerminal under arbitrary terminal bytes (fast-check)', () => {
  for (const framing of ['tcp', 'serial'] as const) {
    it(`${framing}: never throws, never hangs`, async () => {
      await fc.assert(
        fc.asyncProperty(
          fc.array(fc.uint8Array({ minLength: 1, maxLength: 40 }), { maxLength: 6 }),
          async (chunks) => {
            const [a, b] = memoryPair();
            const t = new ZvtTerminal({ transport: a, framing, commandTimeoutMs: 40, ackTimeoutMs: 10 });
            await b.open();
            await t.open();
            try {
              // The outcome is taken at once: the command may be refused while chunks are still
              // being written, and a rejection with no handler yet would be reported as unhandled.
              const run = t.readCard().then(
                (v) => v,
                (e: unknown) => e,
              );
              for (const c of chunks) await b.write(Buffer.from(c));
              const outcome = await run;
              if (outcome instanceof Error) {
                expect(outcome).toBeInstanceOf(ZvtError);
                expect(['timeout', 'terminal_abort', 'refused', 'link']).toContain(
                  (outcome as ZvtError).code,
                );
              }
              expect(t.busy).toBe(false);
            } finally {
              await t.close();
              await b.close();
            }
          },
        ),
        // The example is the case CI once caught: a refusal (84 B8) arriving while more bytes follow.
        { numRuns: 40, examples: [[[Uint8Array.of(0x84, 0xb8, 0x00), Uint8Array.of(0x01)]]] },
      );
    });
  }
});
