// What the enumerators report about one attached device, and the stable identity the manager keys it by.

/** One device as an enumerator saw it. USB ids are four lower-case hex digits. */
export interface PortInfo {
  /** Which enumerator reported it. */
  source: 'serial' | 'manifest' | 'hid';
  /** How it is reached: a serial port, a HID interface, or a TCP terminal. */
  link: 'serial' | 'hid' | 'tcp';
  /** Serial device path or HID path; for TCP, `host:port`. */
  path: string;
  vendorId?: string | undefined;
  productId?: string | undefined;
  serialNumber?: string | undefined;
  manufacturer?: string | undefined;
  product?: string | undefined;
  /** Free text from the manifest. */
  label?: string | undefined;
  /** TCP entries carry no USB ids: the manifest names the driver profile. */
  driver?: string | undefined;
  /** HID usage page (0xFF00 is a vendor-defined page, e.g. MagTek's). */
  usagePage?: number | undefined;
}

/** Lower-case four-digit hex of a USB id given as a number or hex text (serialport gives text); else undefined. */
export function usbId(value: number | string | undefined): string | undefined {
  if (typeof value === 'string') {
    if (!/^(0x)?[0-9a-f]{1,4}$/i.test(value)) return undefined;
    return Number.parseInt(value, 16).toString(16).padStart(4, '0');
  }
  if (value === undefined || !Number.isInteger(value) || value < 0 || value > 0xffff) return undefined;
  return value.toString(16).padStart(4, '0');
}

/**
 * Stable identity: VID:PID plus serial number when the device reports all three (the same device on
 * another USB port or another /dev name is still the same device), else the port path (host:port for TCP).
 */
export function deviceId(port: Pick<PortInfo, 'path' | 'vendorId' | 'productId' | 'serialNumber'>): string {
  const { vendorId, productId, serialNumber } = port;
  return vendorId && productId && serialNumber ? `${vendorId}:${productId}:${serialNumber}` : port.path;
}
