// SerialCardReader: the serial magstripe reader / barcode scanner driver, over a real socat pty pair
// (SerialTransport on both ends) and, for the fuzzing, over the in-memory pair.
import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import { SerialCardReader, type SerialReaderEvent } from '../../../drivers/cards/serial-reader.ts';
import { lrcChar } from '../../../drivers/cards/magstripe.ts';
import { TEST_CARDS } from '../../../drivers/simulate/cards.ts';
import { memoryPair } from '../../../drivers/transport/memory.ts';
import { SerialTransport } from '../../../drivers/transport/serial.ts';
import { waitForState } from '../../../drivers/transport/transport.ts';
import { VISA_PAN } from '../../fixtures/secrets.ts';
import { testLog } from '../../fixtures/test-log.ts';
import { SocatPair } from '../transport/socat.ts';

const cleanup: Array<() => unknown> = [];
afterEach(async () => {
  for (const f of cleanup.splice(0).reverse()) await f();
});

async function until(cond: () => boolean, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error('condition not met');
    await new Promise((r) => setTimeout(r, 5));
  }
}

/** A reader on one end of a socat pair and a raw SerialTransport (the device) on the other. */
async function rig(now?: () => number) {
  const pty = new SocatPair();
  await pty.start();
  const host = new SerialTransport({ path: pty.a, livenessIntervalMs: 100 });
  const device = new SerialTransport({ path: pty.b, livenessIntervalMs: 100 });
  await host.open();
  await device.open();
  const reader = new SerialCardReader(host, now ? { now } : {});
  const events: SerialReaderEvent[] = [];
  const log = testLog('serial-reader');
  reader.on('event', (e) => {
    events.push(e);
    log(e);
  });
  cleanup.push(
    () => pty.dispose(),
    () => host.close(),
    () => device.close(),
  );
  const send = (text: string) => device.write(Buffer.from(text, 'latin1'));
  return { pty, host, device, reader, events, send };
}

const visa = TEST_CARDS.visa.swipe;

describe('SerialCardReader over a socat pty', () => {
  it('a swipe sent byte by byte is one card event, masked, stamped by the clock given', async () => {
    const r = await rig(() => 1234567);
    for (const ch of `${visa}\r\n`) await r.send(ch);
    await until(() => r.events.length === 1);
    const e = r.events[0]!;
    expect(e.type).toBe('card');
    if (e.type !== 'card') return;
    expect(e.at).toBe(1234567);
    expect(e.swipe.card.panMasked).toBe('411111******1111');
    expect(e.swipe.card.withPan((p) => p === VISA_PAN)).toBe(true);
    expect(JSON.stringify(e)).not.toContain(VISA_PAN);
  });

  it('CR, LF and CRLF all end a line; empty lines are skipped; scans are classified', async () => {
    const r = await rig();
    await r.send(`${visa}\r\r\nTB-R-ABCDEFGH\n\nTB-M-123\r4006381333931\n`);
    await until(() => r.events.length === 4);
    expect(r.events.map((e) => (e.type === 'error' ? e.error.code : e.type))).toEqual([
      'card',
      'scan',
      'bad_member_code',
      'scan',
    ]);
    expect(r.events[1]).toMatchObject({ scan: { kind: 'receipt', receiptCode: 'ABCDEFGH' } });
    expect(r.events[3]).toMatchObject({ scan: { kind: 'unknown', length: 13 } });
  });

  it('an over-long line is one overflow error and the next line reads', async () => {
    const r = await rig();
    await r.send(`%B${'9'.repeat(3000)}\r\n${visa}\n`);
    await until(() => r.events.length === 2);
    expect(r.events.map((e) => (e.type === 'error' ? e.error.code : e.type))).toEqual(['overflow', 'card']);
  });

  it('a line cut by an unplug does not join the first line after the replug', async () => {
    const r = await rig();
    await r.send(visa.slice(0, 20));
    await until(() => r.host.state === 'open');
    await r.pty.kill();
    await waitForState(r.host, 'failed');
    await r.device.close();
    await r.pty.start();
    await r.host.open();
    await r.device.open();
    await r.send(`${visa}\r\n`);
    await until(() => r.events.length >= 1);
    await new Promise((res) => setTimeout(res, 50));
    expect(r.events.map((e) => e.type)).toEqual(['card']);
  });

  it('detach stops the events', async () => {
    const r = await rig();
    r.reader.detach();
    await r.send(`${visa}\r\n`);
    const arrived = new Promise<void>((res) => r.host.once('data', () => res()));
    await arrived;
    expect(r.events).toEqual([]);
  });
});

/** Feeds `chunks` through a memory pair into a fresh reader; resolves with its events. */
async function feed(chunks: Uint8Array[]): Promise<SerialReaderEvent[]> {
  const [host, device] = memoryPair();
  const reader = new SerialCardReader(host, { now: () => 0 });
  const events: SerialReaderEvent[] = [];
  reader.on('event', (e) => events.push(e));
  await host.open();
  await device.open();
  for (const c of chunks) await device.write(Buffer.from(c));
  // The memory cable delivers on a timer: one more turn lets the last chunk arrive.
  await new Promise((r) => setTimeout(r, 1));
  await host.close();
  await device.close();
  return events;
}

/** What an event says, comparable across runs (a card by its masked PAN and expiry). */
function summary(e: SerialReaderEvent): string {
  if (e.type === 'card')
    return `card ${e.swipe.card.panMasked} ${e.swipe.card.expiry.year}-${e.swipe.card.expiry.month}`;
  if (e.type === 'scan') return `scan ${JSON.stringify(e.scan)}`;
  return `error ${e.error.code}`;
}

/** Splits `bytes` at the given cut points. */
function chunked(bytes: Uint8Array, cuts: number[]): Uint8Array[] {
  const at = [...new Set(cuts.map((c) => c % (bytes.length + 1)))].sort((a, b) => a - b);
  const out: Uint8Array[] = [];
  let from = 0;
  for (const c of [...at, bytes.length]) {
    if (c > from) out.push(bytes.subarray(from, c));
    from = c;
  }
  return out;
}

describe('SerialCardReader fuzzing (fast-check)', () => {
  it('arbitrary bytes in arbitrary chunks: never a throw, the same events however chunked', async () => {
    const bytes = fc.uint8Array({ maxLength: 400 }).map((b) => {
      // Sprinkle line ends and sentinels so lines and would-be swipes happen.
      const out = Uint8Array.from(b);
      for (let i = 0; i < out.length; i += 7) out[i] = [0x0d, 0x0a, 0x25, 0x3b, 0x3f][out[i]! % 5]!;
      return out;
    });
    await fc.assert(
      fc.asyncProperty(bytes, fc.array(fc.nat(), { maxLength: 20 }), async (b, cuts) => {
        const whole = await feed([b]);
        const pieces = await feed(chunked(b, cuts));
        expect(pieces.map(summary)).toEqual(whole.map(summary));
        for (const e of whole) expect(['card', 'scan', 'error']).toContain(e.type);
      }),
      { numRuns: 150 },
    );
  });

  it('a swipe with LRCs and one corrupted byte never yields another card, a member or a receipt', async () => {
    const t1 = `%B${VISA_PAN}^CUSTOMER/TEST^3012101000000000000?`;
    const t2 = `;${VISA_PAN}=30121010000000000?`;
    const line = Buffer.from(`${t1}${lrcChar(1, t1)}${t2}${lrcChar(2, t2)}\r\n`, 'latin1');
    const [original] = await feed([line]);
    expect(original && summary(original)).toBe('card 411111******1111 2030-12');
    await fc.assert(
      fc.asyncProperty(fc.nat(line.length - 3), fc.integer({ min: 1, max: 255 }), async (pos, flip) => {
        const bad = Buffer.from(line);
        bad[pos] = bad[pos]! ^ flip;
        for (const e of await feed([bad])) {
          if (e.type === 'card') expect(summary(e)).toBe(summary(original!));
          if (e.type === 'scan') expect(e.scan.kind).toBe('unknown');
        }
      }),
      { numRuns: 300 },
    );
  });
});
