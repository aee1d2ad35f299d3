// Row 6: the terminal drivers. How many frames per second each framer and decoder parses (one core,
// the input in 64-byte reads as a serial port delivers them), against the rate the link can carry them;
// and swipe-to-event latency through a socat pseudo-terminal: the simulator writes a swipe, the
// till's SerialTransport + SerialCardReader emit the card event.
import { SerialCardReader, type SerialReaderEvent } from '../drivers/cards/serial-reader.ts';
import { HidKeyboardDecoder } from '../drivers/cards/hid-keyboard.ts';
import { decodeSwipe } from '../drivers/cards/magstripe.ts';
import { buildMagtekReport, decodeMagtekCard } from '../drivers/cards/magtek-hid.ts';
import { StxEtxDecoder, encodeStxEtx } from '../drivers/framing/stx-etx.ts';
import { ZvtFrameDecoder, encodeZvtFrame } from '../drivers/framing/zvt-serial.ts';
import { encodePadMessage } from '../drivers/pinpad/protocol.ts';
import { TEST_CARDS } from '../drivers/simulate/cards.ts';
import { startSimulation } from '../drivers/simulate/simulation.ts';
import { SerialTransport } from '../drivers/transport/serial.ts';
import { ApduStreamDecoder, bcdEncode, encodeApdu, encodeBmp } from '../drivers/zvt/apdu.ts';
import { TEST_CARD } from '../drivers/zvt/simulator.ts';
import { benchTempDir, percentile, removeDir } from './setup.ts';
import type { Row } from './table.ts';

/** Serial line rate: 115200 baud, 8N1 = 10 bits a byte. */
const SERIAL_BYTES_PER_S = 115_200 / 10;
/** A LAN terminal's link: 100 Mbit/s Ethernet, payload only. */
const LAN_BYTES_PER_S = 100e6 / 8;
/** USB full-speed HID: one interrupt report per 1 ms poll. */
const HID_REPORTS_PER_S = 1000;
/** "The app knows within a blink" (issue 4): a blink is about 100 ms. */
export const SWIPE_LATENCY_TARGET_MS = 100;
const READ_SIZE = 64;

/** A typical ZVT status-information APDU (04 0F) with PAN, expiry, card type and name. */
const zvtApdu = encodeApdu({
  cls: 0x04,
  instr: 0x0f,
  data: Buffer.concat([
    encodeBmp(0x22, Buffer.from(TEST_CARD.pan, 'hex')),
    encodeBmp(0x0e, bcdEncode(TEST_CARD.expiry, 2)),
    encodeBmp(0x8a, Buffer.of(TEST_CARD.cardType ?? 0x06)),
    encodeBmp(0x8b, Buffer.from(TEST_CARD.cardName ?? 'MASTERCARD', 'latin1')),
  ]),
});
/** A PIN pad's DUKPT PIN block response (73). */
const pinBlockPacket = encodeStxEtx(
  encodePadMessage({ type: 'pinBlock', id: '73', ksn: 'FFFF9876543210E00001', pinBlock: '1B9C1845EB993A7A' }),
);
const swipeText = TEST_CARDS.visa.swipe;
const [track1 = '', track2 = ''] = swipeText.split(/(?=;)/);
const magtekReport = buildMagtekReport([track1, track2, '']);

interface Decoder {
  id: string;
  name: string;
  /** One frame's bytes on the wire. */
  frameBytes: number;
  /** Frames the link can carry per second. */
  lineRate: number;
  lineText: string;
  /** Parses `frames` frames; returns how many it got (checked against the count). */
  run(frames: number): number;
}

/** A byte-stream decoder fed `frames` copies of `frame` in 64-byte reads. */
function streamDecoder(frame: Buffer, push: (chunk: Buffer) => number): (frames: number) => number {
  const batch = 64;
  const stream = Buffer.concat(Array.from({ length: batch }, () => frame));
  return (frames) => {
    let got = 0;
    for (let done = 0; done < frames; done += batch) {
      for (let at = 0; at < stream.length; at += READ_SIZE) got += push(stream.subarray(at, at + READ_SIZE));
    }
    return got;
  };
}

function decoders(): Decoder[] {
  const zvtFrame = encodeZvtFrame(zvtApdu);
  const zvt = new ZvtFrameDecoder();
  const tcp = new ApduStreamDecoder();
  const stx = new StxEtxDecoder();
  const hid = new HidKeyboardDecoder();
  const swipeLine = Buffer.byteLength(`${swipeText}\r\n`);
  // The reports a keyboard-mode reader sends for one character: key down ('4' = usage 0x21), all up.
  const reports = [Uint8Array.of(0, 0, 0x21, 0, 0, 0, 0, 0), new Uint8Array(8)];
  const serialRate = (bytes: number) => SERIAL_BYTES_PER_S / bytes;
  return [
    {
      id: 'frames-zvt-serial',
      name: 'ZVT serial frames',
      frameBytes: zvtFrame.length,
      lineRate: serialRate(zvtFrame.length),
      lineText: '115200 baud',
      run: streamDecoder(zvtFrame, (c) => zvt.push(c).filter((d) => d.kind === 'frame').length),
    },
    {
      id: 'frames-zvt-tcp',
      name: 'ZVT TCP APDU stream',
      frameBytes: zvtApdu.length,
      lineRate: LAN_BYTES_PER_S / zvtApdu.length,
      lineText: '100 Mbit/s LAN',
      run: streamDecoder(zvtApdu, (c) => tcp.push(c).length),
    },
    {
      id: 'frames-stx-etx',
      name: 'STX/ETX/LRC packets',
      frameBytes: pinBlockPacket.length,
      lineRate: serialRate(pinBlockPacket.length),
      lineText: '115200 baud',
      run: streamDecoder(pinBlockPacket, (c) => stx.push(c).filter((d) => d.kind === 'frame').length),
    },
    {
      id: 'frames-magstripe',
      name: 'magstripe swipe decode',
      frameBytes: swipeLine,
      lineRate: serialRate(swipeLine),
      lineText: '115200 baud',
      run: (frames) => {
        let got = 0;
        for (let i = 0; i < frames; i++) if (decodeSwipe(swipeText).ok) got++;
        return got;
      },
    },
    {
      id: 'frames-hid-keyboard',
      name: 'HID keyboard reports',
      frameBytes: 8,
      lineRate: HID_REPORTS_PER_S,
      lineText: 'USB HID 1 ms polling',
      run: (frames) => {
        let got = 0;
        for (let i = 0; i < frames; i++) if (hid.push(reports[i & 1]!).ok) got++;
        return got;
      },
    },
    {
      id: 'frames-magtek',
      name: 'MagTek HID report decode',
      frameBytes: magtekReport.length,
      lineRate: HID_REPORTS_PER_S,
      lineText: 'USB HID 1 ms polling',
      run: (frames) => {
        let got = 0;
        for (let i = 0; i < frames; i++) if (decodeMagtekCard(magtekReport).ok) got++;
        return got;
      },
    },
  ];
}

const fmt = (n: number) => Math.round(n).toLocaleString('en-US');

function throughputRow(d: Decoder, seconds: number): Row {
  // Rounds of 1,024 frames until the time is up, after one warm-up round.
  const round = 1024;
  if (d.run(round) !== round) throw new Error(`${d.id}: the decoder lost frames`);
  let frames = 0;
  const start = performance.now();
  const deadline = start + seconds * 1000;
  while (performance.now() < deadline) {
    if (d.run(round) !== round) throw new Error(`${d.id}: the decoder lost frames`);
    frames += round;
  }
  const perSecond = frames / ((performance.now() - start) / 1000);
  const times = perSecond / d.lineRate;
  return {
    id: d.id,
    group: 7,
    name: d.name,
    setting: `${d.frameBytes}-byte frames`,
    figure: perSecond,
    unit: 'frames/s',
    samples: frames,
    verdict: times >= 1 ? 'PASS' : 'MISS',
    against: `${d.lineText} carries ${fmt(d.lineRate)} frames/s: ${times >= 10 ? Math.round(times).toLocaleString('en-US') : times.toFixed(2)}x the line rate`,
  };
}

/** Swipes one at a time through a socat pty: simulator write to SerialCardReader event. */
async function swipeLatencyRow(swipes: number, baseDir: string | undefined): Promise<Row> {
  const dir = benchTempDir(baseDir, 'swipe');
  const sim = await startSimulation({ dir, devices: ['reader'], baudRate: 115_200, out: () => undefined });
  const transport = new SerialTransport({ path: sim.device('reader-1').address, baudRate: 115_200 });
  const reader = new SerialCardReader(transport);
  let waiting: ((e: SerialReaderEvent) => void) | undefined;
  reader.on('event', (e) => waiting?.(e));
  const latencies: number[] = [];
  let errors = 0;
  const start = performance.now();
  try {
    await transport.open();
    for (let i = 0; i < swipes + 5; i++) {
      const event = new Promise<SerialReaderEvent>((resolve) => (waiting = resolve));
      const t0 = performance.now();
      await sim.swipe('visa');
      const e = await event;
      // The first few warm up the JIT and the pty; they are not counted.
      if (i >= 5) latencies.push(performance.now() - t0);
      if (e.type !== 'card') errors++;
    }
  } finally {
    reader.detach();
    await transport.close();
    await sim.stop();
    removeDir(dir);
  }
  const seconds = (performance.now() - start) / 1000;
  const p99 = percentile(latencies, 99);
  return {
    id: 'swipe-latency',
    group: 7,
    name: 'swipe to card event',
    setting: 'socat pty, 115200 baud',
    figure: latencies.length / seconds,
    unit: 'swipes/s',
    p50Ms: percentile(latencies, 50),
    p99Ms: p99,
    samples: latencies.length,
    errors,
    verdict: p99 < SWIPE_LATENCY_TARGET_MS && errors === 0 ? 'PASS' : 'MISS',
    against: `"within a blink": p99 < ${SWIPE_LATENCY_TARGET_MS} ms; one swipe at a time, simulator write to SerialCardReader event`,
  };
}

export async function benchDrivers(opts: {
  secondsPerDecoder: number;
  swipes: number;
  baseDir?: string | undefined;
}): Promise<Row[]> {
  const rows = decoders().map((d) => throughputRow(d, opts.secondsPerDecoder));
  rows.push(await swipeLatencyRow(opts.swipes, opts.baseDir));
  return rows;
}
