// The value axis of the cashback chart: from 0 to a round top, in steps of 1, 2 or 5 times a power of
// ten minor units, so the gridlines read as round amounts ($0, $5, $10...). Amounts are integer minor
// units; the bars' heights are geometry (pixels), not money.

export interface Scale {
  /** The axis' top, in minor units: at least the largest value. */
  top: number;
  step: number;
  /** 0, step, 2 step ... top. */
  ticks: number[];
}

/** The smallest step of 1, 2 or 5 x 10^k (and at least 1) that covers `max` in `maxTicks` steps. */
export function niceScale(max: number, maxTicks = 4): Scale {
  if (!Number.isSafeInteger(max) || max < 0)
    throw new RangeError(`max must be a safe integer >= 0, not ${max}`);
  if (!Number.isInteger(maxTicks) || maxTicks < 1) throw new RangeError('maxTicks must be at least 1');
  const raw = Math.max(1, max / maxTicks);
  let power = 10 ** Math.floor(Math.log10(raw));
  // log10 of a power of ten may land a hair above it: never start above what is needed.
  if (power > raw && power >= 10) power /= 10;
  let step = power;
  for (;;) {
    const found = [1, 2, 5].map((m) => m * power).find((s) => s >= raw);
    if (found !== undefined) {
      step = found;
      break;
    }
    power *= 10;
  }
  const count = Math.max(1, Math.ceil(max / step));
  const ticks = Array.from({ length: count + 1 }, (_, i) => i * step);
  return { top: count * step, step, ticks };
}

/** The height of a bar of `value` on an axis of `height` pixels topped at `top`. */
export const barHeight = (value: number, top: number, height: number): number =>
  top <= 0 ? 0 : (Math.min(Math.max(value, 0), top) / top) * height;
