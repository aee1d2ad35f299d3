// A growable byte accumulator with a hard cap, shared by the decoders (internal to drivers/framing).
// Appending is amortised O(1); capacity doubles up to the cap and never beyond it.

export class ByteAccumulator {
  private buf: Buffer;
  private len = 0;

  constructor(
    readonly max: number,
    initial = 64,
  ) {
    this.buf = Buffer.allocUnsafe(Math.max(1, Math.min(initial, max)));
  }

  get length(): number {
    return this.len;
  }

  /** Appends one byte; returns false (and appends nothing) when the cap is reached. */
  push(byte: number): boolean {
    if (this.len >= this.max) return false;
    if (this.len === this.buf.length) {
      const next = Buffer.allocUnsafe(Math.min(this.max, this.buf.length * 2));
      this.buf.copy(next, 0, 0, this.len);
      this.buf = next;
    }
    this.buf[this.len++] = byte;
    return true;
  }

  /** A copy of the accumulated bytes (the caller may keep it). */
  take(): Buffer {
    return Buffer.from(this.buf.subarray(0, this.len));
  }

  clear(): void {
    this.len = 0;
    // Drop a large buffer after an oversized frame so one burst does not pin memory.
    if (this.buf.length > 4096) this.buf = Buffer.allocUnsafe(64);
  }
}
