// The day totals section: a date range (the till's last 31 days unless chosen), the chart of cashback
// earned and redeemed per day in the program's currency, and the table of every day and currency:
// delivered purchases, refunds, payments with cashback and cash outs (count and amount), what still
// waits or failed, and the cashback earned, redeemed and clawed back.
import { useState } from 'preact/hooks';
import { CashbackChart, type ChartDay } from './chart.tsx';
import { useLoad, useManager } from './context.ts';
import { ScrollBox } from './scroll-box.tsx';
import { formats } from './format.ts';
import { daysBetween, filtersProblem, historyParams, NO_FILTERS, OPERATION_TYPES } from './query.ts';
import { TotalsSchema, type DayTotals, type Totals } from './schemas.ts';
import { historyVersion } from './state.ts';

/** One bar pair per day of the range (a day with nothing is zero), in `currency`, oldest first. */
export function chartDays(totals: Totals, currency: string): ChartDay[] {
  const byDate = new Map(totals.days.filter((d) => d.currency === currency).map((d) => [d.date, d]));
  return daysBetween(totals.from, totals.to).map((date) => {
    const d = byDate.get(date);
    return { date, earned: d?.cashback.earned ?? 0, redeemed: d?.cashback.redeemed ?? 0 };
  });
}

function delivered(day: DayTotals, type: string) {
  const ops = day.operations.filter((o) => o.type === type && o.state === 'delivered');
  return { count: ops.reduce((n, o) => n + o.count, 0), amount: ops.reduce((n, o) => n + o.amount, 0) };
}

export function TotalsSection() {
  const manager = useManager();
  const { texts } = manager;
  const m = texts.messages.manager;
  const [range, setRange] = useState({ from: '', to: '' });
  const [draft, setDraft] = useState(range);
  const [problem, setProblem] = useState<string | null>(null);
  const query = historyParams({ ...NO_FILTERS, ...range });
  const totals = useLoad(
    () => manager.call(`/api/history/totals?${query}`, { schema: TotalsSchema }),
    `${query} ${historyVersion.value}`,
  );
  const t = totals.data;
  const f = formats(texts, t?.timeZone);
  const submit = (e: Event) => {
    e.preventDefault();
    const p = filtersProblem({ ...NO_FILTERS, ...draft });
    setProblem(p === 'bad_date' ? m.badDate : p === 'range_reversed' ? m.rangeReversed : null);
    if (!p) setRange(draft);
  };
  const waiting = (day: DayTotals) =>
    day.operations
      .filter((o) => o.state === 'queued' || o.state === 'failed')
      .reduce((n, o) => n + o.count, 0);
  const cell = (day: DayTotals, type: string) => {
    const { count, amount } = delivered(day, type);
    return count === 0
      ? '–'
      : texts.fill(m.countAmount, { count: String(count), amount: texts.money(amount, day.currency) });
  };
  return (
    <div class="section totals">
      <form class="filters range" onSubmit={submit} aria-labelledby="totals-title">
        <h2 id="totals-title">{m.totalsTitle}</h2>
        <div class="fields">
          <label>
            {m.from}
            <input
              type="date"
              name="from"
              value={draft.from || t?.from || ''}
              onInput={(e) => setDraft({ ...draft, from: e.currentTarget.value })}
            />
          </label>
          <label>
            {m.to}
            <input
              type="date"
              name="to"
              value={draft.to || t?.to || ''}
              onInput={(e) => setDraft({ ...draft, to: e.currentTarget.value })}
            />
          </label>
          <button type="submit" class="primary">
            {m.apply} <kbd>Enter</kbd>
          </button>
        </div>
        <p class="error" role="alert">
          {problem}
        </p>
      </form>
      <p class="error" role="alert">
        {totals.error}
      </p>
      {totals.loading && !t && <p role="status">{m.loading}</p>}
      {t && (
        <>
          <h3>
            {m.chartTitle} ({manager.currency}),{' '}
            {texts.fill(m.range, { from: f.date(t.from), to: f.date(t.to) })}
          </h3>
          <CashbackChart
            texts={texts}
            days={chartDays(t, manager.currency)}
            currency={manager.currency}
            dayLabel={f.day}
            label={texts.fill(m.chartLabel, { from: f.date(t.from), to: f.date(t.to) })}
          />
          {t.days.length === 0 ? (
            <p class="empty">{m.noTotals}</p>
          ) : (
            <ScrollBox label={m.totalsTitle}>
              <table class="day-totals">
                <thead>
                  <tr>
                    <th scope="col">{m.day}</th>
                    <th scope="col">{m.currency}</th>
                    {OPERATION_TYPES.map((type) => (
                      <th scope="col" key={type} class="num">
                        {m[`col_${type}s`]}
                      </th>
                    ))}
                    <th scope="col" class="num">
                      {m.col_waiting}
                    </th>
                    <th scope="col" class="num">
                      {m.earned}
                    </th>
                    <th scope="col" class="num">
                      {m.redeemed}
                    </th>
                    <th scope="col" class="num">
                      {m.clawedBack}
                    </th>
                  </tr>
                </thead>
                <tbody>
                  {t.days.map((day) => (
                    <tr key={`${day.date} ${day.currency}`} data-day={day.date}>
                      <th scope="row">{f.date(day.date)}</th>
                      <td>{day.currency}</td>
                      {OPERATION_TYPES.map((type) => (
                        <td key={type} class="num">
                          {cell(day, type)}
                        </td>
                      ))}
                      <td class="num">{waiting(day)}</td>
                      <td class="num">{texts.money(day.cashback.earned, day.currency)}</td>
                      <td class="num">{texts.money(day.cashback.redeemed, day.currency)}</td>
                      <td class="num">{texts.money(day.cashback.clawedBack, day.currency)}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </ScrollBox>
          )}
        </>
      )}
    </div>
  );
}
