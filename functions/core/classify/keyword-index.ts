/**
 * One pass over a reply finds which rule keywords it contains (an Aho-Corasick automaton over
 * lower-case ASCII), so only the rules whose words are present run their regular expression.
 * Linear in the reply length; no allocation per reply.
 */

const ALPHABET = 128;

class KeywordIndex {
  /** state * ALPHABET + char → next state. */
  readonly #next: Int32Array;
  /** Keyword ids ending at each state (including those reached through failure links). */
  readonly #outputs: ReadonlyArray<readonly number[]>;
  /** seen[k] === stamp when keyword k was found in the current reply. */
  readonly #seen: Uint32Array;
  #stamp = 0;

  constructor(keywords: readonly string[]) {
    const goto: Array<Map<number, number>> = [new Map()];
    const outputs: number[][] = [[]];
    keywords.forEach((word, id) => {
      let state = 0;
      for (let i = 0; i < word.length; i++) {
        const c = word.charCodeAt(i);
        let to = goto[state]!.get(c);
        if (to === undefined) {
          to = goto.length;
          goto.push(new Map());
          outputs.push([]);
          goto[state]!.set(c, to);
        }
        state = to;
      }
      outputs[state]!.push(id);
    });
    const next = new Int32Array(goto.length * ALPHABET);
    const fail = new Int32Array(goto.length);
    const queue: number[] = [];
    for (let c = 0; c < ALPHABET; c++) {
      const to = goto[0]!.get(c);
      if (to !== undefined) {
        next[c] = to;
        queue.push(to);
      }
    }
    // Breadth first: a state's failure target is complete before the state itself is filled in.
    for (let head = 0; head < queue.length; head++) {
      const state = queue[head]!;
      outputs[state]!.push(...outputs[fail[state]!]!);
      for (let c = 0; c < ALPHABET; c++) {
        const to = goto[state]!.get(c);
        if (to === undefined) next[state * ALPHABET + c] = next[fail[state]! * ALPHABET + c]!;
        else {
          fail[to] = next[fail[state]! * ALPHABET + c]!;
          next[state * ALPHABET + c] = to;
          queue.push(to);
        }
      }
    }
    this.#next = next;
    this.#outputs = outputs;
    this.#seen = new Uint32Array(keywords.length);
  }

  /** Scans `text[0, end)`; afterwards `has(id)` answers for this text until the next scan. */
  scan(text: string, end: number): void {
    this.#stamp = (this.#stamp + 1) >>> 0 || 1;
    const stamp = this.#stamp;
    const next = this.#next;
    let state = 0;
    for (let i = 0; i < end; i++) {
      let c = text.charCodeAt(i);
      if (c >= 65 && c <= 90) c += 32;
      // Keywords are ASCII, and no regex /i match folds a non-ASCII character into ASCII.
      state = c < ALPHABET ? next[state * ALPHABET + c]! : 0;
      const found = this.#outputs[state]!;
      for (let k = 0; k < found.length; k++) this.#seen[found[k]!] = stamp;
    }
  }

  has(id: number): boolean {
    return this.#seen[id] === this.#stamp;
  }
}

export { KeywordIndex };
