/** `/system/logs`'s query and timestamps (src/faas/logs.ts): Go's RFC 3339 both ways, bad parameters refused naming them. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isBerthError } from '../../../src/errors.ts';
import { checkFunctionName, checkNamespace } from '../../../src/faas/deployment.ts';
import { parseLogQuery, parseRfc3339, rfc3339Nano } from '../../../src/faas/logs.ts';

const parse = (q: string): ReturnType<typeof parseLogQuery> => parseLogQuery(new URLSearchParams(q), (v) => checkFunctionName(v, 'name'), (v) => checkNamespace(v));

test('RFC 3339 as Go reads and writes it: fractions to the nanosecond, Z or an offset; no fraction when it is zero', () => {
  assert.equal(parseRfc3339('2024-05-06T07:08:09Z'), 1714979289000000000n);
  assert.equal(parseRfc3339('2024-05-06T09:08:09+02:00'), 1714979289000000000n);
  assert.equal(parseRfc3339('2024-05-06T07:08:09.123456789Z'), 1714979289123456789n);
  for (const bad of ['2024-05-06', 'yesterday', '2024-05-06 07:08:09Z', '2024-05-06T07:08:09', '2024-13-06T07:08:09Z']) assert.equal(parseRfc3339(bad), undefined, bad);
  assert.equal(rfc3339Nano(1714979289000000000n), '2024-05-06T07:08:09Z');
  assert.equal(rfc3339Nano(1714979289120000000n), '2024-05-06T07:08:09.12Z');
  assert.equal(rfc3339Nano(1714979289123456789n), '2024-05-06T07:08:09.123456789Z');
});

test('the query: defaults, follow as Go parses a bool, tail <= 0 is all', () => {
  assert.deepEqual(parse('name=fn'), { name: 'fn', namespace: 'openfaas-fn', follow: false });
  assert.deepEqual(parse('name=fn&follow=1&tail=5&instance=fn-abc&since=2024-05-06T07:08:09Z'), { name: 'fn', namespace: 'openfaas-fn', follow: true, tail: 5, instance: 'fn-abc', since: 1714979289000000000n });
  assert.equal(parse('name=fn&tail=-1').tail, undefined);
  assert.equal(parse('name=fn&follow=False').follow, false);
});

test('bad parameters are refused naming them', () => {
  const cases: [string, string][] = [['name=fn&since=soon', 'since'], ['name=fn&tail=x', 'tail'], ['name=fn&follow=yes', 'follow'], ['', 'name'], ['name=../x', 'name']];
  for (const [q, param] of cases) {
    assert.throws(() => parse(q), (err) => isBerthError(err) && err.message.includes(`${param}:`), q);
  }
});
