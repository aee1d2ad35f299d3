// Raw reader text (a whole swipe, a track as a reader delivered it) may hold a PAN. It travels in a
// SecretText: JSON.stringify, String(), util.inspect and console.log show only its length.

export class SecretText {
  readonly #text: string;
  readonly length: number;

  constructor(text: string) {
    this.#text = text;
    this.length = text.length;
  }

  /** The only way to the text: pass it to a decoder. */
  reveal<T>(fn: (text: string) => T): T {
    return fn(this.#text);
  }

  toString(): string {
    return `SecretText(${this.length} chars)`;
  }

  toJSON(): { length: number } {
    return { length: this.length };
  }
}
