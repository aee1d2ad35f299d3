import { describe, expect, it } from 'vitest';
import {
  ZVT_ACK_TIMEOUT_MS,
  ZVT_TIMEOUTS,
  ZvtLink,
  ZvtLinkError,
  type Schedule,
  type ZvtLinkEvent,
} from '../../../drivers/framing/zvt-link.ts';
import { encodeZvtFrame } from '../../../drivers/framing/zvt-serial.ts';
import { hex } from './helpers.ts';

/** A manual clock: timers fire only when the test advances time. */
class FakeClock {
  now = 0;
  private timers: { at: number; fn: () => void; live: boolean }[] = [];
  schedule: Schedule = (ms, fn) => {
    const t = { at: this.now + ms, fn, live: true };
    this.timers.push(t);
    return () => {
      t.live = false;
    };
  };
  get pending(): number {
    return this.timers.filter((t) => t.live).length;
  }
  advance(ms: number): void {
    const end = this.now + ms;
    for (;;) {
      const due = this.timers.filter((t) => t.live && t.at <= end).sort((a, b) => a.at - b.at)[0];
      if (!due) break;
      due.live = false;
      this.now = due.at;
      due.fn();
    }
    this.now = end;
  }
}

const APDU = hex('06 00 06 12 34 56 BA 09 78');
const FRAME = encodeZvtFrame(APDU);
const ACK = Buffer.of(0x06);
const NAK = Buffer.of(0x15);

function setup(opts: { interByteTimeoutMs?: number | null } = {}) {
  const clock = new FakeClock();
  const written: Buffer[] = [];
  const apdus: Buffer[] = [];
  const events: ZvtLinkEvent[] = [];
  const link = new ZvtLink({
    write: (b) => written.push(Buffer.from(b)),
    onApdu: (a) => apdus.push(a),
    onEvent: (e) => events.push(e),
    schedule: clock.schedule,
    ...opts,
  });
  return { clock, written, apdus, events, link };
}

/** Lets promise callbacks run. */
const settle = () => new Promise<void>((r) => setImmediate(r));

describe('ZvtLink', () => {
  it('uses the documented default timeouts', () => {
    expect(ZVT_ACK_TIMEOUT_MS).toBe(5_000);
    expect(ZVT_TIMEOUTS.T1).toBe(200);
  });

  it('ACK path: writes the frame and resolves on ACK, cancelling the timer', async () => {
    const { clock, written, link } = setup();
    const p = link.send(APDU);
    expect(written).toEqual([FRAME]);
    expect(link.state).toBe('awaiting_ack');
    link.receive(ACK);
    await expect(p).resolves.toBeUndefined();
    expect(link.state).toBe('idle');
    expect(clock.pending).toBe(0);
  });

  it('NAK then success: resends the same frame once and resolves', async () => {
    const { written, link, events } = setup();
    const p = link.send(APDU);
    link.receive(NAK);
    expect(written).toEqual([FRAME, FRAME]);
    link.receive(ACK);
    await expect(p).resolves.toBeUndefined();
    expect(events).toEqual([{ type: 'retry', attempt: 2, cause: 'nak' }]);
  });

  it('ACK timeout then success', async () => {
    const { clock, written, link } = setup();
    const p = link.send(APDU);
    clock.advance(ZVT_ACK_TIMEOUT_MS - 1);
    expect(written).toHaveLength(1);
    clock.advance(1);
    expect(written).toHaveLength(2);
    link.receive(ACK);
    await expect(p).resolves.toBeUndefined();
  });

  it('4 NAKs (first try + 3 retries) -> coded failure zvt_link_nak', async () => {
    const { written, link } = setup();
    const p = link.send(APDU);
    for (let i = 0; i < 4; i++) link.receive(NAK);
    await expect(p).rejects.toMatchObject({ name: 'ZvtLinkError', code: 'zvt_link_nak', attempts: 4 });
    expect(written).toHaveLength(4);
    expect(link.state).toBe('idle');
  });

  it('only timeouts -> coded failure zvt_link_no_ack after 4 writes, 20 s', async () => {
    const { clock, written, link } = setup();
    const p = link.send(APDU);
    const caught = p.catch((e: unknown) => e);
    clock.advance(4 * ZVT_ACK_TIMEOUT_MS);
    const err = await caught;
    expect(err).toBeInstanceOf(ZvtLinkError);
    expect(err).toMatchObject({ code: 'zvt_link_no_ack', attempts: 4 });
    expect(written).toHaveLength(4);
    expect(clock.pending).toBe(0);
  });

  it('mixed NAK and timeouts count towards the same 3 retries', async () => {
    const { clock, written, link } = setup();
    const p = link.send(APDU);
    const caught = p.catch((e: unknown) => e);
    link.receive(NAK);
    clock.advance(ZVT_ACK_TIMEOUT_MS);
    link.receive(NAK);
    clock.advance(ZVT_ACK_TIMEOUT_MS);
    expect(await caught).toMatchObject({ code: 'zvt_link_no_ack', attempts: 4 });
    expect(written).toHaveLength(4);
  });

  it('refuses a second send while one awaits its ACK (busy), then accepts one after', async () => {
    const { link } = setup();
    const p = link.send(APDU);
    await expect(link.send(APDU)).rejects.toMatchObject({ code: 'zvt_link_busy' });
    link.receive(ACK);
    await p;
    const q = link.send(APDU);
    link.receive(ACK);
    await expect(q).resolves.toBeUndefined();
  });

  it('acknowledges a valid received frame with ACK and delivers it, split in pieces', () => {
    const { written, apdus, link } = setup();
    link.receive(FRAME.subarray(0, 3));
    link.receive(FRAME.subarray(3));
    expect(apdus).toEqual([APDU]);
    expect(written).toEqual([ACK]);
  });

  it('answers a corrupt received frame with NAK and does not deliver it', () => {
    const { written, apdus, events, link } = setup();
    const bad = Buffer.from(FRAME);
    bad[4] = bad[4]! ^ 0x20;
    link.receive(bad);
    expect(apdus).toEqual([]);
    expect(written).toEqual([NAK]);
    expect(events).toMatchObject([{ type: 'rx_error', code: 'crc_mismatch' }]);
    // The terminal repeats it correctly: ACK and delivery.
    link.receive(FRAME);
    expect(written).toEqual([NAK, ACK]);
    expect(apdus).toEqual([APDU]);
  });

  it('drops a frame left incomplete for longer than the inter-byte timeout and answers NAK', () => {
    const { clock, written, apdus, events, link } = setup();
    link.receive(FRAME.subarray(0, 6));
    clock.advance(ZVT_TIMEOUTS.T1 - 1);
    link.receive(FRAME.subarray(6, 8)); // still flowing: timer re-armed
    clock.advance(ZVT_TIMEOUTS.T1 - 1);
    expect(written).toEqual([]);
    clock.advance(1);
    expect(written).toEqual([NAK]);
    expect(events).toEqual([{ type: 'rx_timeout' }]);
    link.receive(FRAME.subarray(8)); // the stale tail is discarded
    link.receive(FRAME);
    expect(apdus).toEqual([APDU]);
    expect(clock.pending).toBe(0);
  });

  it('can run without an inter-byte timeout', () => {
    const { clock, written, apdus, link } = setup({ interByteTimeoutMs: null });
    link.receive(FRAME.subarray(0, 6));
    clock.advance(60_000);
    link.receive(FRAME.subarray(6));
    expect(written).toEqual([ACK]);
    expect(apdus).toEqual([APDU]);
  });

  it('receives a frame while awaiting an ACK and still completes the send', async () => {
    const { written, apdus, link } = setup();
    const p = link.send(APDU);
    link.receive(Buffer.concat([encodeZvtFrame(hex('80 00 00')), ACK]));
    await expect(p).resolves.toBeUndefined();
    expect(apdus).toEqual([hex('80 00 00')]);
    expect(written).toEqual([FRAME, ACK]);
  });

  it('reports a stray ACK/NAK and ignores it', () => {
    const { events, written, link } = setup();
    link.receive(Buffer.of(0x06, 0x15));
    expect(events).toEqual([
      { type: 'unexpected', byte: 'ack' },
      { type: 'unexpected', byte: 'nak' },
    ]);
    expect(written).toEqual([]);
  });

  it('close() rejects a pending send, cancels timers and refuses further sends', async () => {
    const { clock, link } = setup();
    const p = link.send(APDU);
    link.close();
    await expect(p).rejects.toMatchObject({ code: 'zvt_link_closed' });
    expect(clock.pending).toBe(0);
    expect(link.state).toBe('closed');
    await expect(link.send(APDU)).rejects.toMatchObject({ code: 'zvt_link_closed' });
  });

  it('a throwing write fails the send with zvt_link_write_failed', async () => {
    const clock = new FakeClock();
    const link = new ZvtLink({
      write: () => {
        throw new Error('port gone');
      },
      onApdu: () => undefined,
      schedule: clock.schedule,
    });
    await expect(link.send(APDU)).rejects.toMatchObject({ code: 'zvt_link_write_failed', attempts: 1 });
    expect(link.state).toBe('idle');
    await settle();
  });
});
