// Checksums of the serial framers. Pure functions over bytes, no I/O.
//
// ZVT: CRC-16 with the CCITT polynomial x^16 + x^12 + x^5 + 1 in reflected form (0x8408), initial value
// 0x0000, no final XOR (the catalogue name of these parameters is CRC-16/KERMIT; check value over
// ASCII "123456789" is 0x2189). ZVT computes it over the unstuffed APDU followed by the ETX byte 0x03 and
// transmits it low byte first.
//
// STX/ETX packets (VeriFone PINpad 1000SE style): LRC = XOR of every byte after STX up to and including ETX.

/** The reflected CCITT polynomial ZVT uses. */
export const ZVT_CRC_POLY = 0x8408;

const TABLE: Uint16Array = (() => {
  const t = new Uint16Array(256);
  for (let i = 0; i < 256; i++) {
    let c = i;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ ZVT_CRC_POLY : c >>> 1;
    t[i] = c;
  }
  return t;
})();

/**
 * CRC-16 (poly 0x8408 reflected, no final XOR) over `data`, continuing from `crc` (0x0000 to start).
 * Feed pieces in order to checksum a message that is not contiguous.
 */
export function crc16Zvt(data: Uint8Array, crc = 0): number {
  let c = crc & 0xffff;
  for (let i = 0; i < data.length; i++) {
    c = (c >>> 8) ^ (TABLE[(c ^ (data[i] ?? 0)) & 0xff] ?? 0);
  }
  return c;
}

const ETX_ONLY = Uint8Array.of(0x03);

/** The CRC a ZVT serial frame carries for `apdu`: CRC-16 over the unstuffed APDU and ETX 0x03. */
export function zvtFrameCrc(apdu: Uint8Array): number {
  return crc16Zvt(ETX_ONLY, crc16Zvt(apdu));
}

/** XOR of all bytes of `data`, continuing from `lrc` (0 to start). */
export function lrc(data: Uint8Array, start = 0): number {
  let x = start & 0xff;
  for (let i = 0; i < data.length; i++) x ^= data[i] ?? 0;
  return x;
}
