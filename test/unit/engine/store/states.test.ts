import assert from 'node:assert/strict';
import { test } from 'node:test';
import { canDelete, canMove, CONTAINER_STATES, isContainerState, type ContainerState } from '../../../../src/engine/store/states.ts';

const LEGAL: [ContainerState, ContainerState][] = [
  ['creating', 'created'],
  ['created', 'running'],
  ['created', 'exited'],
  ['created', 'removing'],
  ['running', 'paused'],
  ['running', 'exited'],
  ['running', 'dead'],
  ['paused', 'running'],
  ['paused', 'exited'],
  ['paused', 'dead'],
  ['exited', 'running'],
  ['exited', 'removing'],
  ['dead', 'removing'],
  ['removing', 'dead'],
];

test('exactly the listed moves are legal, every other pair is refused', () => {
  for (const from of CONTAINER_STATES) {
    for (const to of CONTAINER_STATES) {
      const legal = LEGAL.some(([f, t]) => f === from && t === to);
      assert.equal(canMove(from, to), legal, `${from} → ${to}`);
    }
  }
});

test('only a record being removed or half made may be deleted', () => {
  assert.deepEqual(
    CONTAINER_STATES.filter(canDelete),
    ['creating', 'removing'],
  );
});

test('isContainerState knows the states and nothing else', () => {
  for (const s of CONTAINER_STATES) assert.equal(isContainerState(s), true);
  for (const s of ['stopped', 'Running', '', 3, null]) assert.equal(isContainerState(s), false);
});
