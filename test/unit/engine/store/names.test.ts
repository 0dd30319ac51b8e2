import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isBerthError } from '../../../../src/errors.ts';
import { checkContainerName, isContainerId, isValidName, newContainerId } from '../../../../src/engine/store/names.ts';

test('container IDs are 64 lowercase hex digits, fresh each time', () => {
  const a = newContainerId();
  assert.match(a, /^[0-9a-f]{64}$/);
  assert.notEqual(a, newContainerId());
  assert.equal(isContainerId(a), true);
  assert.equal(isContainerId(a.toUpperCase()), false);
  assert.equal(isContainerId(a.slice(1)), false);
});

test("names follow docker's rule, with its optional leading slash", () => {
  assert.equal(checkContainerName('web'), 'web');
  assert.equal(checkContainerName('/web'), 'web');
  assert.equal(checkContainerName('a_b.c-1'), 'a_b.c-1');
  assert.equal(isValidName('x'.repeat(255)), true);
  for (const bad of ['', 'a', '_web', '.web', 'we b', 'we/b', '//web', 'a\0b', 'ü1', 'x'.repeat(256)]) {
    assert.throws(
      () => checkContainerName(bad),
      (err: unknown) => isBerthError(err, 'invalid_container_name') && err.message.includes(JSON.stringify(bad)),
      bad,
    );
  }
});
