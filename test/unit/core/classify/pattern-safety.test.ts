import { describe, expect, it } from 'vitest';
import { BUILTIN_RULES } from '#core/classify/builtin-rules.ts';
import { createClassifier, MAX_REPLY_CHARS } from '#core/classify/classify.ts';
import { analysePattern } from '#core/classify/pattern-safety.ts';
import { parseConfig } from '#core/config-schema.ts';
import { ConfigError } from '#core/errors.ts';
import { readCorpus } from './bounce-corpus.ts';

describe('rule patterns are checked before they are compiled', () => {
  it.each([
    { pattern: '(a+)+b', why: /repeated group/ },
    { pattern: '(a|aa)*b', why: /repeated group/ },
    { pattern: '(?:x\\d{1,3})+y', why: /repeated group/ },
    { pattern: '(\\w+)\\s\\1', why: /backreferences/ },
    { pattern: 'user(?=unknown)', why: /lookahead/ },
    { pattern: '(?<!no )such user', why: /lookahead/ },
    { pattern: 'a.*b.*c', why: /at most one unbounded/ },
    { pattern: 'x'.repeat(801), why: /longer than/ },
    { pattern: 'user (unknown', why: /not a regular expression/ },
  ])('refuses $pattern', ({ pattern, why }) => {
    expect(() => analysePattern(pattern)).toThrow(why);
  });

  it.each([
    { pattern: 'user ?unknown', keywords: ['unknown'] },
    { pattern: 'overquotaperm|out of storage', keywords: ['overquotaperm', 'out of storage'] },
    { pattern: 'access denied\\. ?as\\(\\d+\\)', keywords: ['access denied.'] },
    { pattern: '(?:^|[^.\\w-])spam(?:[^.\\w-]|$)', keywords: ['spam'] },
    { pattern: 'a.{0,80}b', keywords: undefined },
    { pattern: 'x?abc|de', keywords: undefined },
  ])('keywords of $pattern', ({ pattern, keywords }) => {
    expect(analysePattern(pattern).keywords).toEqual(keywords);
  });

  it('an unsafe operator rule is a configuration error naming its key path', () => {
    const doc = {
      classification: { rules: [{ id: 'mine', reply: '(a+)+$', category: 'other', fault: 'ignore' }] },
    };
    expect(() => parseConfig(doc, {}, {})).toThrow(ConfigError);
    expect(() => parseConfig(doc, {}, {})).toThrow(
      /classification\.rules\[0\]\.reply: unsafe or invalid pattern/,
    );
  });

  it.each([
    { rule: { id: 'Bad Id', reply: 'x', category: 'other', fault: 'ignore' }, path: /rules\[0\]\.id/ },
    { rule: { id: 'x', category: 'other', fault: 'ignore' }, path: /rules\[0\]: a rule needs a status/ },
    { rule: { id: 'x', reply: 'abc', category: 'nope', fault: 'ignore' }, path: /rules\[0\]\.category/ },
    {
      rule: { id: 'x', reply: 'abc', category: 'spam-related', fault: 'recipient-permanent' },
      path: /rules\[0\]\.fault/,
    },
    { rule: { id: 'x', status: '5.1', category: 'other', fault: 'ignore' }, path: /rules\[0\]\.status/ },
    {
      rule: { id: 'x', reply: 'abc', provider: 'nope', category: 'other', fault: 'ignore' },
      path: /rules\[0\]\.provider/,
    },
    {
      rule: { id: 'unknown-user', reply: 'abc', category: 'other', fault: 'ignore' },
      path: /built-in rule id/,
    },
    { rule: { id: 'x', reply: 'abc', category: 'other', fault: 'ignore', extra: 1 }, path: /unknown key/ },
  ])('operator rule errors name the key: $path', ({ rule, path }) => {
    expect(() => parseConfig({ classification: { rules: [rule] } }, {}, {})).toThrow(path);
  });
});

describe('linear time on untrusted replies', () => {
  const classify = createClassifier({ builtin: BUILTIN_RULES });

  it('reads only the first MAX_REPLY_CHARS of a reply, however long', () => {
    const filler = 'x '.repeat(512 * 1024); // 1 MiB
    expect(classify({ dsnDiag: `${filler}550 5.1.1 user unknown` }).ruleId).toBe('default');
    expect(classify({ dsnDiag: `550 5.1.1 user unknown ${filler}` }).ruleId).toBe('unknown-user');
    expect(MAX_REPLY_CHARS).toBeLessThanOrEqual(4096);
  });

  it('classifies 1 MiB pathological replies (every keyword, repeated digits and dots)', () => {
    const keywords = 'user unknown blocked spam quota temporar 5.1.1 ';
    for (const reply of [
      '5.'.repeat(524_288),
      '.1'.repeat(524_288),
      keywords.repeat(22_000),
      'a'.repeat(1 << 20),
    ]) {
      expect(classify({ dsnDiag: reply, dsnStatus: '' }).ruleId).toEqual(expect.any(String));
    }
  });

  it('keyword gating never hides a rule whose pattern matches (every corpus reply, every rule)', () => {
    const rules = [...BUILTIN_RULES.overrides, ...BUILTIN_RULES.general].filter((r) => r.reply);
    const missed: string[] = [];
    for (const entry of readCorpus()) {
      const text = entry.reply.slice(0, MAX_REPLY_CHARS);
      const lower = text.toLowerCase();
      for (const rule of rules) {
        const words = analysePattern(rule.reply!).keywords;
        if (!words || !new RegExp(rule.reply!, 'i').test(text)) continue;
        if (!words.some((w) => lower.includes(w))) missed.push(`${entry.id} ${rule.id}`);
      }
    }
    expect(missed).toEqual([]);
  });
});
