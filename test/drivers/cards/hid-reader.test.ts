import { describe, expect, it } from 'vitest';
import { HidCardReader } from '../../../drivers/cards/hid-reader.ts';
import { buildMagtekReport } from '../../../drivers/cards/magtek-hid.ts';
import type { SerialReaderEvent } from '../../../drivers/cards/serial-reader.ts';
import { memoryPair } from '../../../drivers/transport/memory.ts';

const T1 = '%B5350290149345177^FATEHI/SUALEH^16042010000000000000000000000000000567001000?';
const T2 = ';5350290149345177=16042010000056700100?';

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
    expect(JSON.stringify(e)).not.toContain('5350290149345177');
  });

  it('skips a report id byte when told, and reports a bad report as a coded error', async () => {
    const withId = Buffer.concat([Buffer.of(0), buildMagtekReport([T1, T2, ''])]);
    const [ok] = await readerEvents([withId], { reportId: true });
    expect(ok?.type).toBe('card');
    const [bad] = await readerEvents([buildMagtekReport([T1, T2, ''], { status: [1, 1, 0] })]);
    expect(bad).toMatchObject({ type: 'error', error: { code: 'track_error' } });
  });
});
