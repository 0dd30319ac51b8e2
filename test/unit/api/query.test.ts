/** Query parameters read as dockerd reads them; a bad value names its parameter. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseFilters, Query } from '../../../src/api/query.ts';
import { isBerthError } from '../../../src/errors.ts';

const q = (s: string): Query => new Query(new URLSearchParams(s));

test('booleans: 1/true/yes and 0/false/no/none/empty, any case; absent is the fallback', () => {
  for (const v of ['1', 'true', 'True', 'yes']) assert.equal(q(`all=${v}`).bool('all'), true, v);
  for (const v of ['0', 'false', 'FALSE', 'no', 'none', '']) assert.equal(q(`all=${v}`).bool('all', true), false, v);
  assert.equal(q('').bool('all'), false);
  assert.equal(q('').bool('all', true), true);
  assert.throws(() => q('all=maybe').bool('all'), (err) => isBerthError(err, 'api_query_invalid') && err.message.includes('"all"') && err.message.includes('maybe'));
});

test('integers: decimal only, absent or empty is the fallback', () => {
  assert.equal(q('t=10').int('t'), 10);
  assert.equal(q('t=-1').int('t'), -1);
  assert.equal(q('').int('t'), undefined);
  assert.equal(q('t=').int('t', 5), 5);
  for (const bad of ['1.5', 'ten', '0x10', '99999999999999999999']) {
    assert.throws(() => q(`t=${encodeURIComponent(bad)}`).int('t'), (err) => isBerthError(err, 'api_query_invalid') && err.message.includes('"t"'), bad);
  }
});

test('filters in both of Docker\'s encodings', () => {
  const modern = q(`filters=${encodeURIComponent('{"status":{"running":true,"paused":true},"label":{"a=b":true}}')}`).filters();
  assert.deepEqual([...modern], [['status', ['running', 'paused']], ['label', ['a=b']]]);
  const legacy = parseFilters('{"name":["web","db"]}');
  assert.deepEqual([...legacy], [['name', ['web', 'db']]]);
  assert.equal(q('').filters().size, 0);
});

test('filters that are not Docker\'s shape are refused, naming the parameter and the filter', () => {
  const refused = (text: string, what: RegExp): void =>
    assert.throws(() => parseFilters(text), (err) => isBerthError(err, 'api_filters_invalid') && err.message.includes('"filters"') && what.test(err.message), text);
  refused('{not json', /not JSON/);
  refused('["status"]', /JSON object/);
  refused('{"status":"running"}', /filter "status"/);
  refused('{"status":[1]}', /filter "status"/);
  refused('{"status":{"running":"yes"}}', /"running"/);
});
