// The events of the device manager: one stream per device, each event stamped with its device id and the
// time in epoch milliseconds. Every field is safe to log and to send to a screen: card events carry the
// masked PAN and expiry only, PIN events the KSN and the words "encrypted PIN block", frame events a
// direction, a length and command bytes, never data.
import type { ScanKind } from '../cards/barcode.ts';

export type DeviceKind = 'card_reader' | 'scanner' | 'pinpad' | 'zvt' | 'unknown';

/**
 * present: listed, not opened (no driver, or waiting to connect); connecting; connected; disconnected: the
 * link died (its own liveness check or an I/O error) and the device is still listed; unplugged: no longer
 * enumerated; closed: the manager closed it.
 */
export type DeviceState = 'present' | 'connecting' | 'connected' | 'disconnected' | 'unplugged' | 'closed';

/** How the driver was chosen. */
export type MatchedBy = 'vid_pid' | 'metadata' | 'probe' | 'manifest';

export interface DeviceInfo {
  id: string;
  kind: DeviceKind;
  /** Driver profile name, or null for an unknown device. */
  driver: string | null;
  matchedBy: MatchedBy | null;
  source: 'serial' | 'manifest' | 'hid';
  link: 'serial' | 'hid' | 'tcp';
  /** Port path, or host:port for TCP. */
  path: string;
  state: DeviceState;
  vendorId?: string | undefined;
  productId?: string | undefined;
  serialNumber?: string | undefined;
  manufacturer?: string | undefined;
  product?: string | undefined;
  label?: string | undefined;
}

/** What a driver reports, before the manager stamps it with the device id and time. */
export type DeviceEventBody =
  | { type: 'added'; device: DeviceInfo }
  | { type: 'state'; state: DeviceState; reason?: string }
  | { type: 'frame'; direction: 'tx' | 'rx'; summary: string; length?: number }
  | { type: 'error'; code: string; message: string }
  /** expiry: YYYY-MM, as printed on the card */
  | { type: 'card'; panMasked: string; expiry: string; track: 1 | 2 }
  | { type: 'scan'; scan: ScanKind }
  | { type: 'pin'; ksn: string; pinBlock: 'encrypted PIN block' }
  | { type: 'terminal'; text: string };

export type DeviceEvent = DeviceEventBody & { deviceId: string; at: number };

/** Not about one device: a source that cannot be read (udevadm or libusb missing, a bad manifest file). */
export interface NoticeEvent {
  type: 'notice';
  source: 'serial' | 'manifest' | 'hid';
  message: string;
  at: number;
}

export type ManagerEvent = DeviceEvent | NoticeEvent;
