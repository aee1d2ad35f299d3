// The big numeric keypad of the touch screens (the PIN at sign-in, the cashier's amounts): 1 to 9, then
// clear, 0 and delete. Its keys take no keyboard focus and do not move it (pointer down is not let
// through): a keyboard user types the digits, Backspace and Delete themselves, and the field being
// typed into keeps the focus while someone taps.
import type { Texts } from './i18n.ts';
import './keypad.css';

export type KeypadKey = '0' | '1' | '2' | '3' | '4' | '5' | '6' | '7' | '8' | '9' | 'back' | 'clear';

const DIGITS: KeypadKey[] = ['1', '2', '3', '4', '5', '6', '7', '8', '9'];

/** The keypad key a keyboard key stands for, if any: digits, Backspace, Delete. */
export function keypadKeyOf(key: string): KeypadKey | undefined {
  if (/^[0-9]$/.test(key)) return key as KeypadKey;
  if (key === 'Backspace') return 'back';
  if (key === 'Delete') return 'clear';
  return undefined;
}

export function Keypad({
  texts,
  label,
  onKey,
  disabled = false,
}: {
  texts: Texts;
  /** What the keypad is for, for screen readers ("PIN keypad"). */
  label: string;
  onKey(key: KeypadKey): void;
  disabled?: boolean;
}) {
  const k = texts.messages.keypad;
  const button = (key: KeypadKey, text: string, name?: string) => (
    <button
      type="button"
      class={`key key-${key}`}
      tabIndex={-1}
      disabled={disabled}
      aria-label={name}
      data-key={key}
      onPointerDown={(e) => e.preventDefault()}
      onClick={() => onKey(key)}
    >
      {text}
    </button>
  );
  return (
    <div class="keypad" role="group" aria-label={label} dir="ltr">
      {DIGITS.map((d) => button(d, d))}
      {button('clear', 'C', k.clear)}
      {button('0', '0')}
      {button('back', '⌫', k.back)}
    </div>
  );
}
