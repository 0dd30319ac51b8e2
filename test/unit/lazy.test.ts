import assert from 'node:assert/strict';
import { test } from 'node:test';
import { lazy } from '../../src/lazy.ts';

test('lazy loads on the first call only, and every call gets the same module', async () => {
  let loads = 0;
  const module = lazy(() => {
    loads++;
    return Promise.resolve({ value: 42 });
  });
  assert.equal(loads, 0, 'nothing loaded before it is asked for');
  const [a, b] = await Promise.all([module(), module()]);
  assert.equal(a, b);
  assert.equal((await module()).value, 42);
  assert.equal(loads, 1);
});
