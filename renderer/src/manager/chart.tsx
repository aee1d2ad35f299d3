// The bar chart of cashback earned and redeemed per day, drawn as SVG by this screen (no chart library:
// see renderer/README.md, The manager). Two bars a day on a round value axis (chart-scale.ts); days
// run in reading order, so right to left in Arabic; colours come from manager.css (no inline style).
// Screen readers get the label and the table under the chart, which holds every figure.
import type { Texts } from '../shared/i18n.ts';
import { barHeight, niceScale } from './chart-scale.ts';

export interface ChartDay {
  date: string;
  earned: number;
  redeemed: number;
}

const HEIGHT = 280;
const AXIS = 104; // room for the amounts on the value axis
const FOOT = 32; // room for the day labels
const TOP = 12;
const SLOT_MIN = 36;

export function CashbackChart({
  texts,
  days,
  currency,
  label,
  dayLabel,
}: {
  texts: Texts;
  days: ChartDay[];
  currency: string;
  label: string;
  dayLabel(date: string): string;
}) {
  const m = texts.messages.manager;
  const scale = niceScale(Math.max(0, ...days.flatMap((d) => [d.earned, d.redeemed])));
  const slot = Math.max(SLOT_MIN, Math.floor(720 / Math.max(1, days.length)));
  const width = AXIS + slot * days.length + 8;
  const plot = HEIGHT - TOP - FOOT;
  const rtl = texts.dir === 'rtl';
  // In RTL the axis stands on the right and the first day is rightmost.
  const x = (i: number) => (rtl ? width - AXIS - slot * (i + 1) : AXIS + slot * i);
  const y = (value: number) => TOP + plot - barHeight(value, scale.top, plot);
  const bar = Math.max(4, Math.floor((slot - 8) / 2));
  // Label every day when there is room, else about ten labels across.
  const every = Math.max(1, Math.ceil(days.length / 10));
  return (
    <figure class="chart">
      {/* Geometry in left-to-right coordinates whatever the page's direction: RTL is placed by hand. */}
      <svg viewBox={`0 0 ${width} ${HEIGHT}`} role="img" aria-label={label} class="chart-svg" direction="ltr">
        {scale.ticks.map((t) => (
          <g key={t} class="tick">
            <line x1={rtl ? 8 : AXIS} x2={rtl ? width - AXIS : width - 8} y1={y(t)} y2={y(t)} />
            <text x={rtl ? width - AXIS + 6 : AXIS - 6} y={y(t) + 4} text-anchor={rtl ? 'start' : 'end'}>
              {texts.money(t, currency)}
            </text>
          </g>
        ))}
        {days.map((d, i) => {
          const left = x(i) + (slot - 2 * bar) / 2;
          const [first, second] = rtl ? ['redeemed', 'earned'] : ['earned', 'redeemed'];
          return (
            <g key={d.date} data-day={d.date}>
              {[first, second].map((kind, j) => {
                const value = kind === 'earned' ? d.earned : d.redeemed;
                return (
                  <rect
                    key={kind}
                    class={`bar bar-${kind}`}
                    x={left + j * bar}
                    y={y(value)}
                    width={bar - 2}
                    height={TOP + plot - y(value)}
                  >
                    <title>{`${dayLabel(d.date)}: ${kind === 'earned' ? m.earned : m.redeemed} ${texts.money(value, currency)}`}</title>
                  </rect>
                );
              })}
              {i % every === 0 && (
                <text class="day" x={x(i) + slot / 2} y={HEIGHT - 8} text-anchor="middle">
                  {dayLabel(d.date)}
                </text>
              )}
            </g>
          );
        })}
      </svg>
      <figcaption class="legend">
        <span class="key key-earned">{m.earned}</span>
        <span class="key key-redeemed">{m.redeemed}</span>
      </figcaption>
    </figure>
  );
}
