/**
 * The snapshot records' lock against a holder killed with SIGKILL in the
 * middle of an update (berthd's crash test found it): the lock file stayed
 * and every later update waited for it to age two minutes, so the next
 * berthd could not recover. Now the lock is flock(2), which the kernel
 * drops with its holder. And `sweep` removes the snapshot directories a
 * crash left without a record.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { Snapshotter } from '../../../../src/image/snapshot/index.ts';
import { MetadataStore } from '../../../../src/image/snapshot/metadata.ts';
import { tempDir } from '../unpack/helpers.ts';

const HOLDER = `
import { MetadataStore } from ${JSON.stringify(join(import.meta.dirname, '../../../../src/image/snapshot/metadata.ts'))};
await new MetadataStore(process.argv[1]).update(() => {
  process.stdout.write('locked\\n');
  return new Promise(() => undefined);
});
`;

test('a holder of the snapshot lock killed with SIGKILL leaves no lock: the next update goes through at once', async (t) => {
  const dir = tempDir(t);
  const child = spawn(process.execPath, ['--input-type=module', '-e', HOLDER, dir], { stdio: ['ignore', 'pipe', 'inherit'] });
  const exited = new Promise((resolve) => child.once('exit', resolve));
  await new Promise<void>((resolve, reject) => {
    child.stdout.on('data', (b: Buffer) => b.toString().includes('locked') && resolve());
    child.once('exit', () => reject(new Error('the lock holder exited before it held the lock')));
  });
  child.kill('SIGKILL');
  await exited;
  const store = new MetadataStore(dir);
  // The old lock file aged two minutes before it was taken to be stale: this update gave up first (snapshot_locked after 30 s).
  await store.update((m) => {
    m.nextId = 42;
  });
  assert.equal(store.read().nextId, 42);
});

test('sweep removes snapshot directories no record names, and only those', async (t) => {
  const root = tempDir(t);
  const s = await Snapshotter.open(root, { driver: 'overlay' });
  await s.prepare('kept');
  const keptId = s.stat('kept')!.id;
  mkdirSync(join(root, 'snapshots', '777', 'fs'), { recursive: true });
  assert.deepEqual(await s.sweep(), ['777']);
  assert.equal(existsSync(join(root, 'snapshots', '777')), false);
  assert.equal(existsSync(join(root, 'snapshots', keptId, 'fs')), true);
  assert.deepEqual(await s.sweep(), []);
});
