// Ports that enumeration cannot see: SerialPort.list() never lists /dev/pts/*, and a TCP terminal is
// not enumerated at all. A manifest directory names them, one JSON file per device, in the shape of
// serialport's PortInfo plus a TCP form. `npm run simulate` writes one file per simulated device (its
// path a symlink to the socat pseudo-terminal, created by socat's `link=`); a till can list real
// ports that enumeration misses the same way. An entry whose path no longer exists is unplugged.
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';

const hex4 = z.string().regex(/^[0-9a-fA-F]{4}$/, 'four hex digits');

export const manifestEntrySchema = z.union([
  z.object({
    /** Serial device path (a symlink is fine). */
    path: z.string().min(1),
    manufacturer: z.string().optional(),
    serialNumber: z.string().optional(),
    vendorId: hex4.optional(),
    productId: hex4.optional(),
    /** Free text shown in listings. */
    label: z.string().optional(),
  }),
  z.object({
    /** host:port of a LAN terminal (ZVT over TCP). */
    tcp: z.string().regex(/^[^\s:]+:\d{1,5}$/, 'host:port'),
    manufacturer: z.string().optional(),
    serialNumber: z.string().optional(),
    label: z.string().optional(),
    /** TCP carries no VID/PID: the driver is named. */
    driver: z.enum(['zvt']),
  }),
]);

export type ManifestEntry = z.infer<typeof manifestEntrySchema>;

export interface ManifestRead {
  entries: Array<{ file: string; entry: ManifestEntry }>;
  /** Files that did not parse, with the reason, so a typo is reported instead of ignored. */
  problems: Array<{ file: string; message: string }>;
}

/** Reads every `*.json` in `dir`; a missing directory is an empty manifest. */
export async function readManifest(dir: string): Promise<ManifestRead> {
  const out: ManifestRead = { entries: [], problems: [] };
  let names: string[];
  try {
    names = (await readdir(dir)).filter((n) => n.endsWith('.json')).sort();
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return out;
    throw err;
  }
  for (const name of names) {
    const file = join(dir, name);
    try {
      const parsed = manifestEntrySchema.safeParse(JSON.parse(await readFile(file, 'utf8')));
      if (parsed.success) out.entries.push({ file, entry: parsed.data });
      else out.problems.push({ file, message: z.prettifyError(parsed.error) });
    } catch (err) {
      // A file being rewritten by the simulator can be read half-written; the next poll reads it whole.
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') continue;
      out.problems.push({ file, message: err instanceof Error ? err.message : String(err) });
    }
  }
  return out;
}
