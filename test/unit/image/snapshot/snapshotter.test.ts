import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { Snapshotter, chainIds, detectDriver } from '../../../../src/image/snapshot/index.ts';
import { isBerthError } from '../../../../src/errors.ts';
import { tempDir } from '../unpack/helpers.ts';

const rejectsWith = (p: Promise<unknown>, code: string, pattern: RegExp): Promise<void> =>
  assert.rejects(p, (err: unknown) => isBerthError(err, code) && pattern.test(err.message));

test('chain IDs follow the image spec', () => {
  const d = ['sha256:a', 'sha256:b', 'sha256:c'];
  const second = `sha256:${createHash('sha256').update('sha256:a sha256:b').digest('hex')}`;
  const third = `sha256:${createHash('sha256').update(`${second} sha256:c`).digest('hex')}`;
  assert.deepEqual(chainIds(d), ['sha256:a', second, third]);
});

test('overlay driver: prepare and view return mount descriptions stacking committed parents', async (t) => {
  const root = tempDir(t);
  const s = await Snapshotter.open(root, { driver: 'overlay' });
  assert.deepEqual(await s.prepare('l1'), [{ type: 'bind', source: join(root, 'snapshots/1/fs'), options: ['rw', 'rbind'] }]);
  await s.commit('c1', 'l1');
  await s.prepare('l2', 'c1');
  await s.commit('c2', 'l2');
  const active = await s.prepare('container', 'c2');
  assert.deepEqual(active, [
    {
      type: 'overlay',
      source: 'overlay',
      options: [`workdir=${join(root, 'snapshots/3/work')}`, `upperdir=${join(root, 'snapshots/3/fs')}`, `lowerdir=${join(root, 'snapshots/2/fs')}:${join(root, 'snapshots/1/fs')}`],
    },
  ]);
  assert.deepEqual(s.mounts('container'), active);
  assert.deepEqual(await s.view('v1', 'c1'), [{ type: 'bind', source: join(root, 'snapshots/1/fs'), options: ['ro', 'rbind'] }]);
  assert.deepEqual(await s.view('v2', 'c2'), [{ type: 'overlay', source: 'overlay', options: [`lowerdir=${join(root, 'snapshots/2/fs')}:${join(root, 'snapshots/1/fs')}`] }]);
  assert.ok(!existsSync(join(root, 'snapshots/1/work')), 'a committed snapshot keeps no work dir');
  // Records survive a new Snapshotter on the same root.
  const again = await Snapshotter.open(root, { driver: 'overlay' });
  assert.deepEqual(
    again.list().map((x) => [x.key, x.kind, x.parent]).sort(),
    [['c1', 'committed', undefined], ['c2', 'committed', 'c1'], ['container', 'active', 'c2'], ['v1', 'view', 'c1'], ['v2', 'view', 'c2']].sort(),
  );
});

test('remove refuses a snapshot that others stack on, then removes it and its files', async (t) => {
  const root = tempDir(t);
  const s = await Snapshotter.open(root, { driver: 'overlay' });
  await s.prepare('a');
  await s.commit('base', 'a');
  await s.prepare('child', 'base');
  await rejectsWith(s.remove('base'), 'snapshot_in_use', /snapshot "base": is the parent of "child"/);
  await s.remove('child');
  const dir = join(root, 'snapshots', s.stat('base')?.id ?? 'x');
  assert.ok(existsSync(dir));
  await s.remove('base');
  assert.ok(!existsSync(dir));
  assert.deepEqual(s.list(), []);
  await rejectsWith(s.remove('base'), 'snapshot_not_found', /snapshot "base": not found/);
});

test('misuse is refused by name: duplicate keys, uncommitted parents, committing a committed snapshot', async (t) => {
  const s = await Snapshotter.open(tempDir(t), { driver: 'overlay' });
  await s.prepare('x');
  await rejectsWith(s.prepare('x'), 'snapshot_exists', /snapshot "x": already exists/);
  await rejectsWith(s.prepare('y', 'x'), 'snapshot_parent_not_committed', /parent snapshot "x": is active/);
  await rejectsWith(s.prepare('y', 'nope'), 'snapshot_not_found', /parent snapshot "nope": not found/);
  await s.commit('cx', 'x');
  await rejectsWith(s.commit('cy', 'cx'), 'snapshot_not_active', /is committed/);
  assert.throws(() => s.mounts('cx'), (err: unknown) => isBerthError(err, 'snapshot_committed'));
  await s.prepare('z');
  await rejectsWith(s.commit('cx', 'z'), 'snapshot_exists', /snapshot "cx": already exists/);
});

test('copy driver: an active snapshot is a full copy of its parent, mounted by bind', async (t) => {
  const root = tempDir(t);
  const s = await Snapshotter.open(root, { driver: 'copy' });
  await s.prepare('l1');
  const fs1 = s.fsPath(s.stat('l1') ?? { key: '', kind: 'active', id: '', created: '' });
  mkdirSync(join(fs1, 'etc'));
  writeFileSync(join(fs1, 'etc/os'), 'base\n', { mode: 0o640 });
  await s.commit('c1', 'l1');
  const mounts = await s.prepare('work', 'c1');
  assert.deepEqual(mounts, [{ type: 'bind', source: join(root, 'snapshots/2/fs'), options: ['rw', 'rbind'] }]);
  assert.equal(readFileSync(join(root, 'snapshots/2/fs/etc/os'), 'utf8'), 'base\n');
  assert.deepEqual(await s.view('v', 'c1'), [{ type: 'bind', source: join(root, 'snapshots/1/fs'), options: ['ro', 'rbind'] }]);
});

test('BERTH_SNAPSHOTTER forces the driver (the copying fallback is testable anywhere)', async (t) => {
  const saved = process.env['BERTH_SNAPSHOTTER'];
  t.after(() => {
    if (saved === undefined) delete process.env['BERTH_SNAPSHOTTER'];
    else process.env['BERTH_SNAPSHOTTER'] = saved;
  });
  process.env['BERTH_SNAPSHOTTER'] = 'copy';
  assert.equal((await Snapshotter.open(tempDir(t))).driver, 'copy');
  assert.equal(await detectDriver(tempDir(t)), 'copy');
  process.env['BERTH_SNAPSHOTTER'] = 'overlay';
  assert.equal(await detectDriver(tempDir(t)), 'overlay');
});
