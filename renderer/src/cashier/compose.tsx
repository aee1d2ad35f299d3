// The start of every sale: what it is (purchase, pay with cashback, refund, cash out: F1 to F4), the
// amount on the big keypad or typed (digits only, shown as money in the till's locale), an optional
// reference (a refund names the purchase's), then Start (Enter). The draft is kept in signals, so the
// keyboard shortcuts of the whole screen can choose the kind.
import { signal } from '@preact/signals';
import { useLayoutEffect, useRef } from 'preact/hooks';
import { FLOW_KINDS, type FlowKind } from '../../../contract/till-events.ts';
import { ApiError } from '../shared/api.ts';
import type { Texts } from '../shared/i18n.ts';
import { Keypad, keypadKeyOf, type KeypadKey } from '../shared/keypad.tsx';
import type { Actions } from './actions.ts';
import { amountOf, pressKey } from './amount.ts';

const kind = signal<FlowKind>('earn');
const digits = signal('');
const reference = signal('');
const original = signal('');
const error = signal<string | null>(null);
const busy = signal(false);

/** The function key of each kind, in FLOW_KINDS order. */
const KIND_KEYS: Record<FlowKind, string> = { earn: 'F1', redeem: 'F2', refund: 'F3', cashout: 'F4' };

export function chooseKind(next: FlowKind): void {
  kind.value = next;
  error.value = null;
}

/** Esc on the start screen: a fresh draft. */
export function clearDraft(): void {
  digits.value = '';
  reference.value = '';
  original.value = '';
  error.value = null;
}

/** A key on the amount: a digit, back or clear. */
function press(key: KeypadKey): void {
  digits.value = pressKey(digits.value, key);
  error.value = null;
}

const isTextField = (target: EventTarget | null) =>
  target instanceof HTMLInputElement ||
  target instanceof HTMLSelectElement ||
  target instanceof HTMLTextAreaElement;

// Arabic-Indic and Eastern Arabic-Indic digits from a virtual keyboard count as the digits they are.
const asciiDigit = (ch: string): string | undefined => {
  const code = ch.charCodeAt(0);
  if (ch >= '0' && ch <= '9') return ch;
  if (code >= 0x660 && code <= 0x669) return String(code - 0x660);
  if (code >= 0x6f0 && code <= 0x6f9) return String(code - 0x6f0);
  return undefined;
};

export function Compose({ texts, currency, actions }: { texts: Texts; currency: string; actions: Actions }) {
  const c = texts.messages.cashier;
  const amountRef = useRef<HTMLInputElement>(null);
  const formRef = useRef<HTMLFormElement>(null);
  // Layout effects, not effects: they run in the same task that puts the form on screen. A plain
  // effect waits for the next frame and then a timer, and a busy browser may handle the keys of a
  // cashier who types the amount at once after "New sale" before it: they would meet no field.
  useLayoutEffect(() => amountRef.current?.focus(), []);
  // Digits, Backspace and Enter pressed while the focus is not in a text field (on a kind button the
  // cashier tapped, or nowhere) still type the amount and start the sale.
  useLayoutEffect(() => {
    const onKeyDown = (e: KeyboardEvent) => {
      if (e.ctrlKey || e.metaKey || e.altKey || isTextField(e.target)) return;
      const key = keypadKeyOf(e.key);
      if (key) {
        e.preventDefault();
        press(key);
        amountRef.current?.focus();
      } else if (e.key === 'Enter' && !(e.target instanceof HTMLButtonElement)) {
        e.preventDefault();
        formRef.current?.requestSubmit();
      }
    };
    window.addEventListener('keydown', onKeyDown);
    return () => window.removeEventListener('keydown', onKeyDown);
  }, []);

  const money = (typed: string) => {
    const m = amountOf(typed);
    return m > 0 ? texts.money(m, currency) : '';
  };
  const minor = amountOf(digits.value);
  const refund = kind.value === 'refund';

  const onKeypad = (key: KeypadKey) => {
    press(key);
    amountRef.current?.focus();
  };
  const onAmountKey = (e: KeyboardEvent) => {
    const key = keypadKeyOf(e.key);
    if (key && !e.ctrlKey && !e.metaKey && !e.altKey) {
      e.preventDefault();
      press(key);
    } else if (e.key.length === 1 && !e.ctrlKey && !e.metaKey) {
      e.preventDefault(); // letters and signs are not part of an amount
    }
  };
  // A virtual keyboard (no keydown with the key): read what it inserted or deleted, then show the amount.
  const onAmountInput = (e: Event) => {
    const input = e as InputEvent;
    if (input.inputType.startsWith('delete')) press('back');
    else
      for (const ch of input.data ?? '') {
        const digit = asciiDigit(ch);
        if (digit) press(digit as KeypadKey);
      }
    (e.currentTarget as HTMLInputElement).value = money(digits.value);
  };

  const submit = async (e: Event) => {
    e.preventDefault();
    if (busy.value) return;
    const ref = reference.value.trim();
    const orig = original.value.trim();
    if (refund && !orig) {
      error.value = c.needOriginal;
      return;
    }
    if (!refund && minor <= 0) {
      error.value = c.needAmount;
      amountRef.current?.focus();
      return;
    }
    const body: Record<string, unknown> = refund
      ? { original: { reference: orig }, ...(minor > 0 ? { amount: minor } : {}) }
      : { amount: minor };
    if (ref) body.reference = ref;
    busy.value = true;
    error.value = null;
    try {
      await actions.start(kind.value, body);
      clearDraft();
    } catch (err) {
      error.value = texts.fill(c.refusedStart, {
        message: err instanceof ApiError ? err.message : String(err),
      });
    } finally {
      busy.value = false;
    }
  };

  return (
    <form ref={formRef} class="compose" onSubmit={submit} noValidate aria-label={c.title}>
      <h1 class="compose-title">{c.newSale}</h1>
      <fieldset class="kinds">
        <legend>{c.kinds}</legend>
        {FLOW_KINDS.map((k) => (
          <button
            key={k}
            type="button"
            class="kind"
            data-kind={k}
            aria-pressed={kind.value === k}
            aria-keyshortcuts={KIND_KEYS[k]}
            onClick={() => chooseKind(k)}
          >
            <span class="kind-name">{c[`kind_${k}`]}</span>
            <span class="kind-hint">{c[`hint_${k}`]}</span>
            <kbd>{KIND_KEYS[k]}</kbd>
          </button>
        ))}
      </fieldset>
      <div class="entry">
        <label for="amount">{refund ? c.amountRefund : c.amount}</label>
        <input
          id="amount"
          ref={amountRef}
          class="amount"
          inputMode="numeric"
          autocomplete="off"
          dir="ltr"
          value={money(digits.value)}
          placeholder={texts.money(0, currency)}
          aria-describedby="amount-hint"
          onKeyDown={onAmountKey}
          onInput={onAmountInput}
        />
        <p id="amount-hint" class="hint">
          {c.amountHint}
        </p>
        <Keypad texts={texts} label={c.amountKeypad} onKey={onKeypad} disabled={busy.value} />
      </div>
      <div class="details">
        {refund && (
          <>
            <label for="original">{c.original}</label>
            <input
              id="original"
              autocomplete="off"
              maxLength={128}
              value={original.value}
              onInput={(e) => (original.value = e.currentTarget.value)}
            />
          </>
        )}
        <label for="reference">{c.reference}</label>
        <input
          id="reference"
          autocomplete="off"
          maxLength={128}
          value={reference.value}
          onInput={(e) => (reference.value = e.currentTarget.value)}
        />
        <p class="error" role="alert">
          {error.value}
        </p>
        <button type="submit" class="primary start" disabled={busy.value}>
          {busy.value ? c.starting : `${c.start}: ${c[`kind_${kind.value}`]}`} <kbd>Enter</kbd>
        </button>
        <p class="hint shortcuts">{c.shortcuts}</p>
      </div>
    </form>
  );
}
