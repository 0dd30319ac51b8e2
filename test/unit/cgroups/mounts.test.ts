import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cgroupMounts, openCgroup } from '../../../src/runtime/cgroups/index.ts';
import { fakeHost } from './fake-host.ts';

test('v1: a writable tmpfs, then one bind per hierarchy (co-mounted ones under each name too), as runc', (t) => {
  const host = fakeHost(t, 'v1');
  const { paths } = openCgroup({ cgroupsPath: '/c', id: 'c' }, { fsRoot: host.root });
  const m = cgroupMounts(paths, '/sys/fs/cgroup', { readOnly: true, cgroupNamespace: false });
  assert.deepEqual(m[0], { source: 'tmpfs', destination: '/sys/fs/cgroup', fstype: 'tmpfs', options: ['nosuid', 'noexec', 'nodev', 'mode=755'], kind: 'dir' });
  const binds = m.slice(1);
  assert.ok(binds.every((b) => b.fstype === 'bind' && b.options.join(',') === 'bind,nosuid,noexec,nodev,ro'));
  const byDest = Object.fromEntries(binds.map((b) => [b.destination, b.source]));
  assert.equal(byDest['/sys/fs/cgroup/memory'], '/sys/fs/cgroup/memory/c');
  assert.equal(byDest['/sys/fs/cgroup/cpu,cpuacct'], '/sys/fs/cgroup/cpu,cpuacct/c');
  assert.equal(byDest['/sys/fs/cgroup/cpu'], '/sys/fs/cgroup/cpu,cpuacct/c');
  assert.equal(byDest['/sys/fs/cgroup/cpuacct'], '/sys/fs/cgroup/cpu,cpuacct/c');
  assert.equal(byDest['/sys/fs/cgroup/systemd'], '/sys/fs/cgroup/systemd/c');
  assert.equal(byDest['/sys/fs/cgroup/net_cls'], '/sys/fs/cgroup/net_cls,net_prio/c');
  // Read-write: the same mounts, binds without "ro".
  const rw = cgroupMounts(paths, '/sys/fs/cgroup', { readOnly: false, cgroupNamespace: true });
  assert.equal(rw.filter((x) => x.options.includes('ro')).length, 0);
  assert.equal(rw.length, m.length);
});

test('hybrid: the v1 hierarchies only, no cgroup2 at unified (runc 1.1 makes none)', (t) => {
  const host = fakeHost(t, 'hybrid');
  const { paths } = openCgroup({ cgroupsPath: '/c', id: 'c' }, { fsRoot: host.root });
  assert.equal(paths.dirs['unified'], '/sys/fs/cgroup/unified/c');
  const m = cgroupMounts(paths, '/sys/fs/cgroup', { readOnly: false, cgroupNamespace: false });
  assert.ok(m.some((x) => x.destination === '/sys/fs/cgroup/memory'));
  assert.ok(!m.some((x) => x.destination.includes('unified') || x.source.includes('unified')), JSON.stringify(m));
});

test('v2: a fresh cgroup2 mount with a cgroup namespace, a bind of the container\'s directory without', (t) => {
  const host = fakeHost(t, 'v2');
  const { paths } = openCgroup({ cgroupsPath: '/c', id: 'c' }, { fsRoot: host.root });
  assert.deepEqual(cgroupMounts(paths, '/sys/fs/cgroup', { readOnly: true, cgroupNamespace: true }), [
    { source: 'cgroup2', destination: '/sys/fs/cgroup', fstype: 'cgroup2', options: ['nosuid', 'noexec', 'nodev', 'ro'], kind: 'dir' },
  ]);
  assert.deepEqual(cgroupMounts(paths, '/sys/fs/cgroup', { readOnly: false, cgroupNamespace: false }), [
    { source: '/sys/fs/cgroup/c', destination: '/sys/fs/cgroup', fstype: 'bind', options: ['bind', 'nosuid', 'noexec', 'nodev'], kind: 'dir' },
  ]);
});
