// Shared by the device manager tests: a manifest directory, waiting for events, open file descriptors.
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { DeviceManager } from '../../../drivers/devices/manager.ts';
import type { DeviceEvent, DeviceState, ManagerEvent } from '../../../drivers/devices/events.ts';
import type { ManifestEntry } from '../../../drivers/devices/manifest.ts';

/** DESIGN.md's track vectors: the PAN must never appear in an event, a log line or CLI output. */
export const TEST_PAN = '5350290149345177';
export const TEST_SWIPE =
  '%B5350290149345177^FATEHI/SUALEH^16042010000000000000000000000000000567001000?' +
  ';5350290149345177=16042010000056700100?\r\n';

export class ManifestDir {
  readonly dir = mkdtempSync(join(tmpdir(), 'tillback-manifest-'));

  write(name: string, entry: ManifestEntry): void {
    writeFileSync(join(this.dir, `${name}.json`), JSON.stringify(entry));
  }

  dispose(): void {
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/** Simulator entry for a serial device: pid.codes VID 1209, the simulator's product ids. */
export function simEntry(path: string, productId: string, serialNumber: string): ManifestEntry {
  return { path, vendorId: '1209', productId, serialNumber, manufacturer: 'Tillback Simulator' };
}

/** Records every event of a manager, and waits for the next one that matches. */
export class EventLog {
  readonly events: ManagerEvent[] = [];
  readonly #waiters = new Set<{ match: (e: ManagerEvent) => boolean; resolve: (e: ManagerEvent) => void }>();

  constructor(manager: DeviceManager) {
    manager.subscribe('*', (e) => {
      this.events.push(e);
      for (const w of [...this.#waiters]) {
        if (w.match(e)) {
          this.#waiters.delete(w);
          w.resolve(e);
        }
      }
    });
  }

  /** The next matching event from now on (events already logged do not count). */
  next<T extends ManagerEvent>(match: (e: ManagerEvent) => e is T, timeoutMs?: number): Promise<T>;
  next(match: (e: ManagerEvent) => boolean, timeoutMs?: number): Promise<ManagerEvent>;
  next(match: (e: ManagerEvent) => boolean, timeoutMs = 10_000): Promise<ManagerEvent> {
    return new Promise((resolve, reject) => {
      const waiter = {
        match,
        resolve: (e: ManagerEvent) => {
          clearTimeout(timer);
          resolve(e);
        },
      };
      const timer = setTimeout(() => {
        this.#waiters.delete(waiter);
        reject(new Error(`no matching event within ${timeoutMs} ms`));
      }, timeoutMs);
      this.#waiters.add(waiter);
    });
  }

  /** The next state change of `id` to `state`. */
  state(id: string, state: DeviceState, timeoutMs?: number): Promise<DeviceEvent> {
    return this.next(
      (e): e is DeviceEvent => e.type === 'state' && e.deviceId === id && e.state === state,
      timeoutMs,
    );
  }

  states(id: string): DeviceState[] {
    return this.events.flatMap((e) => (e.type === 'state' && e.deviceId === id ? [e.state] : []));
  }
}

export function fdCount(): number {
  return readdirSync('/proc/self/fd').length;
}

/** Active handles and timers by type (process.getActiveResourcesInfo), for leak checks. */
export function activeResources(): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const r of process.getActiveResourcesInfo()) counts[r] = (counts[r] ?? 0) + 1;
  return counts;
}

/** Every string anywhere in a value (keys included), for secret scans. */
export function strings(value: unknown): string[] {
  if (typeof value === 'string') return [value];
  if (Array.isArray(value)) return value.flatMap(strings);
  if (value && typeof value === 'object') {
    return Object.entries(value).flatMap(([k, v]) => [k, ...strings(v)]);
  }
  return [];
}
