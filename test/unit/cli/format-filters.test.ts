/**
 * `--filter` (src/cli/berth/format/filters.ts): docker's parsing into the
 * API's filters JSON, and the keys and values each command takes.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { filtersParam, parseFilters } from '../../../src/cli/berth/format/filters.ts';
import { isBerthError } from '../../../src/errors.ts';

test('key=value into docker\'s filters JSON; keys lower-cased, both sides trimmed, repeats kept', () => {
  const f = parseFilters(['status=running', ' Status = exited ', 'label=a=b', 'name=web'], 'ps');
  assert.deepEqual(f, { status: { running: true, exited: true }, label: { 'a=b': true }, name: { web: true } });
  assert.equal(filtersParam(f), '{"status":{"running":true,"exited":true},"label":{"a=b":true},"name":{"web":true}}');
  assert.equal(filtersParam(parseFilters([], 'ps')), undefined);
  assert.deepEqual(parseFilters(['dangling=true', 'driver=local'], 'volume ls'), { dangling: { true: true }, driver: { local: true } });
  assert.deepEqual(parseFilters(['until=10m', 'label!=keep'], 'container prune'), { until: { '10m': true }, 'label!': { keep: true } });
});

test('unknown keys and bad values are named with the filter and what the command takes', () => {
  const cases: [string, Parameters<typeof parseFilters>[1], RegExp][] = [
    ['stauts=exited', 'ps', /^--filter "stauts=exited": invalid filter 'stauts' \(ps takes: ancestor, before, exited, health, id, label, name, network, since, status, volume\)$/],
    ['status=sleeping', 'ps', /invalid value for 'status': "sleeping" \(one of created, restarting, running, removing, paused, exited, dead\)/],
    ['health=ok', 'ps', /invalid value for 'health'/],
    ['exited=x', 'ps', /invalid value for 'exited': "x" is not an exit code/],
    ['dangling=maybe', 'volume ls', /invalid value for 'dangling'/],
    ['status=running', 'volume ls', /invalid filter 'status' \(volume ls takes: dangling, driver, label, name\)/],
    ['running', 'ps', /bad format of filter \(expected name=value\)/],
  ];
  for (const [raw, command, message] of cases) {
    assert.throws(() => parseFilters([raw], command), (err) => isBerthError(err, 'filter_invalid') && message.test(err.message), raw);
  }
});
