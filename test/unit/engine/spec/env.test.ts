import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mergeEnv, parseEnv, parseEnvFile } from '../../../../src/engine/spec/env.ts';
import { throwsCode } from './helpers.ts';

const caller = { FROM_CALLER: 'c', EMPTY: '' };

test('-e KEY=value sets, -e KEY takes the caller\'s value, and is dropped when the caller has none', () => {
  assert.deepEqual(parseEnv(['A=1', 'FROM_CALLER', 'MISSING', 'EMPTY', 'B=x=y', 'C='], [], caller), ['A=1', 'FROM_CALLER=c', 'EMPTY=', 'B=x=y', 'C=']);
});

test('a later -e replaces an earlier one with the same key, in its place', () => {
  assert.deepEqual(parseEnv(['A=1', 'B=2', 'A=3'], [], {}), ['A=3', 'B=2']);
});

test('--env-file: comments, blank lines and leading spaces skipped, CRLF tolerated, -e wins over the file', () => {
  const file = { path: '/tmp/app.env', text: '# comment\n\n  A=from-file\r\nB=b\nFROM_CALLER\nMISSING\n' };
  assert.deepEqual(parseEnvFile(file, caller), ['A=from-file', 'B=b', 'FROM_CALLER=c']);
  assert.deepEqual(parseEnv(['A=flag'], [file], caller), ['A=flag', 'B=b', 'FROM_CALLER=c']);
});

test('bad entries name the flag and the value', () => {
  throwsCode(() => parseEnv(['=x'], [], {}), 'run_flag_invalid', /--env "=x": .*name is empty/);
  throwsCode(() => parseEnv(['MY VAR=1'], [], {}), 'run_flag_invalid', /--env "MY VAR=1": .*white space/);
  throwsCode(() => parseEnv([], [{ path: '/e', text: 'OK=1\n=bad\n' }], {}), 'run_flag_invalid', /--env-file \/e:2 "=bad"/);
});

test('mergeEnv overrides by key, not by prefix', () => {
  assert.deepEqual(mergeEnv(['PATH=/bin', 'PATHX=1'], ['PATH=/usr/bin']), ['PATH=/usr/bin', 'PATHX=1']);
});
