import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import { isBerthError } from '../../../../src/errors.ts';
import { ContainerStore } from '../../../../src/engine/store/containers.ts';
import { openEngineDatabase } from '../../../../src/engine/store/db.ts';
import { HealthStore, type HealthState } from '../../../../src/engine/store/health.ts';
import { onCleanup, tempDir } from '../../../helpers/cleanup.ts';

function open(t: TestContext): { health: HealthStore; containers: ContainerStore; id: string } {
  const db = openEngineDatabase(join(tempDir(t), 'berth.db'));
  onCleanup(t, () => db.close());
  const containers = new ContainerStore(db);
  const { id } = containers.beginCreate({ name: 'web', imageRef: 'busybox', imageId: `sha256:${'a'.repeat(64)}`, options: {} });
  containers.finishCreate(id);
  return { health: new HealthStore(db), containers, id };
}

const STATE: HealthState = {
  Status: 'unhealthy',
  FailingStreak: 3,
  Log: [{ Start: '2026-01-01T00:00:00.000Z', End: '2026-01-01T00:00:01.000Z', ExitCode: 1, Output: 'no\n' }],
};

test('a container\'s health is written and read back; a second write replaces it', (t) => {
  const { health, id } = open(t);
  assert.equal(health.get(id), undefined);
  health.put(id, { Status: 'starting', FailingStreak: 0, Log: [] });
  health.put(id, STATE);
  assert.deepEqual(health.get(id), STATE);
});

test('the health row goes with the container\'s record, and cannot exist without one', (t) => {
  const { health, containers, id } = open(t);
  health.put(id, STATE);
  containers.transition(id, 'removing');
  containers.remove(id);
  assert.equal(health.get(id), undefined);
  assert.throws(() => health.put('b'.repeat(64), STATE), /FOREIGN KEY/);
});

test('a row edited by hand is refused naming the container and the column', (t) => {
  const { health, id } = open(t);
  health.put(id, STATE);
  health.db.prepare('UPDATE engine_health SET log = ? WHERE container_id = ?').run('[{"Start": 1}]', id);
  assert.throws(() => health.get(id), (err: Error) => isBerthError(err, 'engine_record_corrupt') && err.message.includes(`container ${id}: health log[0]`));
});
