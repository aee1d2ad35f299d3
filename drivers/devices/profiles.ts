// Driver profiles in priority order, and how one is chosen for a port: by USB VID/PID, then by the
// manufacturer/product strings, then by probing the port. A port nothing matches is still listed as
// `unknown`. Each profile also builds its driver over an opened transport and maps the driver's own events
// to redacted device events.
//
// USB ids and where they come from:
//   1209:0001..0004  the Tillback simulator, on the open-source VID of pid.codes (https://pid.codes/1209/):
//                    0001 serial magstripe reader, 0002 PIN pad, 0003 ZVT terminal, 0004 barcode scanner
//   0801:0002        MagTek USB HID Swipe Reader (vendor mode): Micah Carrick's PyUSB reader, cited in
//                    ../cards/magtek-hid.ts; 0801 is "MagTek" in the linux-usb.org usb.ids vendor list
//   0801:0001        "MagTek Mini Swipe Reader (Keyboard Emulation)": its usb.ids name, as lsusb prints
//                    it (quoted in public projects reading that reader, e.g. door-magstripe)
//   0801:0011        "Magtek MSR", 11ca:0219 "VeriFone VX820", 0b00:0054 "Ingenico Desk3xxx",
//                    0b00:0058 "Ingenico iPP3xx", 0b00:0053 "Ingenico Move3xxx": the peripheral VID:PID list
//                    in the public change notes of the inefi agent for Linux (v0.10.26); 11ca is
//                    "VeriFone" and 0b00 "INGENICO" in usb.ids
// Ingenico Telium terminals are matched as ZVT terminals: that holds where they run a ZVT application (the
// German market); elsewhere they speak other protocols and need a profile of their own.
import type { Transport } from '../transport/transport.ts';
import { HidCardReader, HidKeyboardReader } from '../cards/hid-reader.ts';
import { SerialCardReader, type SerialReaderEvent } from '../cards/serial-reader.ts';
import { PinPad, PinPadError } from '../pinpad/driver.ts';
import { ZvtError, ZvtTerminal } from '../zvt/driver.ts';
import type { DeviceEventBody, MatchedBy } from './events.ts';
import type { PortInfo } from './ports.ts';

export type CardReaderHandle = SerialCardReader | HidCardReader | HidKeyboardReader;

/** The driver object the till gets for each kind of device. */
export interface DriverHandles {
  card_reader: CardReaderHandle;
  scanner: CardReaderHandle;
  pinpad: PinPad;
  zvt: ZvtTerminal;
}

export type DriverKind = keyof DriverHandles;

export interface DriverInstance<K extends DriverKind = DriverKind> {
  readonly kind: K;
  readonly handle: DriverHandles[K];
  /** Opens (or reopens, after a disconnect) the link. */
  connect(): Promise<void>;
  /** A command that changes nothing on the device; resolves with what it answered, in words. */
  selfTest(): Promise<string>;
  /** Detaches the driver and closes the link. */
  close(): Promise<void>;
}

export type EventSink = (event: DeviceEventBody) => void;

export interface UsbMatch {
  vendorId: string;
  /** Absent: any product of the vendor. */
  productId?: string;
  note: string;
}

export interface DriverProfile {
  name: string;
  kind: DriverKind;
  link: PortInfo['link'];
  usb: readonly UsbMatch[];
  /** Tested against "manufacturer product". */
  metadata?: RegExp;
  /** Asks an opened port whether this kind of device answers; must not disturb another kind of device. */
  probe?(transport: Transport, timeoutMs: number): Promise<boolean>;
  create(transport: Transport, sink: EventSink): DriverInstance;
}

const SIM = 'Tillback simulator (pid.codes VID 1209)';

function readerInstance<K extends 'card_reader' | 'scanner'>(
  kind: K,
  transport: Transport,
  sink: EventSink,
  makeReader: (transport: Transport) => CardReaderHandle,
): DriverInstance<K> {
  const onData = (chunk: Buffer): void =>
    sink({ type: 'frame', direction: 'rx', summary: 'data', length: chunk.length });
  // The frame log listens first, so a frame is logged before the card it carried.
  transport.on('data', onData);
  const reader = makeReader(transport);
  reader.on('event', (e) => sink(readerEvent(e)));
  return {
    kind,
    handle: reader,
    connect: () => transport.open(),
    selfTest: async () => {
      await transport.open();
      return 'link open; a reader only sends, so swipe or scan to see an event';
    },
    close: async () => {
      reader.detach();
      transport.off('data', onData);
      await transport.close();
    },
  };
}

function readerEvent(e: SerialReaderEvent): DeviceEventBody {
  switch (e.type) {
    case 'card': {
      const card = e.swipe.card;
      const expiry = `${card.expiry.year}-${String(card.expiry.month).padStart(2, '0')}`;
      return { type: 'card', panMasked: card.panMasked, expiry, track: card.track };
    }
    case 'scan':
      return { type: 'scan', scan: e.scan };
    case 'error':
      return { type: 'error', code: e.error.code, message: e.error.message };
  }
}

function pinpadInstance(transport: Transport, sink: EventSink): DriverInstance<'pinpad'> {
  const pad = new PinPad(transport);
  pad.on('event', (e) => {
    if (e.type === 'tx' || e.type === 'rx') sink({ type: 'frame', direction: e.type, summary: e.what });
    else if (e.type === 'done' && !e.ok) {
      sink({ type: 'error', code: e.code ?? 'failed', message: `PIN pad ${e.command} failed` });
    }
  });
  return {
    kind: 'pinpad',
    handle: pad,
    connect: () => transport.open(),
    selfTest: async () => {
      try {
        await pad.cancel();
        return 'PIN pad acknowledged 72 (cancel, returns it to idle)';
      } catch (err) {
        if (err instanceof PinPadError && err.code === 'rejected')
          return 'PIN pad answered 72 (cancel) with EOT';
        throw err;
      }
    },
    close: async () => {
      pad.close();
      await transport.close();
    },
  };
}

const ZVT_LOG = /^(ecr -> pt|pt -> ecr) (.+?) len (\d+)/;

function zvtInstance(
  transport: Transport,
  sink: EventSink,
  framing: 'serial' | 'tcp',
): DriverInstance<'zvt'> {
  const terminal = new ZvtTerminal({ transport, framing });
  terminal.on('log', (line) => {
    const m = ZVT_LOG.exec(line);
    if (m?.[1] && m[2] && m[3]) {
      sink({
        type: 'frame',
        direction: m[1] === 'ecr -> pt' ? 'tx' : 'rx',
        summary: m[2],
        length: Number(m[3]),
      });
    }
  });
  terminal.on('event', (e) => {
    if (e.type === 'intermediate') sink({ type: 'terminal', text: e.text });
    else if (e.resultText) sink({ type: 'terminal', text: e.resultText });
  });
  return {
    kind: 'zvt',
    handle: terminal,
    connect: () => terminal.open(),
    selfTest: async () => {
      const s = await terminal.statusEnquiry();
      return `terminal status: ${s.terminalStatusText ?? 'not reported'}`;
    },
    close: () => terminal.close(),
  };
}

async function probePinpad(transport: Transport, timeoutMs: number): Promise<boolean> {
  // 72 (cancel) returns an idle pad to idle: the one 1000SE command with no effect. ACK, EOT or NAK all
  // mean an STX/ETX device read it.
  const pad = new PinPad(transport, { ackTimeoutMs: timeoutMs, maxResends: 0 });
  try {
    await pad.cancel();
    return true;
  } catch (err) {
    return err instanceof PinPadError && (err.code === 'rejected' || err.code === 'nak_limit');
  } finally {
    pad.close();
  }
}

async function probeZvt(transport: Transport, timeoutMs: number): Promise<boolean> {
  // 05 01 Status Enquiry only reads the terminal's state. Any completion, abort or refusal is a ZVT answer.
  const terminal = new ZvtTerminal({
    transport,
    framing: 'serial',
    ackTimeoutMs: timeoutMs,
    commandTimeoutMs: 4 * timeoutMs,
  });
  try {
    await terminal.open();
    await terminal.statusEnquiry();
    return true;
  } catch (err) {
    return err instanceof ZvtError && (err.code === 'terminal_abort' || err.code === 'refused');
  } finally {
    await terminal.close();
  }
}

/** Every profile, in priority order. */
export const PROFILES: readonly DriverProfile[] = [
  {
    name: 'serial-card-reader',
    kind: 'card_reader',
    link: 'serial',
    usb: [{ vendorId: '1209', productId: '0001', note: `${SIM}: serial magstripe reader` }],
    create: (t, sink) => readerInstance('card_reader', t, sink, (x) => new SerialCardReader(x)),
  },
  {
    name: 'pinpad-1000se',
    kind: 'pinpad',
    link: 'serial',
    usb: [
      { vendorId: '1209', productId: '0002', note: `${SIM}: PIN pad` },
      { vendorId: '11ca', note: 'VeriFone (usb.ids); 11ca:0219 VX820 PIN pad' },
    ],
    metadata: /verifone/i,
    probe: probePinpad,
    create: pinpadInstance,
  },
  {
    name: 'zvt-serial',
    kind: 'zvt',
    link: 'serial',
    usb: [
      { vendorId: '1209', productId: '0003', note: `${SIM}: ZVT terminal` },
      { vendorId: '0b00', productId: '0053', note: 'Ingenico Move3xxx' },
      { vendorId: '0b00', productId: '0054', note: 'Ingenico Desk3xxx' },
      { vendorId: '0b00', productId: '0058', note: 'Ingenico iPP3xx' },
    ],
    metadata: /ingenico/i,
    probe: probeZvt,
    create: (t, sink) => zvtInstance(t, sink, 'serial'),
  },
  {
    name: 'serial-scanner',
    kind: 'scanner',
    link: 'serial',
    usb: [{ vendorId: '1209', productId: '0004', note: `${SIM}: barcode scanner` }],
    create: (t, sink) => readerInstance('scanner', t, sink, (x) => new SerialCardReader(x)),
  },
  {
    name: 'zvt-tcp',
    kind: 'zvt',
    link: 'tcp',
    usb: [],
    create: (t, sink) => zvtInstance(t, sink, 'tcp'),
  },
  {
    name: 'magtek-hid',
    kind: 'card_reader',
    link: 'hid',
    usb: [
      { vendorId: '0801', productId: '0002', note: 'MagTek USB HID Swipe Reader' },
      { vendorId: '0801', productId: '0011', note: 'MagTek MSR' },
    ],
    metadata: /mag-?tek/i,
    create: (t, sink) => readerInstance('card_reader', t, sink, (x) => new HidCardReader(x)),
  },
  {
    name: 'hid-keyboard-reader',
    kind: 'card_reader',
    link: 'hid',
    usb: [{ vendorId: '0801', productId: '0001', note: 'MagTek Mini Swipe Reader (Keyboard Emulation)' }],
    create: (t, sink) => readerInstance('card_reader', t, sink, (x) => new HidKeyboardReader(x)),
  },
];

export interface Choice {
  profile: DriverProfile;
  matchedBy: MatchedBy;
}

/** Chooses without touching the device: the manifest's named driver, then VID/PID, then metadata. */
export function matchProfile(
  port: PortInfo,
  profiles: readonly DriverProfile[] = PROFILES,
): Choice | undefined {
  const candidates = profiles.filter((p) => p.link === port.link);
  if (port.driver) {
    const named = candidates.find((p) => p.kind === port.driver || p.name === port.driver);
    return named && { profile: named, matchedBy: 'manifest' };
  }
  const byId = candidates.find((p) =>
    p.usb.some(
      (u) => u.vendorId === port.vendorId && (u.productId === undefined || u.productId === port.productId),
    ),
  );
  if (byId) return { profile: byId, matchedBy: 'vid_pid' };
  const text = `${port.manufacturer ?? ''} ${port.product ?? ''}`;
  const byText = candidates.find((p) => p.metadata?.test(text));
  return byText && { profile: byText, matchedBy: 'metadata' };
}

/**
 * Probes a port with each probing profile in priority order; `open` makes a fresh transport for each try
 * (closed again before the next). Resolves with the first profile whose device answered.
 */
export async function probeProfile(
  port: PortInfo,
  open: () => Transport,
  timeoutMs: number,
  profiles: readonly DriverProfile[] = PROFILES,
): Promise<Choice | undefined> {
  for (const profile of profiles) {
    if (profile.link !== port.link || !profile.probe) continue;
    const transport = open();
    try {
      await transport.open();
      if (await profile.probe(transport, timeoutMs)) return { profile, matchedBy: 'probe' };
    } catch {
      return undefined; // the port cannot be opened: no profile can probe it
    } finally {
      await transport.close();
    }
  }
  return undefined;
}
