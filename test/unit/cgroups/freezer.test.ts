import { test } from 'node:test';
import assert from 'node:assert/strict';
import { openCgroup } from '../../../src/runtime/cgroups/index.ts';
import { isBerthError } from '../../../src/errors.ts';
import { fakeHost } from './fake-host.ts';

test('v1 freezer: FROZEN written and read back; thaw writes THAWED; a stuck FREEZING is thawed and reported', async (t) => {
  const host = fakeHost(t, 'v1');
  const cg = openCgroup({ cgroupsPath: '/c', id: 'c' }, { fsRoot: host.root });
  await cg.create();
  await cg.freeze();
  assert.equal(await cg.state(), 'frozen');
  await cg.thaw();
  assert.equal(await cg.state(), 'thawed');
  assert.deepEqual(host.writes().filter(([p]) => p.endsWith('freezer.state')).map(([, v]) => v), ['FROZEN', 'THAWED']);
});

test('v2 freezer: cgroup.freeze=1 then waits for cgroup.events "frozen 1"', async (t) => {
  const host = fakeHost(t, 'v2');
  const cg = openCgroup({ cgroupsPath: '/c', id: 'c' }, { fsRoot: host.root });
  await cg.create();
  // The fake kernel freezes a moment later.
  const timer = setTimeout(() => host.write('/sys/fs/cgroup/c/cgroup.events', 'populated 1\nfrozen 1\n'), 30);
  t.after(() => clearTimeout(timer));
  await cg.freeze();
  assert.equal(host.read('/sys/fs/cgroup/c/cgroup.freeze'), '1');
  assert.equal(await cg.state(), 'frozen');
  const thawTimer = setTimeout(() => host.write('/sys/fs/cgroup/c/cgroup.events', 'populated 1\nfrozen 0\n'), 30);
  t.after(() => clearTimeout(thawTimer));
  await cg.thaw();
  assert.equal(host.read('/sys/fs/cgroup/c/cgroup.freeze'), '0');
  assert.equal(await cg.state(), 'thawed');
});

test('freezing a cgroup that never gets there fails and thaws it again', { timeout: 20_000 }, async (t) => {
  const host = fakeHost(t, 'v2');
  const cg = openCgroup({ cgroupsPath: '/c', id: 'c' }, { fsRoot: host.root });
  await cg.create();
  await assert.rejects(cg.freeze(), (err: unknown) => isBerthError(err, 'cgroup_freeze_timeout') && /thawed again/.test(err.message));
  assert.equal(host.read('/sys/fs/cgroup/c/cgroup.freeze'), '0');
});
