import { describe, expect, it } from 'vitest';
import { HidCardReader, HidKeyboardReader } from '../../../drivers/cards/hid-reader.ts';
import { memberCode } from '../../../drivers/cards/barcode.ts';
import { buildMagtekReport } from '../../../drivers/cards/magtek-hid.ts';
import type { SerialReaderEvent } from '../../../drivers/cards/serial-reader.ts';
import { memoryPair } from '../../../drivers/transport/memory.ts';
import { PAN, T1, T2, hidReports } from './fixtures.ts';

async function readerEvents(
  reports: Uint8Array[],
  opts?: { reportId?: boolean },
): Promise<SerialReaderEvent[]> {
  const [host, device] = memoryPair();
  const reader = new HidCardReader(host, { ...opts, now: () => 42 });
  const events: SerialReaderEvent[] = [];
  reader.on('event', (e) => events.push(e));
  await Promise.all([host.open(), device.open()]);
  for (const r of reports) await device.write(Buffer.from(r));
  await new Promise((r) => setTimeout(r, 20));
  reader.detach();
  await Promise.all([host.close(), device.close()]);
  return events;
}

describe('HidCardReader (MagTek vendor-mode reports)', () => {
  it('turns a report into the same card event as the serial reader, PAN kept inside', async () => {
    const [e] = await readerEvents([buildMagtekReport([T1, T2, ''])]);
    expect(e?.type).toBe('card');
    if (e?.type !== 'card') return;
    expect(e.swipe.card.track).toBe(1);
    expect(e.swipe.card.panMasked).toBe('535029******5177');
    expect(e.swipe.tracks).toHaveLength(2);
    expect(e.at).toBe(42);
    expect(JSON.stringify(e)).not.toContain(PAN);
  });

  it('skips a report id byte when told, and reports a bad report as a coded error', async () => {
    const withId = Buffer.concat([Buffer.of(0), buildMagtekReport([T1, T2, ''])]);
    const [ok] = await readerEvents([withId], { reportId: true });
    expect(ok?.type).toBe('card');
    const [bad] = await readerEvents([buildMagtekReport([T1, T2, ''], { status: [1, 1, 0] })]);
    expect(bad).toMatchObject({ type: 'error', error: { code: 'track_error' } });
  });
});

describe('HidKeyboardReader (boot keyboard reports from the hidraw node)', () => {
  // The idle gap is long next to the pause between two reports even on a loaded machine, so only the end
  // of the text can end a line.
  async function typed(text: string, idleMs: number): Promise<SerialReaderEvent[]> {
    const [host, device] = memoryPair();
    const reader = new HidKeyboardReader(host, { idleMs });
    const events: SerialReaderEvent[] = [];
    reader.on('event', (e) => events.push(e));
    await Promise.all([host.open(), device.open()]);
    for (const r of hidReports(text)) await device.write(Buffer.from(r));
    await new Promise((r) => setTimeout(r, Math.min(idleMs * 4, 1200)));
    reader.detach();
    await Promise.all([host.close(), device.close()]);
    return events;
  }

  it('a swipe typed and ended by Enter is a masked card event', async () => {
    const events = await typed(`${T1}${T2}\n`, 2000);
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({
      type: 'card',
      swipe: { card: { panMasked: '535029******5177', track: 1 } },
    });
    expect(JSON.stringify(events)).not.toContain(PAN);
  });

  it('a barcode without Enter ends at the idle gap and is classified', async () => {
    const code = memberCode('12345678');
    const events = await typed(code, 300);
    expect(events).toEqual([
      { type: 'scan', scan: { kind: 'member', memberNumber: code.slice(5) }, at: expect.any(Number) },
    ]);
  });

  it('a report that is not 8 bytes is a coded error', async () => {
    const [host, device] = memoryPair();
    const reader = new HidKeyboardReader(host);
    const events: SerialReaderEvent[] = [];
    reader.on('event', (e) => events.push(e));
    await Promise.all([host.open(), device.open()]);
    await device.write(Buffer.from([1, 2, 3]));
    await new Promise((r) => setTimeout(r, 20));
    reader.detach();
    await Promise.all([host.close(), device.close()]);
    expect(events).toMatchObject([{ type: 'error', error: { code: 'bad_report' } }]);
  });
});
