import { test } from 'node:test';
import assert from 'node:assert/strict';
import { IgnoreMatcher, readIgnoreLines } from '../../../../src/image/build/ignore.ts';

const excludes = (patterns: string[], path: string): boolean => new IgnoreMatcher(patterns).excludes(path);

test('single patterns, as Docker matches them (a pattern that matches a parent directory excludes what is below it)', () => {
  // [pattern, path, excluded] — the table of moby/patternmatcher's tests, with parent matching.
  const cases: [string, string, boolean][] = [
    ['**', 'file', true],
    ['**', 'dir/file', true],
    ['**/', 'file', true],
    ['**/**', 'dir/file', true],
    ['dir/**', 'dir/file', true],
    ['dir/**', 'dir/dir2/file', true],
    ['**/dir', 'dir', true],
    ['**/dir', 'dir/file', true],
    ['**/dir2/*', 'dir/dir2/file', true],
    ['**/dir2/**', 'dir/dir2/dir3/file', true],
    ['**file', 'file', true],
    ['**file', 'dir/file', true],
    ['**/file', 'dir/dir/file', true],
    ['**/file*', 'dir/dir/file.txt', true],
    ['**/file*txt', 'dir/dir/file.txt', true],
    ['**/**/*.txt', 'dir/dir/file.txt', true],
    ['**/**/*.txt2', 'dir/dir/file.txt', false],
    ['**/*.txt', 'file.txt', true],
    ['a**/*.txt', 'a/dir/dir/file.txt', true],
    ['a/*.txt', 'a/dir/file.txt', false],
    ['a/*.txt', 'a/file.txt', true],
    ['a[b-d]e', 'ae', false],
    ['a[b-d]e', 'ace', true],
    ['a[^b-d]e', 'aze', true],
    ['.*', '.foo', true],
    ['.*', 'foo', false],
    ['abc.def', 'abcdef', false],
    ['abc.def', 'abc.def', true],
    ['abc?def', 'abcZdef', true],
    ['abc?def', 'abcdef', false],
    ['**/foo/bar', 'dir/dir2/foo/bar', true],
    ['abc/**', 'abc', false],
    ['abc/**', 'abc/def/ghi', true],
    ['**/.foo', '.foo', true],
    ['**/.foo', 'bar.foo', false],
    ['a(b)c/def', 'a(b)c/def', true],
    ['a.|)$(}+{bc', 'a.|)$(}+{bc', true],
    ['dist/*.whl', 'dist/proxy.py-2.4.0rc3.dev36+g08acad9-py3-none-any.whl', true],
    ['a\\*b', 'a*b', true],
    ['a\\*b', 'axb', false],
    ['*', 'fileutils.go', true],
    ['*.go', 'fileutils.go', true],
    ['*', 'dir/deep/file', true],
    ['docs', 'docs/README.md', true],
    ['docs/', 'docs/README.md', true],
    ['foo', 'sub/foo', false],
    ['/abs/x', 'abs/x', true],
    ['./sub/../foo', 'foo', true],
  ];
  for (const [pattern, path, want] of cases) assert.equal(excludes(readIgnoreLines(pattern), path), want, `${pattern} ~ ${path}`);
});

test('exceptions with "!": the last matching line wins; excluded directories can have files re-included', () => {
  assert.equal(excludes(['!fileutils.go', '*.go'], 'fileutils.go'), true);
  assert.equal(excludes(['*.go', '!fileutils.go'], 'fileutils.go'), false);
  assert.equal(excludes(['docs', '!docs/README.md'], 'docs/README.md'), false);
  assert.equal(excludes(['docs', '!docs/README.md'], 'docs/other.md'), true);
  assert.equal(excludes(['docs/*', '!docs/README.md'], 'docs/README.md'), false);
  assert.equal(excludes(['**', '!util/docker/web'], 'util/docker/web/foo'), false);
  assert.equal(excludes(['**', '!util/docker/web', 'util/docker/web/foo'], 'util/docker/web/foo'), true);
  assert.equal(excludes(['**', '!dist/*.whl'], 'dist/a-1.0-py3-none-any.whl'), false);
  assert.equal(excludes(['*.md', '!README*.md', 'README-secret.md'], 'README-secret.md'), true, "Docker's documented example");
  assert.equal(excludes(['*.md', '!README*.md', 'README-secret.md'], 'README.md'), false);
  assert.equal(excludes(['*.md', 'README-secret.md', '!README*.md'], 'README-secret.md'), false);
  const m = new IgnoreMatcher(['x', '!x/keep']);
  assert.equal(m.hasExclusions, true);
  assert.equal(new IgnoreMatcher(['x']).hasExclusions, false);
});

test('the root is never excluded; malformed patterns and a lone "!" are errors naming the file', () => {
  assert.equal(excludes(['*'], '.'), false);
  assert.throws(() => new IgnoreMatcher(['['], '.dockerignore'), /\.dockerignore: pattern "\[": a malformed/);
  assert.throws(() => new IgnoreMatcher(['a\\'], '.dockerignore'), /pattern "a\\": a "\\" at the end/);
  assert.throws(() => new IgnoreMatcher(['!'], '.containerignore'), /\.containerignore: illegal exclusion pattern "!"/);
});

test('reading the file: comments, blanks, surrounding space, leading "/" and "!" spacing, BOM', () => {
  const text = '\uFEFFtest1\n/test2\n/a/file/here\n\nlastfile\n# this is a comment\n! /inverted/abs/path\n  spaced  \n';
  assert.deepEqual(readIgnoreLines(text), ['test1', 'test2', 'a/file/here', 'lastfile', '!inverted/abs/path', 'spaced']);
});
