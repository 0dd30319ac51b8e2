import { test } from 'node:test';
import assert from 'node:assert/strict';
import { effectiveHealthcheck, parseHealth } from '../../../../src/engine/spec/health.ts';
import { throwsCode } from './helpers.ts';

const image = { Test: ['CMD', '/bin/check'], Interval: 30e9, Timeout: 5e9, Retries: 3 };

test('no health flag: the image\'s HEALTHCHECK stands', () => {
  assert.equal(parseHealth({}), undefined);
  assert.deepEqual(effectiveHealthcheck(image, parseHealth({})), image);
  assert.equal(effectiveHealthcheck(undefined, undefined), undefined);
  assert.equal(effectiveHealthcheck({ Test: ['NONE'] }, undefined), undefined);
});

test('flags override the image field by field; --health-cmd is a shell command', () => {
  const asked = parseHealth({ healthCmd: 'wget -q localhost', healthInterval: '1m30s', healthStartPeriod: '500ms', healthRetries: '0' });
  assert.deepEqual(asked, { disabled: false, check: { Test: ['CMD-SHELL', 'wget -q localhost'], Interval: 90e9, StartPeriod: 500e6, Retries: 0 } });
  assert.deepEqual(effectiveHealthcheck(image, asked), { Test: ['CMD-SHELL', 'wget -q localhost'], Interval: 90e9, Timeout: 5e9, Retries: 3, StartPeriod: 500e6 });
  assert.deepEqual(effectiveHealthcheck(image, parseHealth({ healthTimeout: '2s' })), { ...image, Timeout: 2e9 });
  assert.equal(effectiveHealthcheck(undefined, parseHealth({ healthInterval: '2s' })), undefined, 'timing without a command checks nothing');
});

test('--no-healthcheck turns the image\'s off and conflicts with the other flags', () => {
  assert.equal(effectiveHealthcheck(image, parseHealth({ noHealthcheck: true })), undefined);
  throwsCode(() => parseHealth({ noHealthcheck: true, healthRetries: '2' }), 'run_flags_conflict', /--no-healthcheck and --health-retries/);
});

test('bad durations and retries name the flag', () => {
  throwsCode(() => parseHealth({ healthInterval: '10' }), 'run_flag_invalid', /--health-interval "10": not a duration/);
  throwsCode(() => parseHealth({ healthTimeout: '10us' }), 'run_flag_invalid', /--health-timeout "10us": must be at least 1ms/);
  throwsCode(() => parseHealth({ healthRetries: '-1' }), 'run_flag_invalid', /--health-retries "-1"/);
});
