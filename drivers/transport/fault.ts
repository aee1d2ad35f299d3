// A fault-injecting wrapper around any Transport. Faults apply to incoming bytes (what the wrapper's
// user receives), are switched on and off by command, and are deterministic for a given seed.
import { BaseTransport, TransportError } from './transport.ts';
import type { Transport, TransportState } from './transport.ts';

/** mulberry32: a small, fast, seeded PRNG returning floats in [0, 1). */
export function seededRandom(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export interface FaultOptions {
  /** Seed of the PRNG behind probabilistic drops and bit choices (default 1). */
  seed?: number;
  id?: string;
}

export interface FaultStats {
  chunksIn: number;
  chunksDelivered: number;
  chunksDropped: number;
  bytesCorrupted: number;
}

export type DropSpec = { probability: number } | { next: number };

export class FaultTransport extends BaseTransport {
  readonly #inner: Transport;
  readonly #random: () => number;
  #splitSize = 0;
  #delayMs = 0;
  #dropProbability = 0;
  #dropNext = 0;
  #corruptNext = 0;
  #tail: Promise<void> = Promise.resolve();
  readonly #timers = new Set<NodeJS.Timeout>();
  readonly stats: FaultStats = { chunksIn: 0, chunksDelivered: 0, chunksDropped: 0, bytesCorrupted: 0 };

  readonly #onData = (chunk: Buffer): void => this.#incoming(chunk);
  readonly #onState = (state: TransportState, error?: TransportError): void => {
    if (state === 'failed' || state === 'closed') {
      this.fail(error ?? new TransportError('disconnected', `${this.#inner.id}: link ${state}`));
    }
  };

  constructor(inner: Transport, options: FaultOptions = {}) {
    super(options.id ?? `fault(${inner.id})`);
    this.#inner = inner;
    this.#random = seededRandom(options.seed ?? 1);
  }

  get inner(): Transport {
    return this.#inner;
  }

  /** Deliver incoming chunks in pieces of at most `n` bytes (0 = off). */
  split(n: number): this {
    if (!Number.isInteger(n) || n < 0) throw new RangeError('split(n): n must be a non-negative integer');
    this.#splitSize = n;
    return this;
  }

  /** Hold every incoming chunk `ms` before delivering it; order is kept (0 = off). */
  delay(ms: number): this {
    if (!(ms >= 0)) throw new RangeError('delay(ms): ms must be >= 0');
    this.#delayMs = ms;
    return this;
  }

  /** Drop incoming chunks: each with a probability, or exactly the next N. */
  drop(spec: DropSpec): this {
    if ('probability' in spec) {
      if (!(spec.probability >= 0 && spec.probability <= 1)) throw new RangeError('probability in [0, 1]');
      this.#dropProbability = spec.probability;
    } else {
      if (!Number.isInteger(spec.next) || spec.next < 0) throw new RangeError('next must be an integer >= 0');
      this.#dropNext = spec.next;
    }
    return this;
  }

  /** Flip one (seeded-random) bit in each of the next `n` incoming bytes. */
  corrupt(n: number): this {
    if (!Number.isInteger(n) || n < 0) throw new RangeError('corrupt(n): n must be an integer >= 0');
    this.#corruptNext = n;
    return this;
  }

  /** Turn every fault off (bytes already delayed are still delivered). */
  clear(): this {
    this.#splitSize = 0;
    this.#delayMs = 0;
    this.#dropProbability = 0;
    this.#dropNext = 0;
    this.#corruptNext = 0;
    return this;
  }

  /** Simulate an unplug: this wrapper goes `failed` (disconnected) and the inner link is closed. */
  disconnect(): void {
    this.fail(new TransportError('disconnected', `${this.id}: disconnected by fault injection`));
  }

  protected override async doOpen(): Promise<void> {
    this.#inner.on('data', this.#onData);
    await this.#inner.open();
    this.#inner.on('state', this.#onState);
  }

  protected override async doClose(): Promise<void> {
    this.#inner.off('state', this.#onState);
    this.#inner.off('data', this.#onData);
    for (const t of this.#timers) clearTimeout(t);
    this.#timers.clear();
    this.#tail = Promise.resolve();
    await this.#inner.close();
  }

  protected override doWrite(data: Buffer): Promise<void> {
    return this.#inner.write(data);
  }

  #incoming(input: Buffer): void {
    if (this.state !== 'open') return;
    this.stats.chunksIn++;
    if (this.#dropNext > 0) {
      this.#dropNext--;
      this.stats.chunksDropped++;
      return;
    }
    if (this.#dropProbability > 0 && this.#random() < this.#dropProbability) {
      this.stats.chunksDropped++;
      return;
    }
    let chunk = input;
    if (this.#corruptNext > 0) {
      chunk = Buffer.from(input);
      const n = Math.min(this.#corruptNext, chunk.length);
      for (let i = 0; i < n; i++) {
        chunk[i] = (chunk[i] ?? 0) ^ (1 << Math.floor(this.#random() * 8));
      }
      this.#corruptNext -= n;
      this.stats.bytesCorrupted += n;
    }
    const size = this.#splitSize > 0 ? this.#splitSize : chunk.length;
    const pieces: Buffer[] = [];
    for (let i = 0; i < chunk.length; i += size) pieces.push(chunk.subarray(i, i + size));
    const gen = this.generation;
    const due = Date.now() + this.#delayMs;
    const deliver = (): void => {
      if (gen !== this.generation) return;
      for (const piece of pieces) {
        this.stats.chunksDelivered++;
        this.deliver(piece);
      }
    };
    if (this.#delayMs === 0 && this.#timers.size === 0) {
      deliver();
      return;
    }
    // Delayed delivery keeps arrival order: each chunk waits for its due time and for every earlier one.
    this.#tail = this.#tail.then(
      () =>
        new Promise<void>((resolve) => {
          const timer = setTimeout(
            () => {
              this.#timers.delete(timer);
              deliver();
              resolve();
            },
            Math.max(0, due - Date.now()),
          );
          this.#timers.add(timer);
        }),
    );
  }
}

/** Wraps `inner` in a fault injector (all faults off until commanded). */
export function withFaults(inner: Transport, options?: FaultOptions): FaultTransport {
  return new FaultTransport(inner, options);
}
