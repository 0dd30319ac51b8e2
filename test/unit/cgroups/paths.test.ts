import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { cgroupFromPaths, detectCgroupModeFrom, openCgroup } from '../../../src/runtime/cgroups/index.ts';
import { isBerthError } from '../../../src/errors.ts';
import { parseCgroupMounts } from '../../../src/runtime/cgroups/mountinfo.ts';
import { HostCgroupFs, TreeCgroupFs } from '../../../src/runtime/cgroups/fs.ts';
import { readLayout } from '../../../src/runtime/cgroups/paths.ts';
import { fakeHost } from './fake-host.ts';

const FIXTURES = join(import.meta.dirname, '..', '..', 'fixtures', 'cgroupfs');

test('detectCgroupModeFrom tells v1, v2 and hybrid hosts apart from mountinfo', () => {
  for (const mode of ['v1', 'v2', 'hybrid'] as const) {
    assert.equal(detectCgroupModeFrom(readFileSync(join(FIXTURES, `mountinfo-${mode}.txt`), 'utf8')), mode);
  }
  // Mount points with escaped spaces and a v2-only host mounted elsewhere.
  assert.equal(detectCgroupModeFrom('25 22 0:23 / /run/my\\040cg rw - cgroup2 cgroup2 rw\n'), 'v2');
  assert.equal(detectCgroupModeFrom('21 26 0:20 / /proc rw - proc proc rw\n'), 'v1');
});

test('among many other mounts only cgroup and cgroup2 lines count, whatever the others\' paths or sources say', () => {
  const text = [
    '20 1 8:1 / / rw - ext4 /dev/vda rw',
    '21 20 0:50 / /tmp/x\\040-\\040cgroup2 rw - tmpfs tmpfs rw',
    '22 20 0:51 / /sys/fs/cgroup rw,nosuid - cgroup2 cgroup2 rw',
    '23 20 0:52 / /sys/fs/cgroup/memory rw - cgroup cgroup rw,memory',
    '24 20 0:53 / /cgroupish rw - tmpfs cgroup rw,memory',
  ].join('\n');
  assert.deepEqual(parseCgroupMounts(text), [
    { mountPoint: '/sys/fs/cgroup', root: '/', controllers: [], version: 2 },
    { mountPoint: '/sys/fs/cgroup/memory', root: '/', controllers: ['memory'], version: 1 },
  ]);
});

test('v1: an absolute path lands under each hierarchy; co-mounted controllers share a directory', (t) => {
  const host = fakeHost(t, 'v1');
  const cg = openCgroup({ cgroupsPath: '/machine/web', id: 'web' }, { fsRoot: host.root });
  assert.equal(cg.paths.mode, 'v1');
  assert.equal(cg.paths.dirs['memory'], '/sys/fs/cgroup/memory/machine/web');
  assert.equal(cg.paths.dirs['cpu'], '/sys/fs/cgroup/cpu,cpuacct/machine/web');
  assert.equal(cg.paths.dirs['cpuacct'], '/sys/fs/cgroup/cpu,cpuacct/machine/web');
  assert.equal(cg.paths.dirs['net_prio'], '/sys/fs/cgroup/net_cls,net_prio/machine/web');
  assert.equal(cg.paths.dirs['name=systemd'], '/sys/fs/cgroup/systemd/machine/web');
  assert.equal(cg.paths.dirs['unified'], undefined);
});

test('default path is /berth/<id>; hybrid adds the unified directory', (t) => {
  const host = fakeHost(t, 'hybrid');
  const cg = openCgroup({ cgroupsPath: undefined, id: 'c1' }, { fsRoot: host.root });
  assert.equal(cg.paths.mode, 'hybrid');
  assert.equal(cg.paths.dirs['pids'], '/sys/fs/cgroup/pids/berth/c1');
  assert.equal(cg.paths.dirs['unified'], '/sys/fs/cgroup/unified/berth/c1');
  assert.equal(Object.keys(cg.paths.dirs).length, 10);
});

test('v1: a relative path lands under this process\'s own cgroup in each hierarchy', (t) => {
  const host = fakeHost(t, 'v1');
  const cg = openCgroup({ cgroupsPath: 'ctr/a', id: 'a' }, { fsRoot: host.root });
  assert.equal(cg.paths.dirs['memory'], '/sys/fs/cgroup/memory/user.slice/user-0.slice/session-1.scope/ctr/a');
  assert.equal(cg.paths.dirs['cpu'], '/sys/fs/cgroup/cpu,cpuacct/user.slice/ctr/a');
  assert.equal(cg.paths.dirs['cpuset'], '/sys/fs/cgroup/cpuset/ctr/a');
});

test('v2: a relative path lands beside this process\'s cgroup (its parent), absolute under the mount', (t) => {
  const host = fakeHost(t, 'v2');
  assert.deepEqual(openCgroup({ cgroupsPath: 'ctr', id: 'x' }, { fsRoot: host.root }).paths, {
    mode: 'v2',
    dirs: { unified: '/sys/fs/cgroup/user.slice/user-0.slice/ctr' },
  });
  assert.deepEqual(openCgroup({ cgroupsPath: '/a/b', id: 'x' }, { fsRoot: host.root }).paths.dirs, { unified: '/sys/fs/cgroup/a/b' });
});

test('path traversal: ".." in cgroupsPath never leaves the hierarchy', (t) => {
  const host = fakeHost(t, 'v2');
  for (const given of ['/../../etc', '../../../etc', 'a/../../../../etc', '/a/./../../etc']) {
    const dir = openCgroup({ cgroupsPath: given, id: 'x' }, { fsRoot: host.root }).paths.dirs['unified'] ?? '';
    assert.ok(dir.startsWith('/sys/fs/cgroup/'), `${given} → ${dir}`);
    assert.ok(!dir.split('/').includes('..'), dir);
  }
});

test('bad paths and ids fail clearly', (t) => {
  const host = fakeHost(t, 'v1');
  const fails = (spec: { cgroupsPath: string | undefined; id: string }, code: string, text: RegExp): void => {
    assert.throws(
      () => openCgroup(spec, { fsRoot: host.root }),
      (err: unknown) => isBerthError(err, code) && text.test(err.message),
      JSON.stringify(spec),
    );
  };
  fails({ cgroupsPath: 'system.slice:berth:web', id: 'web' }, 'cgroup_path_systemd', /systemd-style.*cgroupfs/);
  fails({ cgroupsPath: '/', id: 'x' }, 'cgroup_path_invalid', /root cgroup/);
  fails({ cgroupsPath: '/..', id: 'x' }, 'cgroup_path_invalid', /root cgroup/);
  fails({ cgroupsPath: '/a\0b', id: 'x' }, 'cgroup_path_invalid', /NUL/);
  fails({ cgroupsPath: undefined, id: '../x' }, 'cgroup_path_invalid', /cannot name a cgroup/);
  fails({ cgroupsPath: undefined, id: '..' }, 'cgroup_path_invalid', /cannot name a cgroup/);
});

test('cgroupFromPaths takes back what paths gave and refuses tampered state', (t) => {
  const host = fakeHost(t, 'hybrid');
  const cg = openCgroup({ cgroupsPath: '/x', id: 'x' }, { fsRoot: host.root });
  const again = cgroupFromPaths(JSON.parse(JSON.stringify(cg.paths)) as typeof cg.paths, { fsRoot: host.root });
  assert.deepEqual(again.paths, cg.paths);
  for (const bad of [
    { mode: 'v3', dirs: {} },
    { mode: 'v2', dirs: { unified: 'relative/dir' } },
    { mode: 'v2', dirs: { unified: '/sys/fs/cgroup/../../etc' } },
    { mode: 'v1', dirs: { memory: 7 } },
    null,
  ]) {
    assert.throws(() => cgroupFromPaths(bad as never, { fsRoot: host.root }), (err: unknown) => isBerthError(err, 'cgroup_paths_invalid'));
  }
});

test('the host\'s layout is read once while it holds (same own cgroups, same cgroup file systems); a fake tree\'s each time', (t) => {
  const host = new HostCgroupFs();
  let mountinfoReads = 0;
  const readSync = host.readSync.bind(host);
  host.readSync = (path: string): string => {
    if (path === '/proc/self/mountinfo') mountinfoReads++;
    return readSync(path);
  };
  let first;
  try {
    first = readLayout(host);
  } catch (err) {
    if (isBerthError(err, 'cgroup_not_mounted')) return t.skip('no cgroup file system on this host');
    throw err;
  }
  const before = mountinfoReads;
  assert.equal(readLayout(host), first, 'the same layout, not read again');
  assert.equal(mountinfoReads, before);
  const tree = fakeHost(t, 'v1');
  const fake = new TreeCgroupFs(tree.root);
  assert.notEqual(readLayout(fake), readLayout(fake), 'a fake tree is read each time');
});
