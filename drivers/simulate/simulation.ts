// `startSimulation(options)`: plays a set of devices (see devices.ts) and writes one manifest file per
// device (drivers/devices/manifest.ts) so the device manager finds them. The returned controller is what
// `npm run simulate`, the demo and the tests drive. It prints what it does, never a full PAN or a PIN.
import { mkdirSync, mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { maskPan } from '../../contract/card.ts';
import { manifestEntrySchema, type ManifestEntry } from '../devices/manifest.ts';
import { SAMPLE_SCANS, TEST_CARDS, type TestCardName } from './cards.ts';
import {
  SIM_DIR_PREFIX,
  clearAbandonedSimulation,
  devicePaths,
  processIdentity,
  removeSimulationRecord,
  writeSimulationRecord,
} from './leftovers.ts';
import { HELP, parseCommand, type Command } from './commands.ts';
import {
  type CardTerminal,
  DEVICE_KINDS,
  KIND_INFO,
  SerialDevice,
  TcpZvtDevice,
  type DeviceKind,
  type SimulatedDevice,
} from './devices.ts';

export const DEFAULT_DEVICE_DIR = 'data/devices';
export const MANUFACTURER = 'Tillback Simulator';
/** pid.codes' vendor id for open-source and test hardware. */
export const VENDOR_ID = '1209';
/** The PIN the simulated customer types until told otherwise (the X9.24-1 vectors' PIN). */
export const DEFAULT_PIN = '1234';

export interface SimulationOptions {
  /** Where manifests and links go (default data/devices). */
  dir?: string;
  /** Devices to play, one per entry (default one of each kind). */
  devices?: readonly DeviceKind[];
  /** Port of the TCP ZVT terminal (default 0: any free port). */
  zvtTcpPort?: number;
  pin?: string;
  baudRate?: number;
  /** Where the simulator's lines go (default stdout). */
  out?: (line: string) => void;
}

export interface DeviceInfo {
  id: string;
  kind: DeviceKind;
  label: string;
  /** The manifest file. */
  manifest: string;
  /** Serial path (the socat link) or host:port. */
  address: string;
  plugged: boolean;
  pid: number | undefined;
}

export interface SimulationController {
  readonly dir: string;
  devices(): DeviceInfo[];
  device(id: string): DeviceInfo;
  swipe(card?: TestCardName, deviceId?: string): Promise<void>;
  scan(code: string, deviceId?: string): Promise<void>;
  setPin(pin: string, deviceId?: string): void;
  unplug(deviceId: string): Promise<void>;
  replug(deviceId: string): Promise<void>;
  garbage(deviceId: string): Promise<void>;
  /** Runs one parsed command; resolves `quit` when it was quit. Errors reject with a plain message. */
  execute(command: Command): Promise<'quit' | undefined>;
  /** Parses and runs one line, printing any error; never rejects. */
  run(line: string): Promise<'quit' | undefined>;
  /** Removes manifests and links and stops every socat and server; idempotent. */
  stop(): Promise<void>;
}

export async function startSimulation(options: SimulationOptions = {}): Promise<SimulationController> {
  const dir = resolve(options.dir ?? DEFAULT_DEVICE_DIR);
  const out = options.out ?? ((line: string) => console.log(line));
  const kinds = options.devices ?? DEVICE_KINDS;
  mkdirSync(dir, { recursive: true });
  // What a SIGKILLed simulation left here goes first; a running one's directory is not shared.
  const leftover = await clearAbandonedSimulation(dir);
  if (leftover.state === 'live')
    throw new Error(
      `${dir} holds the simulated terminals of process ${leftover.owner}, which still runs: stop it or use another directory`,
    );
  if (leftover.state !== 'none') out(leftover.message);
  const owner = processIdentity();
  if (!owner) throw new Error('cannot read /proc/self/stat: the simulator runs on Linux');
  // The simulator's ends of the pty pairs: out of the manifest directory, so a till never opens them.
  const simDir = mkdtempSync(join(tmpdir(), SIM_DIR_PREFIX));
  const devices = new Map<string, { device: SimulatedDevice; manifest: string }>();
  const counts = new Map<DeviceKind, number>();
  let stopped = false;

  for (const kind of kinds) {
    const n = (counts.get(kind) ?? 0) + 1;
    counts.set(kind, n);
    const id = `${kind}-${n}`;
    const paths = devicePaths(dir, simDir, id);
    const device: SimulatedDevice =
      kind === 'zvt-tcp'
        ? new TcpZvtDevice({ id, port: n === 1 ? (options.zvtTcpPort ?? 0) : 0, say: out })
        : new SerialDevice({
            id,
            kind,
            link: paths.link,
            simLink: paths.simLink,
            baudRate: options.baudRate ?? 9600,
            say: out,
            pin: options.pin ?? DEFAULT_PIN,
          });
    devices.set(id, { device, manifest: paths.manifest });
  }
  /** The owner record, rewritten whenever a socat starts or stops (see leftovers.ts); gone once stopped. */
  const record = () => {
    if (stopped) return;
    writeSimulationRecord(dir, {
      owner,
      simDir,
      devices: [...devices].map(([id, { device }]) => ({ id, socatPid: device.pid })),
    });
  };
  record();

  const entry = (id: string) => {
    const d = devices.get(id);
    if (!d) throw new Error(`no device ${id}; list shows the devices`);
    return d;
  };
  const get = (id: string): SimulatedDevice => entry(id).device;
  const info = (id: string): DeviceInfo => {
    const { device, manifest } = entry(id);
    return {
      id,
      kind: device.kind,
      label: KIND_INFO[device.kind].label,
      manifest,
      address: device.address,
      plugged: device.plugged,
      pid: device.pid,
    };
  };
  /** The named device, which must be of `kind`, or the first device of that kind. */
  const serialOf = (kind: 'reader' | 'scanner' | 'pinpad', id: string | undefined): SerialDevice => {
    const d = id === undefined ? [...devices.values()].find((x) => x.device.kind === kind)?.device : get(id);
    if (!d) throw new Error(`no ${KIND_INFO[kind].label} is simulated`);
    if (!(d instanceof SerialDevice) || d.kind !== kind)
      throw new Error(`${d.id} is not a ${KIND_INFO[kind].label}`);
    return d;
  };

  const stop = async (): Promise<void> => {
    if (stopped) return;
    stopped = true;
    for (const { device, manifest } of devices.values()) {
      rmSync(manifest, { force: true });
      await device.unplug();
    }
    rmSync(simDir, { recursive: true, force: true });
    removeSimulationRecord(dir);
  };

  const controller: SimulationController = {
    dir,
    devices: () => [...devices.keys()].map(info),
    device: info,
    async swipe(card = 'visa', deviceId) {
      const device = deviceId === undefined ? serialOf('reader', undefined) : get(deviceId);
      const masked = maskPan(TEST_CARDS[card].pan);
      if (device.kind === 'reader') {
        await serialOf('reader', device.id).sendLine(TEST_CARDS[card].swipe);
        out(`${device.id}: swiped ${card} card ${masked}`);
      } else if (isCardTerminal(device)) {
        const zvtCard = TEST_CARDS[card].zvt;
        if (!zvtCard) throw new Error(`the ${card} card is a stripe fault; a ZVT terminal reads cards whole`);
        device.presentCard(zvtCard);
        out(`${device.id}: the next read card presents the ${card} card ${masked}`);
      } else throw new Error(`${device.id} is not a card reader or a ZVT terminal`);
    },
    async scan(code, deviceId) {
      const scanner = serialOf('scanner', deviceId);
      const text = code === 'member' || code === 'receipt' ? SAMPLE_SCANS[code] : code;
      await scanner.sendLine(text);
      out(`${scanner.id}: scanned ${text.length} characters`);
    },
    setPin(pin, deviceId) {
      const pad = serialOf('pinpad', deviceId);
      pad.setPin(pin);
      out(`${pad.id}: the customer will type a ${pin.length}-digit PIN`);
    },
    async unplug(deviceId) {
      const d = get(deviceId);
      await d.unplug();
      record();
      out(`${d.id}: unplugged`);
    },
    async replug(deviceId) {
      const d = get(deviceId);
      await d.plug();
      record();
      out(`${d.id}: plugged in at ${d.address}`);
    },
    async garbage(deviceId) {
      const d = get(deviceId);
      await d.garbage();
      out(`${d.id}: sent line noise`);
    },
    async execute(command) {
      switch (command.name) {
        case 'swipe':
          await controller.swipe(command.card, command.device);
          break;
        case 'scan':
          await controller.scan(command.code, command.device);
          break;
        case 'pin':
          controller.setPin(command.pin, command.device);
          break;
        case 'unplug':
        case 'replug':
        case 'garbage':
          await controller[command.name](command.device);
          break;
        case 'sleep':
          await new Promise((r) => setTimeout(r, command.ms));
          break;
        case 'list':
          for (const d of controller.devices()) out(describeDevice(d));
          break;
        case 'help':
          out(HELP);
          break;
        case 'quit':
          return 'quit';
      }
      return undefined;
    },
    async run(line) {
      const parsed = parseCommand(line);
      if (!parsed.ok) {
        out(`error: ${parsed.error}`);
        return;
      }
      if (!parsed.command) return;
      try {
        return await controller.execute(parsed.command);
      } catch (err) {
        out(`error: ${err instanceof Error ? err.message : String(err)}`);
        return;
      }
    },
    stop,
  };

  try {
    for (const [id, { device, manifest }] of devices) {
      await device.plug();
      record();
      writeManifest(manifest, manifestFor(device, id));
    }
  } catch (err) {
    await stop();
    throw err;
  }
  return controller;
}

function isCardTerminal(d: SimulatedDevice): d is SimulatedDevice & CardTerminal {
  return d.kind === 'zvt' || d.kind === 'zvt-tcp';
}

function manifestFor(device: SimulatedDevice, id: string): ManifestEntry {
  const common = {
    manufacturer: MANUFACTURER,
    serialNumber: `SIM-${id}`,
    label: `${KIND_INFO[device.kind].label} (simulated)`,
  };
  if (device.kind === 'zvt-tcp') return { tcp: device.address, driver: 'zvt', ...common };
  return {
    path: device.address,
    vendorId: VENDOR_ID,
    productId: KIND_INFO[device.kind].productId,
    ...common,
  };
}

/** Writes the file whole (temporary name, then rename) so a poller never reads half of it. */
function writeManifest(file: string, entry: ManifestEntry): void {
  const checked = manifestEntrySchema.parse(entry);
  const tmp = `${file}.tmp`;
  writeFileSync(tmp, `${JSON.stringify(checked, null, 2)}\n`);
  renameSync(tmp, file);
}

export function describeDevice(d: DeviceInfo): string {
  const state = d.plugged ? `plugged${d.pid ? ` (socat pid ${d.pid})` : ''}` : 'unplugged';
  return `${d.id.padEnd(10)} ${d.label.padEnd(48)} ${d.address}  ${state}`;
}
