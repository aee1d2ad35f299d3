// What a finished flow's result says to the cashier, a line each: queued offline, the cashback earned,
// what was paid with cashback, refunded and taken back, the balance now, and the till's note.
import type { FlowEvent } from '../../../contract/till-events.ts';
import type { Texts } from '../shared/i18n.ts';

/** What the flow's result says, a line each. */
export function resultLines(texts: Texts, f: FlowEvent): string[] {
  const c = texts.messages.cashier;
  const money = (minor: number) => texts.money(minor, f.amount.currency);
  const r = f.result;
  if (!r) return [];
  const lines: string[] = [];
  if (r.queued) lines.push(c.queuedOffline);
  if (r.cashback !== undefined) lines.push(texts.fill(c.cashback, { amount: money(r.cashback) }));
  if (r.redeemed !== undefined) lines.push(texts.fill(c.redeemed, { amount: money(r.redeemed) }));
  if (f.kind === 'refund' && f.outcome === 'done')
    lines.push(texts.fill(c.refunded, { amount: money(f.amount.minor) }));
  if (r.clawback !== undefined && r.clawback > 0)
    lines.push(texts.fill(c.clawback, { amount: money(r.clawback) }));
  if (r.available !== undefined) lines.push(texts.fill(c.available, { amount: money(r.available) }));
  if (r.note) lines.push(r.note);
  return lines;
}
