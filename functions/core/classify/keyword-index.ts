/**
 * One pass over a reply finds which rule keywords it contains (an Aho-Corasick automaton over
 * lower-case ASCII), so only the rules whose words are present run their regular expression.
 * Linear in the reply length; no allocation per reply. The table stays small enough for the CPU
 * cache: characters are mapped to the few symbols the keywords use, and a keyword is indexed by
 * its first KEY_CHARS characters (a prefix of a required word is required too).
 */

const KEY_CHARS = 16;

class KeywordIndex {
  /** Character code (< 128) → symbol; 0 for characters no keyword uses. */
  private readonly symbols = new Uint8Array(128);
  private readonly width: number;
  /** state * width + symbol → next state. */
  private readonly next: Uint16Array;
  /** Keyword ids ending at each state (including those reached through failure links). */
  private readonly outputs: ReadonlyArray<readonly number[]>;
  private readonly hasOutput: Uint8Array;
  /** seen[k] === stamp when keyword k was found in the current reply. */
  private readonly seen: Uint32Array;
  private stamp = 0;

  constructor(keywords: readonly string[]) {
    const keys = keywords.map((k) => k.slice(0, KEY_CHARS));
    let width = 1;
    for (const k of keys) {
      for (let i = 0; i < k.length; i++) {
        const c = k.charCodeAt(i);
        if (c < 128 && this.symbols[c] === 0) this.symbols[c] = width++;
      }
    }
    this.width = width;
    const { goto, outputs } = this.trie(keys);
    if (goto.length > 0xffff) throw new Error('too many keyword states');
    this.next = new Uint16Array(goto.length * width);
    this.linkFailures(goto, outputs);
    this.outputs = outputs;
    this.hasOutput = Uint8Array.from(outputs, (o) => (o.length > 0 ? 1 : 0));
    this.seen = new Uint32Array(keywords.length);
  }

  private trie(keys: readonly string[]): { goto: Array<Map<number, number>>; outputs: number[][] } {
    const goto: Array<Map<number, number>> = [new Map()];
    const outputs: number[][] = [[]];
    keys.forEach((word, id) => {
      let state = 0;
      for (let i = 0; i < word.length; i++) {
        const symbol = this.symbols[word.charCodeAt(i)]!;
        let to = goto[state]!.get(symbol);
        if (to === undefined) {
          to = goto.length;
          goto.push(new Map());
          outputs.push([]);
          goto[state]!.set(symbol, to);
        }
        state = to;
      }
      outputs[state]!.push(id);
    });
    return { goto, outputs };
  }

  /** Breadth first: a state's failure target is complete before the state itself is filled in. */
  private linkFailures(goto: ReadonlyArray<Map<number, number>>, outputs: number[][]): void {
    const { next, width } = this;
    const fail = new Int32Array(goto.length);
    const queue: number[] = [];
    for (const [symbol, to] of goto[0]!) {
      next[symbol] = to;
      queue.push(to);
    }
    for (let head = 0; head < queue.length; head++) {
      const state = queue[head]!;
      outputs[state]!.push(...outputs[fail[state]!]!);
      for (let symbol = 1; symbol < width; symbol++) {
        const to = goto[state]!.get(symbol);
        if (to === undefined) next[state * width + symbol] = next[fail[state]! * width + symbol]!;
        else {
          fail[to] = next[fail[state]! * width + symbol]!;
          next[state * width + symbol] = to;
          queue.push(to);
        }
      }
    }
  }

  /** Scans `text[0, end)`; afterwards `has(id)` answers for this text until the next scan. */
  scan(text: string, end: number): void {
    this.stamp = (this.stamp + 1) >>> 0;
    if (this.stamp === 0) {
      this.seen.fill(0);
      this.stamp = 1;
    }
    const { next, width, symbols, hasOutput, seen, stamp } = this;
    let state = 0;
    for (let i = 0; i < end; i++) {
      let c = text.charCodeAt(i);
      if (c >= 65 && c <= 90) c += 32;
      // Keywords are ASCII, and no regex /i match folds a non-ASCII character into ASCII.
      state = c < 128 ? next[state * width + symbols[c]!]! : 0;
      if (hasOutput[state] === 1) {
        const found = this.outputs[state]!;
        for (let k = 0; k < found.length; k++) seen[found[k]!] = stamp;
      }
    }
  }

  has(id: number): boolean {
    return this.seen[id] === this.stamp;
  }
}

export { KeywordIndex };
