// Signing in by operator PIN, for the cashier and the manager screens: the operator's name (the last
// one used on this till is remembered) and the PIN, typed on the keyboard (digits, Backspace, Enter) or
// tapped on the big keypad. The till's refusals are said in words: a wrong name or PIN (one answer for
// both: the till does not tell who exists), a locked operator with the time the lock ends, a cashier
// on a screen that needs a manager (signed out again at once), a till that does not answer.
import { useLayoutEffect, useRef, useState } from 'preact/hooks';
import { ApiError, UNREACHABLE, signIn, signOut, type Session } from './api.ts';
import type { Texts } from './i18n.ts';
import { Keypad, type KeypadKey } from './keypad.tsx';
import './sign-in.css';

const LAST_NAME_KEY = 'tillback.operator.lastName';
/** The till's rule for a PIN (till/api/config.ts PinSchema). */
const PIN = /^\d{4,12}$/;
const PIN_MAX = 12;

/** The lock's end in the till's `pin_locked` message ("... locked until <ISO time>"), if it says one. */
export function lockedUntil(message: string): string | undefined {
  const iso = /until (\d{4}-\d{2}-\d{2}T[\d:.]+Z)/.exec(message)?.[1];
  return iso && !Number.isNaN(Date.parse(iso)) ? iso : undefined;
}

/** The words for a failed sign-in. */
export function signInError(texts: Texts, error: unknown): string {
  const s = texts.messages.signIn;
  if (!(error instanceof ApiError)) return texts.fill(s.other, { message: String(error) });
  if (error.code === 'pin_invalid') return s.wrongPin;
  if (error.code === 'pin_locked') {
    const until = lockedUntil(error.message);
    return until ? texts.fill(s.locked, { time: texts.time(until) }) : s.lockedNoTime;
  }
  if (error.code === 'validation_error') return s.missing;
  if (error.code === UNREACHABLE) return s.unreachable;
  return texts.fill(s.other, { message: error.message });
}

function rememberedName(): string {
  try {
    return localStorage.getItem(LAST_NAME_KEY) ?? '';
  } catch {
    return '';
  }
}

export function SignIn({
  texts,
  token,
  title,
  role = 'cashier',
  notice = null,
  onSignedIn,
}: {
  texts: Texts;
  token: string;
  /** The screen's name, above the form. */
  title: string;
  /** `manager`: a cashier's sign-in is refused (and their new session ended). */
  role?: 'cashier' | 'manager';
  /** Why the operator is asked to sign in again, if they were signed in (their session ended). */
  notice?: string | null;
  onSignedIn(session: Session): void;
}) {
  const s = texts.messages.signIn;
  const [name, setName] = useState(rememberedName);
  const [pin, setPin] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const nameRef = useRef<HTMLInputElement>(null);
  const pinRef = useRef<HTMLInputElement>(null);

  useLayoutEffect(() => {
    (name ? pinRef : nameRef).current?.focus();
  }, []); // the first render only: the field to type into first

  const onKey = (key: KeypadKey) => {
    setError(null);
    if (key === 'clear') setPin('');
    else if (key === 'back') setPin((p) => p.slice(0, -1));
    else setPin((p) => (p.length < PIN_MAX ? p + key : p));
    pinRef.current?.focus();
  };

  const submit = async (event: Event) => {
    event.preventDefault();
    if (busy) return;
    const operator = name.trim();
    if (!operator || !PIN.test(pin)) {
      setError(s.missing);
      (operator ? pinRef : nameRef).current?.focus();
      return;
    }
    setBusy(true);
    setError(null);
    try {
      const session = await signIn(token, operator, pin);
      localStorage.setItem(LAST_NAME_KEY, operator);
      if (role === 'manager' && session.operator.role !== 'manager') {
        await signOut(token, session);
        throw new Error(texts.fill(s.needsManager, { name: session.operator.name }));
      }
      onSignedIn(session);
    } catch (e) {
      setError(e instanceof ApiError ? signInError(texts, e) : (e as Error).message);
      setPin('');
      pinRef.current?.focus();
    } finally {
      setBusy(false);
    }
  };

  return (
    <main class="sign-in">
      <h1>{title}</h1>
      {notice && (
        <p class="notice" role="status">
          {notice}
        </p>
      )}
      <form class="sign-in-form" onSubmit={submit} noValidate aria-describedby="sign-in-hint">
        <h2>{s.title}</h2>
        <label for="operator-name">{s.name}</label>
        <input
          id="operator-name"
          ref={nameRef}
          name="operator"
          autocomplete="off"
          autocapitalize="none"
          spellcheck={false}
          maxLength={64}
          value={name}
          onInput={(e) => setName(e.currentTarget.value)}
        />
        <label for="operator-pin">{s.pin}</label>
        <input
          id="operator-pin"
          ref={pinRef}
          type="password"
          name="pin"
          inputMode="numeric"
          // A till is shared: no browser should offer to keep an operator's PIN.
          autocomplete="off"
          maxLength={PIN_MAX}
          value={pin}
          aria-invalid={error ? 'true' : undefined}
          aria-errormessage={error ? 'sign-in-error' : undefined}
          onInput={(e) => {
            setError(null);
            setPin(e.currentTarget.value.replace(/\D/g, '').slice(0, PIN_MAX));
          }}
        />
        <p id="sign-in-hint" class="hint">
          {s.pinHint}
        </p>
        <Keypad texts={texts} label={s.keypad} onKey={onKey} disabled={busy} />
        <p id="sign-in-error" class="error" role="alert">
          {error}
        </p>
        <button type="submit" class="primary" disabled={busy}>
          {busy ? s.busy : s.submit} <kbd>Enter</kbd>
        </button>
      </form>
    </main>
  );
}
