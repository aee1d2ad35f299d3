// The script's texts: the `script` part of a catalogue (messages/<lang>.json), which the server puts in
// the page as a JSON data block. English is the reference: every catalogue has exactly its keys.
import { interpolate } from '../../../contract/intl-format.ts';
import type en from '../messages/en.json';

export type Messages = (typeof en)['script'];
export type MessageKey = keyof Messages;

/** The text for `key` with each `{name}` replaced by `vars[name]`, direction-isolated. */
export function translate(messages: Messages, key: MessageKey, vars: Record<string, string> = {}): string {
  return interpolate(messages[key], vars);
}
