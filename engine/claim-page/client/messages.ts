// The script's texts: the `script` part of a catalogue (messages/<lang>.json), which the server puts in
// the page as a JSON data block. English is the reference: every catalogue has exactly its keys.
import type en from '../messages/en.json';

export type Messages = (typeof en)['script'];
export type MessageKey = keyof Messages;

// U+2068 FIRST STRONG ISOLATE ... U+2069 POP DIRECTIONAL ISOLATE: a value keeps its own direction
// inside the sentence, so "PayPal amna@example.com" or an Arabic store name cannot reorder an
// Arabic or English sentence around it.
const isolate = (value: string) => `\u2068${value}\u2069`;

/** The text for `key` with each `{name}` replaced by `vars[name]`, direction-isolated. */
export function translate(messages: Messages, key: MessageKey, vars: Record<string, string> = {}): string {
  return messages[key].replace(/\{(\w+)\}/g, (whole, name: string) => {
    const value = vars[name];
    return value === undefined ? whole : isolate(value);
  });
}
