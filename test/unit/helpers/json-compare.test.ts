/** The field-by-field comparison the podman comparison test relies on: each kind of difference is found, shapes and Go's nil hide only what they should. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { compareJson, explain, pathPattern } from '../../helpers/json-compare.ts';

test('compareJson names missing, extra, type and value differences by path', () => {
  const reference = { A: 1, B: { C: 'x', D: [1, 2] }, E: true, F: 0 };
  const berth = { A: 1, B: { C: 'y', D: [1, 3] }, G: 'new', F: null };
  assert.deepEqual(
    compareJson(reference, berth).map((d) => `${d.kind} ${d.path}`),
    ['value B.C', 'value B.D[1]', 'missing E', 'type F', 'extra G'],
  );
});

test('null, [] and {} are alike; null against a filled list is a value difference; lists of other lengths differ whole', () => {
  assert.deepEqual(compareJson({ A: null, B: [], C: {} }, { A: [], B: null, C: null }), []);
  assert.deepEqual(compareJson({ A: null, B: [1] }, { A: ['x'], B: [1, 2] }).map((d) => `${d.kind} ${d.path}`), ['value A', 'value B']);
});

test('a shape hides values that match it on both sides, and only at its path', () => {
  const shapes = [{ path: 'Ports.*[*].HostPort', pattern: /^\d+$/, token: '<port>' }];
  assert.deepEqual(compareJson({ Ports: { '80/tcp': [{ HostPort: '1234' }] } }, { Ports: { '80/tcp': [{ HostPort: '5678' }] } }, shapes), []);
  // A value not of the shape stays itself: "" against a port is still a difference.
  assert.equal(compareJson({ Ports: { '80/tcp': [{ HostPort: '1234' }] } }, { Ports: { '80/tcp': [{ HostPort: '' }] } }, shapes).length, 1);
  assert.equal(compareJson({ Other: '1' }, { Other: '2' }, shapes).length, 1);
});

test('explain: each difference needs an allowance of its path and kind; an allowance nothing needed is reported', () => {
  const found = compareJson({ A: 1, B: 2 }, { A: 2 });
  const { unexplained, unused } = explain(found, [
    { path: 'A', kind: 'missing', reason: 'wrong kind' },
    { path: 'B', kind: 'missing', reason: 'right' },
  ]);
  assert.deepEqual(unexplained.map((d) => d.path), ['A']);
  assert.deepEqual(unused.map((a) => a.reason), ['wrong kind']);
  assert.ok(pathPattern('*.Actor.ID').test('container:start.Actor.ID'));
  assert.ok(!pathPattern('*.ID').test('a.b.ID'));
});
