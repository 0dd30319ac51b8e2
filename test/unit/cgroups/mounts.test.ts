import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cgroupMounts, openCgroup } from '../../../src/runtime/cgroups/index.ts';
import { fakeHost } from './fake-host.ts';

test('v1: tmpfs, one bind per hierarchy (co-mounted ones under each name too), then read-only tmpfs', (t) => {
  const host = fakeHost(t, 'v1');
  const { paths } = openCgroup({ cgroupsPath: '/c', id: 'c' }, { fsRoot: host.root });
  const m = cgroupMounts(paths, '/sys/fs/cgroup', { readOnly: true, cgroupNamespace: false });
  assert.deepEqual(m[0], { source: 'tmpfs', destination: '/sys/fs/cgroup', fstype: 'tmpfs', options: ['nosuid', 'noexec', 'nodev', 'mode=755'], kind: 'dir' });
  assert.deepEqual(m.at(-1), { source: 'tmpfs', destination: '/sys/fs/cgroup', fstype: 'tmpfs', options: ['remount', 'ro', 'nosuid', 'noexec', 'nodev'], kind: 'dir' });
  const binds = m.slice(1, -1);
  assert.ok(binds.every((b) => b.fstype === 'bind' && b.options.join(',') === 'bind,nosuid,noexec,nodev,ro'));
  const byDest = Object.fromEntries(binds.map((b) => [b.destination, b.source]));
  assert.equal(byDest['/sys/fs/cgroup/memory'], '/sys/fs/cgroup/memory/c');
  assert.equal(byDest['/sys/fs/cgroup/cpu,cpuacct'], '/sys/fs/cgroup/cpu,cpuacct/c');
  assert.equal(byDest['/sys/fs/cgroup/cpu'], '/sys/fs/cgroup/cpu,cpuacct/c');
  assert.equal(byDest['/sys/fs/cgroup/cpuacct'], '/sys/fs/cgroup/cpu,cpuacct/c');
  assert.equal(byDest['/sys/fs/cgroup/systemd'], '/sys/fs/cgroup/systemd/c');
  assert.equal(byDest['/sys/fs/cgroup/net_cls'], '/sys/fs/cgroup/net_cls,net_prio/c');
  // Read-write: no remount at the end, binds without "ro".
  const rw = cgroupMounts(paths, '/sys/fs/cgroup', { readOnly: false, cgroupNamespace: true });
  assert.equal(rw.filter((x) => x.options.includes('ro')).length, 0);
  assert.equal(rw.length, m.length - 1);
});

test('hybrid: the unified directory is bound at unified', (t) => {
  const host = fakeHost(t, 'hybrid');
  const { paths } = openCgroup({ cgroupsPath: '/c', id: 'c' }, { fsRoot: host.root });
  const m = cgroupMounts(paths, '/sys/fs/cgroup', { readOnly: false, cgroupNamespace: false });
  assert.ok(m.some((x) => x.destination === '/sys/fs/cgroup/unified' && x.source === '/sys/fs/cgroup/unified/c'));
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
