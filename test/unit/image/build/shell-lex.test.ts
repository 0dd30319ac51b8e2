import { test } from 'node:test';
import assert from 'node:assert/strict';
import { expandWord, expandWords } from '../../../../src/image/build/containerfile/shell-lex.ts';

const vars = new Map<string, string | undefined>([
  ['A', 'alpha'],
  ['EMPTY', ''],
  ['SP', 'x y'],
  ['DECLARED', undefined],
]);

test('variable forms: $X, ${X}, defaults and alternatives with and without ":"', () => {
  const cases: [string, string][] = [
    ['$A', 'alpha'],
    ['${A}', 'alpha'],
    ['pre-${A}-post', 'pre-alpha-post'],
    ['$A$A', 'alphaalpha'],
    ['$NOPE', ''],
    ['${NOPE:-dflt}', 'dflt'],
    ['${EMPTY:-dflt}', 'dflt'],
    ['${EMPTY-dflt}', ''],
    ['${DECLARED-dflt}', 'dflt'],
    ['${A:+alt}', 'alt'],
    ['${EMPTY:+alt}', ''],
    ['${EMPTY+alt}', 'alt'],
    ['${NOPE:-${A}}', 'alpha'],
    ['$', '$'],
    ['a$', 'a$'],
    ['$1x', 'x'],
  ];
  for (const [input, want] of cases) assert.equal(expandWord(input, vars), want, input);
});

test('quotes: single quotes literal, double quotes expand, escapes', () => {
  const cases: [string, string][] = [
    ["'$A'", '$A'],
    ['"$A"', 'alpha'],
    ['"a\\"b"', 'a"b'],
    ['"a\\$A"', 'a$A'],
    ['"a\\nb"', 'a\\nb'],
    ['\\$A', '$A'],
    ['a\\ b', 'a b'],
    ["it's'", 'its'],
  ];
  for (const [input, want] of cases) assert.equal(expandWord(input, vars), want, input);
  assert.equal(expandWord('`$A', vars, '`'), '$A', 'the backtick escape');
  assert.equal(expandWord('C:\\x', vars, '`'), 'C:\\x', 'backslash is literal with the backtick escape');
});

test('word splitting happens after expansion, not inside quotes', () => {
  assert.deepEqual(expandWords('$SP "$SP" z', vars), ['x', 'y', 'x y', 'z']);
  assert.deepEqual(expandWords('  a   b  ', vars), ['a', 'b']);
});

test('errors: unterminated quotes, bad substitutions, ${X?message}', () => {
  assert.throws(() => expandWord('"abc', vars), /matching double-quote/);
  assert.throws(() => expandWord("'abc", vars), /matching single-quote/);
  assert.throws(() => expandWord('${A', vars), /missing '}'/);
  assert.throws(() => expandWord('${}', vars), /bad substitution/);
  assert.throws(() => expandWord('${A%x}', vars), /unsupported modifier/);
  assert.throws(() => expandWord('${NOPE?must be set}', vars), /NOPE: must be set/);
  assert.equal(expandWord('${A:?x}', vars), 'alpha');
});
