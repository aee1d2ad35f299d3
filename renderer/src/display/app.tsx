// The customer display: faces the customer, readable at two metres. Idle: the store's name. During a
// flow: what it is, the amount and what the terminal asks of the customer. A cashout: the claim's QR
// code with its short link, amount, expiry and live status. After a flow: its result. The connection's
// trouble is said calmly at the foot of the screen; the screen comes back by itself.
import type { FlowEvent } from '../../../contract/till-events.ts';
import type { Texts } from '../shared/i18n.ts';
import { QrCode } from './qr.tsx';
import { connection, flow } from './state.ts';

type DisplayTexts = Texts['messages']['display'];
const FINAL_CLAIM = new Set(['paid', 'failed', 'expired', 'cancelled']);

/** The link as people read it: no scheme, no trailing slash. */
export const shortUrl = (url: string) => url.replace(/^https?:\/\//, '').replace(/\/$/, '');

function promptText(d: DisplayTexts, key: string): string {
  const text = (d as Record<string, string>)[`prompt_${key}`];
  return text ?? d.prompt_please_wait;
}

function resultLines(texts: Texts, f: FlowEvent): string[] {
  const d = texts.messages.display;
  const r = f.result;
  const money = (minor: number) => texts.money(minor, f.amount.currency);
  if (!r) return [];
  const lines: string[] = [];
  if (f.kind === 'earn')
    lines.push(r.cashback !== undefined ? texts.fill(d.earned, { amount: money(r.cashback) }) : d.earnQueued);
  if (r.redeemed !== undefined) lines.push(texts.fill(d.redeemed, { amount: money(r.redeemed) }));
  if (f.kind === 'refund' && f.amount.minor > 0)
    lines.push(texts.fill(d.refunded, { amount: money(f.amount.minor) }));
  if (r.clawback !== undefined && r.clawback > 0)
    lines.push(texts.fill(d.clawback, { amount: money(r.clawback) }));
  if (r.available !== undefined) lines.push(texts.fill(d.available, { amount: money(r.available) }));
  return lines;
}

function Claim({ texts, f }: { texts: Texts; f: FlowEvent & { claim: NonNullable<FlowEvent['claim']> } }) {
  const d = texts.messages.display;
  const { claim } = f;
  const live = !FINAL_CLAIM.has(claim.status);
  return (
    <section class="claim" aria-labelledby="claim-amount">
      {live && (
        <div class="qr-frame">
          <QrCode text={claim.url} label={texts.fill(d.claimQrLabel, { url: claim.url })} />
        </div>
      )}
      <div class="claim-text">
        <h1 id="claim-amount" class="amount">
          {texts.fill(d.claimAmount, { amount: texts.money(f.amount.minor, f.amount.currency) })}
        </h1>
        {live && (
          <>
            <p class="prompt">{d.prompt_scan_qr}</p>
            <p class="short-url" dir="ltr">
              {shortUrl(claim.url)}
            </p>
            <p class="expiry">{texts.fill(d.claimExpires, { date: texts.time(claim.expiresAt) })}</p>
          </>
        )}
        <p class={`claim-status status-${claim.status}`} role="status" data-status={claim.status}>
          {d[`claim_${claim.status}`]}
        </p>
      </div>
    </section>
  );
}

function Flow({ texts, f }: { texts: Texts; f: FlowEvent }) {
  const d = texts.messages.display;
  if (f.claim) return <Claim texts={texts} f={{ ...f, claim: f.claim }} />;
  const result = f.outcome === 'done' ? resultLines(texts, f) : [];
  return (
    <section class="flow" aria-labelledby="flow-kind" data-step={f.step}>
      <h1 id="flow-kind" class="kind">
        {d[`kind_${f.kind}`]}
      </h1>
      {f.amount.minor > 0 && <p class="amount">{texts.money(f.amount.minor, f.amount.currency)}</p>}
      <p class="prompt" role="status">
        {promptText(d, f.prompt.customer)}
      </p>
      {result.map((line, i) => (
        <p key={i} class={i === 0 ? 'result headline' : 'result'}>
          {line}
        </p>
      ))}
    </section>
  );
}

function Idle({ texts, storeName }: { texts: Texts; storeName: string }) {
  return (
    <section class="idle" aria-labelledby="store">
      <p class="welcome">{texts.messages.display.welcome}</p>
      <h1 id="store" class="store">
        {storeName}
      </h1>
    </section>
  );
}

function ConnectionNote({ texts }: { texts: Texts }) {
  const c = texts.messages.common;
  const state = connection.value;
  if (state === 'open') return null;
  const [line, hint] =
    state === 'refused'
      ? [c.refused, c.refusedHint]
      : state === 'no_token'
        ? [c.noToken, undefined]
        : [state === 'connecting' ? c.connecting : c.reconnecting, c.reconnectingHint];
  return (
    <p class={`connection connection-${state}`} role="status" data-connection={state}>
      {line}
      {hint && <span class="hint"> {hint}</span>}
    </p>
  );
}

export function DisplayApp({ texts, storeName }: { texts: Texts; storeName: string }) {
  const f = flow.value;
  return (
    <>
      <main>{f ? <Flow texts={texts} f={f} /> : <Idle texts={texts} storeName={storeName} />}</main>
      <footer>
        <ConnectionNote texts={texts} />
      </footer>
    </>
  );
}
