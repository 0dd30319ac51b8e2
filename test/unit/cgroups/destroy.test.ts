import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync } from 'node:fs';
import { cgroupFromPaths, findLeftovers, openCgroup } from '../../../src/runtime/cgroups/index.ts';
import { fakeHost } from './fake-host.ts';

test('create is idempotent; destroy removes every hierarchy\'s directory, children first, and tolerates missing ones', async (t) => {
  const host = fakeHost(t, 'v1');
  const cg = openCgroup({ cgroupsPath: '/a/b', id: 'b' }, { fsRoot: host.root });
  await cg.create();
  await cg.create();
  for (const dir of Object.values(cg.paths.dirs)) assert.ok(existsSync(host.path(dir)), dir);
  // A child the container made, with a grandchild.
  await cgroupFromPaths({ mode: 'v1', dirs: { memory: '/sys/fs/cgroup/memory/a/b/x/y' } }, { fsRoot: host.root }).create();
  await cg.destroy();
  for (const dir of Object.values(cg.paths.dirs)) assert.equal(existsSync(host.path(dir)), false, dir);
  // The parent "/a" stays: not ours to remove.
  assert.ok(existsSync(host.path('/sys/fs/cgroup/memory/a')));
  await cg.destroy();
});

test('destroy reports a cgroup that keeps its processes, after a short wait, and removes the others', async (t) => {
  const host = fakeHost(t, 'v2');
  const cg = openCgroup({ cgroupsPath: '/c', id: 'c' }, { fsRoot: host.root });
  await cg.create();
  await cg.addProcess(4242);
  assert.deepEqual(await cg.pids(), [4242]);
  await assert.rejects(cg.destroy(), /cgroup: remove \/sys\/fs\/cgroup\/c: EBUSY: processes are still in the cgroup/);
  assert.ok(existsSync(host.path('/sys/fs/cgroup/c')));
});

test('findLeftovers: children of the parent whose names are not kept, with only their existing directories', async (t) => {
  const host = fakeHost(t, 'hybrid');
  for (const id of ['live', 'dead']) await openCgroup({ cgroupsPath: undefined, id }, { fsRoot: host.root }).create();
  // A crash half-way: only one hierarchy has it.
  mkdirSync(host.path('/sys/fs/cgroup/pids/berth/half'));
  const left = await findLeftovers('/berth', { fsRoot: host.root, keep: ['live'] });
  assert.deepEqual(left.map((l) => l.name), ['dead', 'half']);
  assert.deepEqual(left[1]?.paths, { mode: 'hybrid', dirs: { pids: '/sys/fs/cgroup/pids/berth/half' } });
  assert.equal(Object.keys(left[0]?.paths.dirs ?? {}).length, 10);
  for (const l of left) await cgroupFromPaths(l.paths, { fsRoot: host.root }).destroy();
  assert.deepEqual(await findLeftovers('/berth', { fsRoot: host.root, keep: ['live'] }), []);
});
