/**
 * Rule patterns run on untrusted reply text, so each one is checked before it is compiled: no
 * backreferences, no lookaround, no quantified group that itself repeats or alternates (the
 * shapes that backtrack exponentially) and at most one unbounded quantifier (docs/classification.md
 * "Linear time"). The same scan yields the literal words a match cannot do without, which the
 * keyword index uses to skip rules whose words are absent.
 */

const MAX_PATTERN_LENGTH = 800;
/** Keywords shorter than this gate too little to be worth indexing. */
const MIN_KEYWORD_LENGTH = 3;
const META = new Set(['\\', '^', '$', '.', '|', '?', '*', '+', '(', ')', '[', ']', '{', '}']);

interface Token {
  /** One literal character (lower-cased), or undefined for anything else. */
  literal: string | undefined;
  /** Position just after the token. */
  end: number;
  /** A group: whether its body repeats or alternates. */
  groupRisk?: boolean;
}

/** Reads one atom at `i` (escape, class, group, dot or literal). */
function readAtom(source: string, i: number): Token | string {
  const c = source[i]!;
  if (c === '\\') {
    const next = source[i + 1];
    if (next === undefined) return 'ends with a backslash';
    if (/[1-9]/.test(next) || next === 'k') return 'backreferences are not allowed';
    if (META.has(next) || next === '/' || next === '-' || next === ' ' || next === '@' || next === '#')
      return { literal: next.toLowerCase(), end: i + 2 };
    return { literal: undefined, end: i + 2 };
  }
  if (c === '[') {
    let j = i + 1;
    if (source[j] === '^') j++;
    if (source[j] === ']') j++;
    while (j < source.length && source[j] !== ']') j += source[j] === '\\' ? 2 : 1;
    if (j >= source.length) return 'unterminated character class';
    return { literal: undefined, end: j + 1 };
  }
  if (c === '(') {
    if (source.startsWith('(?=', i) || source.startsWith('(?!', i) || source.startsWith('(?<', i)) {
      if (!source.startsWith('(?<', i) || source[i + 3] === '=' || source[i + 3] === '!')
        return 'lookahead and lookbehind are not allowed';
    }
    let depth = 0;
    let risk = false;
    let j = i;
    for (; j < source.length; j++) {
      const d = source[j]!;
      if (d === '\\') {
        j++;
        continue;
      }
      if (d === '[') {
        const cls = readAtom(source, j);
        if (typeof cls === 'string') return cls;
        j = cls.end - 1;
        continue;
      }
      if (d === '(') depth++;
      else if (d === ')' && --depth === 0) break;
      else if (d === '|' || d === '*' || d === '+' || d === '{') risk = true;
      else if (d === '?' && source[j - 1] !== '(') risk = true;
    }
    if (j >= source.length) return 'unterminated group';
    return { literal: undefined, end: j + 1, groupRisk: risk };
  }
  if (c === ')') return 'unbalanced )';
  if (c === '.' || c === '^' || c === '$') return { literal: undefined, end: i + 1 };
  return { literal: c.toLowerCase(), end: i + 1 };
}

/** Quantifier at `i`: how it bounds repetition, and where it ends. */
function readQuantifier(source: string, i: number): { min: number; max: number; end: number } | undefined {
  const c = source[i];
  let q: { min: number; max: number; end: number } | undefined;
  if (c === '?') q = { min: 0, max: 1, end: i + 1 };
  else if (c === '*') q = { min: 0, max: Number.POSITIVE_INFINITY, end: i + 1 };
  else if (c === '+') q = { min: 1, max: Number.POSITIVE_INFINITY, end: i + 1 };
  else if (c === '{') {
    const m = /^\{(\d+)(,(\d*))?\}/.exec(source.slice(i, i + 12));
    if (m) {
      const min = Number(m[1]);
      const max = m[2] === undefined ? min : m[3] === '' ? Number.POSITIVE_INFINITY : Number(m[3]);
      q = { min, max, end: i + m[0].length };
    }
  }
  if (q && source[q.end] === '?') q.end++; // lazy: same bounds
  return q;
}

interface PatternAnalysis {
  /** Words (lower case) of which a match contains at least one; undefined: cannot tell. */
  keywords: string[] | undefined;
}

/** Checks one top-level branch; returns its longest mandatory literal run. */
function scanBranch(source: string, from: number, to: number, counter: { unbounded: number }): string {
  let best = '';
  let run = '';
  const close = () => {
    if (run.length > best.length) best = run;
    run = '';
  };
  let i = from;
  while (i < to) {
    const atom = readAtom(source, i);
    if (typeof atom === 'string') throw new Error(atom);
    const q = readQuantifier(source, atom.end);
    if (q) {
      if (q.max === Number.POSITIVE_INFINITY) counter.unbounded++;
      if (atom.groupRisk && q.max > 1) throw new Error('a repeated group may not itself repeat or alternate');
    }
    if (atom.literal !== undefined && atom.literal.charCodeAt(0) < 128 && (!q || q.min >= 1)) {
      run += atom.literal;
      if (q && q.max !== 1) close();
    } else close();
    i = q ? q.end : atom.end;
  }
  close();
  return best;
}

/** Top-level `|` positions of a pattern (outside groups and classes). */
function topLevelBranches(source: string): Array<[number, number]> {
  const out: Array<[number, number]> = [];
  let start = 0;
  let depth = 0;
  for (let i = 0; i < source.length; i++) {
    const c = source[i];
    if (c === '\\') i++;
    else if (c === '[') {
      const cls = readAtom(source, i);
      if (typeof cls === 'string') throw new Error(cls);
      i = cls.end - 1;
    } else if (c === '(') depth++;
    else if (c === ')') depth--;
    else if (c === '|' && depth === 0) {
      out.push([start, i]);
      start = i + 1;
    }
  }
  out.push([start, source.length]);
  return out;
}

/**
 * Checks a rule pattern; throws an Error whose message says what is wrong. Returns the keywords
 * that gate it (one per top-level alternative), when every alternative has one.
 */
function analysePattern(source: string): PatternAnalysis {
  if (source.length > MAX_PATTERN_LENGTH) throw new Error(`longer than ${MAX_PATTERN_LENGTH} characters`);
  try {
    new RegExp(source, 'i');
  } catch (error) {
    throw new Error(`not a regular expression: ${(error as Error).message}`);
  }
  const counter = { unbounded: 0 };
  const words = topLevelBranches(source).map(([from, to]) => scanBranch(source, from, to, counter));
  if (counter.unbounded > 1) {
    throw new Error('at most one unbounded quantifier (*, +, {n,}); use a bound such as .{0,80}');
  }
  const usable = words.every((w) => w.trim().length >= MIN_KEYWORD_LENGTH);
  return { keywords: usable ? [...new Set(words)] : undefined };
}

export type { PatternAnalysis };
export { analysePattern, MAX_PATTERN_LENGTH };
