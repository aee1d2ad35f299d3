// A flow on the cashier's screen, from its FlowEvents: what it is and the amount, its progress, the
// step in words (the event's cashier prompt key), the member, what the cashier may type when the flow
// asks (a member without a card; the one-time code), a cashout's claim link and live status, and
// Cancel (Esc). Once it ended: done, failed with the reason, or cancelled; what the engine answered;
// and New sale (Enter).
import { signal } from '@preact/signals';
import { useLayoutEffect, useRef, useState } from 'preact/hooks';
import type { FlowEvent } from '../../../contract/till-events.ts';
import { ApiError } from '../shared/api.ts';
import type { Texts } from '../shared/i18n.ts';
import type { Actions } from './actions.ts';
import { phasesOf } from './phases.ts';
import { resultLines } from './result.ts';
import { dismissFlow } from './state.ts';

type CashierTexts = Texts['messages']['cashier'];
const MEMBER_KINDS = ['email', 'phone', 'externalId'] as const;
type MemberKind = (typeof MEMBER_KINDS)[number];

/** A refused cancel or input, said under the flow. */
const actionError = signal<string | null>(null);

function promptText(c: CashierTexts, key: string): string {
  return (c as Record<string, string>)[`prompt_${key}`] ?? c.prompt_waiting;
}

/** Runs a cashier action on the flow, saying a refusal in words. */
async function attempt(texts: Texts, run: () => Promise<void>): Promise<boolean> {
  actionError.value = null;
  try {
    await run();
    return true;
  } catch (error) {
    const message = error instanceof ApiError ? error.message : String(error);
    actionError.value = texts.fill(texts.messages.cashier.refusedInput, { message });
    return false;
  }
}

/** Cancel (Esc), from the button or the screen's shortcut. */
export const cancelFlow = (texts: Texts, actions: Actions) => attempt(texts, () => actions.cancel());

function MemberForm({ texts, actions }: { texts: Texts; actions: Actions }) {
  const c = texts.messages.cashier;
  const [by, setBy] = useState<MemberKind>('email');
  const [value, setValue] = useState('');
  const submit = async (e: Event) => {
    e.preventDefault();
    const typed = value.trim();
    if (!typed) return;
    if (await attempt(texts, () => actions.input({ member: { [by]: typed } }))) setValue('');
  };
  const kindName = c[`member_${by}`];
  return (
    <form class="flow-input" onSubmit={submit} noValidate aria-label={c.member}>
      <p class="hint">{c.memberHint}</p>
      <label for="member-by">{c.memberKind}</label>
      <select id="member-by" value={by} onChange={(e) => setBy(e.currentTarget.value as MemberKind)}>
        {MEMBER_KINDS.map((k) => (
          <option key={k} value={k}>
            {c[`member_${k}`]}
          </option>
        ))}
      </select>
      <label for="member-value">{kindName}</label>
      <input
        id="member-value"
        inputMode={by === 'email' ? 'email' : by === 'phone' ? 'tel' : 'text'}
        autocomplete="off"
        dir="ltr"
        maxLength={254}
        value={value}
        onInput={(e) => setValue(e.currentTarget.value)}
      />
      <button type="submit">
        {c.memberSubmit} <kbd>Enter</kbd>
      </button>
    </form>
  );
}

function CodeForm({ texts, actions, sentTo }: { texts: Texts; actions: Actions; sentTo: string | null }) {
  const c = texts.messages.cashier;
  const [code, setCode] = useState('');
  const ref = useRef<HTMLInputElement>(null);
  useLayoutEffect(() => ref.current?.focus(), []);
  const submit = async (e: Event) => {
    e.preventDefault();
    if (await attempt(texts, () => actions.input({ code }))) setCode('');
  };
  return (
    <form class="flow-input" onSubmit={submit} aria-label={c.code}>
      {sentTo && <p class="hint">{texts.fill(c.codeSentTo, { to: sentTo })}</p>}
      <label for="otp-code">{c.code}</label>
      <input
        id="otp-code"
        ref={ref}
        inputMode="numeric"
        autocomplete="one-time-code"
        dir="ltr"
        maxLength={6}
        value={code}
        onInput={(e) => setCode(e.currentTarget.value.replace(/\D/g, '').slice(0, 6))}
      />
      <button type="submit">
        {c.codeSubmit} <kbd>Enter</kbd>
      </button>
    </form>
  );
}

function Claim({ texts, f }: { texts: Texts; f: FlowEvent }) {
  const c = texts.messages.cashier;
  if (!f.claim) return null;
  return (
    <dl class="claim">
      <dt>{c.claimUrl}</dt>
      <dd class="claim-url" dir="ltr">
        {f.claim.url}
      </dd>
      <dt>{c.claimStatus}</dt>
      <dd class={`claim-status status-${f.claim.status}`} data-claim-status={f.claim.status}>
        {c[`claim_${f.claim.status}`]}
      </dd>
      <dd>{texts.fill(c.claimExpires, { date: texts.time(f.claim.expiresAt) })}</dd>
    </dl>
  );
}

export function FlowView({ texts, f, actions }: { texts: Texts; f: FlowEvent; actions: Actions }) {
  const c = texts.messages.cashier;
  const running = f.outcome === null;
  const headingRef = useRef<HTMLHeadingElement>(null);
  const newSaleRef = useRef<HTMLButtonElement>(null);
  // Focus follows the flow: its heading while it runs (read out), New sale once it ended.
  useLayoutEffect(() => {
    actionError.value = null;
    (running ? headingRef : newSaleRef).current?.focus();
  }, [f.flowId, running]);

  const amount = f.amount.minor > 0 ? texts.money(f.amount.minor, f.amount.currency) : '';
  const lines = running ? [] : resultLines(texts, f);
  return (
    <section class={`flow flow-${f.outcome ?? 'running'}`} aria-labelledby="flow-title" data-step={f.step}>
      <h1 id="flow-title" ref={headingRef} tabIndex={-1}>
        {c[`kind_${f.kind}`]}
        {amount && <span class="flow-amount"> {amount}</span>}
      </h1>
      <ol class="phases">
        {phasesOf(f).map(({ phase, state }) => (
          <li key={phase} data-state={state} aria-current={state === 'current' ? 'step' : undefined}>
            {c[`phase_${phase}`]}
          </li>
        ))}
      </ol>
      {running ? (
        <p class="prompt" role="status" data-prompt={f.prompt.cashier}>
          <span class="spinner" aria-hidden="true" />
          {promptText(c, f.prompt.cashier)}
        </p>
      ) : (
        <p class={`outcome outcome-${f.outcome}`} role="status" data-outcome={f.outcome}>
          {c[`outcome_${f.outcome ?? 'done'}`]}
        </p>
      )}
      {f.member && <p class="member">{texts.fill(c.memberShown, { member: f.member })}</p>}
      {f.error && <p class="error">{running ? f.error : texts.fill(c.reason, { reason: f.error })}</p>}
      {lines.map((line, i) => (
        <p key={i} class={i === 0 ? 'result headline' : 'result'}>
          {line}
        </p>
      ))}
      <Claim texts={texts} f={f} />
      {running && f.step === 'identify' && <MemberForm texts={texts} actions={actions} />}
      {running && f.step === 'otp' && <CodeForm texts={texts} actions={actions} sentTo={f.codeSentTo} />}
      <p class="error" role="alert">
        {actionError.value}
      </p>
      <div class="flow-actions">
        {running ? (
          <button type="button" class="cancel" onClick={() => void cancelFlow(texts, actions)}>
            {c.cancel} <kbd>Esc</kbd>
          </button>
        ) : (
          <button type="button" class="primary" ref={newSaleRef} onClick={dismissFlow}>
            {c.newSale} <kbd>Enter</kbd>
          </button>
        )}
      </div>
    </section>
  );
}
