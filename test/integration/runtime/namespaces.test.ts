/**
 * Namespaces as a process inside a berth-runtime container sees them
 * (root): pid, uts, ipc, network, mount, cgroup, user with id mappings, and
 * namespaces joined by path. Each check compares what the container reads
 * from /proc with what the host reads.
 */
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { chmodSync, readFileSync, readlinkSync, statSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { describe, test, type TestContext } from 'node:test';
import type { Spec } from '../../../src/oci/runtime-spec.ts';
import { berthOnly, byRuntime, makeBundle, uniqueId, waitFor, RuntimeFixture } from '../../helpers/runtime.ts';

/** Runs `sh -c script` in a fresh container and returns its standard output (exit 0 asserted). */
async function inside(t: TestContext, script: string, edit?: (spec: Spec) => void): Promise<string> {
  const rt = new RuntimeFixture(t);
  const bundle = makeBundle(t, { args: ['sh', '-c', script], ...(edit ? { edit } : {}) });
  const r = await rt.runBundle(bundle);
  assert.equal(r.code, 0, `container failed: ${r.stderr}`);
  return r.stdout;
}

function hostNs(type: string): string {
  return readlinkSync(`/proc/self/ns/${type}`);
}

/**
 * Mount points of this process's (the host's) mount table, but those that
 * daemons and tests running beside make and remove meanwhile (their roots
 * and namespaces under /tmp, /run/netns and /run/berth): what these tests
 * could leak is over the host's own paths or under their bundles
 * (/tmp/berth-bundle-*), which are kept.
 */
function hostMountPoints(): string[] {
  const others = (m: string): boolean => (m.startsWith('/tmp/') && !m.startsWith('/tmp/berth-bundle-')) || m.startsWith('/run/netns/') || m.startsWith('/run/berth/');
  return readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .map((l) => l.split(' ')[4] ?? '')
    .filter((m) => m !== '' && !others(m));
}

/**
 * Why the tests without a mount namespace skip under runc: runc 1.1 bind-mounts
 * the root onto itself in the runtime's own namespace and leaves it there (a root
 * of "/" stacks a second / over the host's, after which the kernel counts every
 * process as chrooted and refuses it user namespaces), and without /proc in the
 * root it fails ("error closing exec fds: open /proc/self/fd").
 */
const NO_MOUNT_NS_IN_RUNC = 'without a mount namespace runc 1.1 leaves the root bind-mounted onto itself on the host (a root of "/" stacks a second / there) and needs /proc inside the root';

/** Strips the mount namespace and everything that would need one. */
function withoutMountNamespace(more?: (spec: Spec) => void): (spec: Spec) => void {
  return (spec) => {
    spec.linux!.namespaces = spec.linux!.namespaces!.filter((ns) => ns.type !== 'mount');
    spec.mounts = [];
    spec.root!.readonly = false;
    spec.linux!.maskedPaths = [];
    spec.linux!.readonlyPaths = [];
    more?.(spec);
    if (!spec.linux!.namespaces.some((ns) => ns.type === 'uts')) delete spec.hostname;
  };
}

/** A process holding new namespaces (`unshare` flags, then `setup` in them), killed after the test; its pid. */
async function namespaceHolder(t: TestContext, flags: string[], setup = 'true'): Promise<number> {
  const holder = spawn('unshare', [...flags, 'sh', '-c', `${setup} && echo ready && exec sleep 1000`], { stdio: ['ignore', 'pipe', 'inherit'] });
  t.after(() => {
    holder.kill('SIGKILL');
  });
  let ready = '';
  holder.stdout.on('data', (c: Buffer) => (ready += c.toString()));
  await waitFor('the namespace holder', () => (ready.includes('ready') ? true : undefined));
  assert.ok(holder.pid);
  return holder.pid;
}

function withoutNamespace(type: string): (spec: Spec) => void {
  return (spec) => {
    spec.linux!.namespaces = spec.linux!.namespaces!.filter((ns) => ns.type !== type);
    if (type === 'uts') delete spec.hostname;
  };
}

describe('berth-runtime namespaces (root)', () => {
  test('pid: the process is pid 1 and ps sees only the container', async (t) => {
    // `; true` keeps sh from exec-ing ps, so both show up.
    const out = await inside(t, 'echo "self=$$"; readlink /proc/self/ns/pid; ps -o pid,args; true');
    const lines = out.trim().split('\n');
    assert.equal(lines[0], 'self=1');
    assert.notEqual(lines[1], hostNs('pid'));
    const procs = lines.slice(3).map((l) => l.trim());
    assert.equal(procs.length, 2, out);
    assert.match(procs[0] ?? '', /^1 sh -c echo "self=\$\$"/);
    // busybox runs ps as a forked applet: it shows as "{ps} sh -c ..." or as "ps -o pid,args".
    assert.match(procs[1] ?? '', /^\d+ (\{ps\} sh -c|ps -o pid,args)/);
    assert.notEqual(procs[1]?.split(' ')[0], '1');
  });

  test('pid: without a pid namespace the container sees the host', async (t) => {
    const out = await inside(t, 'echo "self=$$"; readlink /proc/self/ns/pid', withoutNamespace('pid'));
    const [self, ns] = out.trim().split('\n');
    assert.notEqual(self, 'self=1');
    assert.equal(ns, hostNs('pid'));
  });

  test('uts: hostname and domain name are the spec\'s, the host\'s stay', async (t) => {
    const out = await inside(t, 'hostname; cat /proc/sys/kernel/domainname; readlink /proc/self/ns/uts', (spec) => {
      spec.hostname = 'inside-host';
      spec.domainname = 'inside.example';
    });
    const [name, domain, ns] = out.trim().split('\n');
    assert.equal(name, 'inside-host');
    // runc 1.1 predates domainname (runtime-spec 1.1) and leaves it unset.
    assert.match(domain ?? '', byRuntime(/^inside\.example$/, /^\(none\)$/));
    assert.notEqual(ns, hostNs('uts'));
    assert.notEqual(hostname(), 'inside-host');
    assert.notEqual(readFileSync('/proc/sys/kernel/domainname', 'utf8').trim(), 'inside.example');
  });

  test('ipc: a namespace of its own, or the host\'s without one', async (t) => {
    const own = (await inside(t, 'readlink /proc/self/ns/ipc')).trim();
    assert.match(own, /^ipc:\[\d+\]$/);
    assert.notEqual(own, hostNs('ipc'));
    const shared = (await inside(t, 'readlink /proc/self/ns/ipc', withoutNamespace('ipc'))).trim();
    assert.equal(shared, hostNs('ipc'));
  });

  test('network: only lo, brought up as runc does', async (t) => {
    // A connection to a closed port on 127.0.0.1 is refused (not "unreachable"): lo carries traffic.
    const out = await inside(t, 'readlink /proc/self/ns/net; ls /sys/class/net; cat /sys/class/net/lo/flags; wget -q -O- http://127.0.0.1:1/ 2>&1 | grep -o refused; true');
    const [ns, ...rest] = out.trim().split('\n');
    assert.notEqual(ns, hostNs('net'));
    // IFF_LOOPBACK (0x8) | IFF_UP (0x1), and it carries traffic.
    assert.deepEqual(rest, ['lo', '0x9', 'refused']);
  });

  test('mount: the container\'s mounts stay out of the host\'s table', async (t) => {
    const rt = new RuntimeFixture(t);
    const bundle = makeBundle(t, { args: ['sleep', '1000'] });
    const id = rt.track(uniqueId());
    const r = await rt.run(['run', '--detach', '--bundle', bundle.dir, id]);
    assert.equal(r.code, 0, r.stderr);
    const { pid } = await rt.state(id);
    assert.notEqual(readlinkSync(`/proc/${pid}/ns/mnt`), hostNs('mnt'));
    const containerMounts = readFileSync(`/proc/${pid}/mountinfo`, 'utf8');
    assert.match(containerMounts, new RegExp(` ${bundle.rootfs} / `));
    const hostMounts = readFileSync('/proc/self/mountinfo', 'utf8');
    assert.ok(!hostMounts.includes(bundle.rootfs), 'the rootfs is mounted in the host namespace');
  });

  test('cgroup: /proc/self/cgroup shows "/" paths in a cgroup namespace', async (t) => {
    const id = uniqueId();
    const out = await inside(t, 'readlink /proc/self/ns/cgroup; cat /proc/self/cgroup', (spec) => {
      spec.linux!.cgroupsPath = `/berth/${id}`;
    });
    const [ns, ...lines] = out.trim().split('\n');
    assert.notEqual(ns, hostNs('cgroup'));
    assert.ok(lines.length > 0);
    for (const line of lines) assert.match(line, /^\d+:[^:]*:\/$/, out);
  });

  test('cgroup: without a cgroup namespace the paths show the container\'s cgroup', async (t) => {
    const id = uniqueId();
    const out = await inside(t, 'cat /proc/self/cgroup', (spec) => {
      withoutNamespace('cgroup')(spec);
      spec.linux!.cgroupsPath = `/berth/${id}`;
    });
    const lines = out.trim().split('\n');
    assert.ok(lines.length > 0);
    for (const line of lines) assert.ok(line.endsWith(`:/berth/${id}`), `${line} is not in /berth/${id}`);
  });

  test('user: uid and gid mappings, root inside, files owned by the mapped ids outside', async (t) => {
    const rt = new RuntimeFixture(t);
    const bundle = makeBundle(t, {
      args: ['sh', '-c', 'id; cat /proc/self/uid_map /proc/self/gid_map; readlink /proc/self/ns/user; touch /tmp/made-inside; stat -c "%u:%g" /tmp/made-inside /dev/mqueue'],
      edit: (spec) => {
        spec.root!.readonly = false;
        spec.linux!.namespaces!.push({ type: 'user' });
        spec.linux!.uidMappings = [{ containerID: 0, hostID: 100000, size: 65536 }];
        spec.linux!.gidMappings = [{ containerID: 0, hostID: 100000, size: 65536 }];
      },
    });
    // The mapped root must be able to reach and own its root filesystem.
    chmodSync(bundle.dir, 0o755);
    execFileSync('chown', ['-R', '100000:100000', bundle.rootfs]);
    const r = await rt.runBundle(bundle);
    assert.equal(r.code, 0, r.stderr);
    const lines = r.stdout.trim().split('\n');
    assert.match(lines[0] ?? '', /^uid=0\(root\) gid=0\(root\)/);
    assert.deepEqual(lines[1]?.trim().split(/\s+/), ['0', '100000', '65536']);
    assert.deepEqual(lines[2]?.trim().split(/\s+/), ['0', '100000', '65536']);
    assert.notEqual(lines[3], hostNs('user'));
    assert.equal(lines[4], '0:0');
    // The ipc namespace (and its mqueue) was created by the container's root, not by an unmapped host root.
    // runc 1.1 mounts it from outside the user namespace: its group shows unmapped.
    assert.match(lines[5] ?? '', byRuntime(/^0:0$/, /^0:65534$/), 'owner of /dev/mqueue');
    const made = statSync(join(bundle.rootfs, 'tmp', 'made-inside'));
    assert.deepEqual([made.uid, made.gid], [100000, 100000]);
  });

  test('network: joins a namespace by path (ip netns)', async (t) => {
    const name = `berth-test-${process.pid}-${Date.now().toString(36)}`;
    execFileSync('ip', ['netns', 'add', name]);
    t.after(() => execFileSync('ip', ['netns', 'delete', name]));
    // Something the container can tell apart from a new namespace: lo is up.
    execFileSync('ip', ['-n', name, 'link', 'set', 'lo', 'up']);
    const nsPath = `/run/netns/${name}`;
    const out = await inside(t, 'readlink /proc/self/ns/net; cat /sys/class/net/lo/flags', (spec) => {
      spec.linux!.namespaces = spec.linux!.namespaces!.map((ns) => (ns.type === 'network' ? { type: 'network', path: nsPath } : ns));
    });
    const [ns, flags] = out.trim().split('\n');
    assert.equal(ns, `net:[${statSync(nsPath).ino}]`);
    assert.equal(Number(flags) & 1, 1, `lo flags ${flags}: not up`);
  });

  test('uts: joins the namespace of another process by /proc/PID/ns/uts', async (t) => {
    const helper = await namespaceHolder(t, ['--uts'], 'hostname joined-uts');
    const nsPath = `/proc/${helper}/ns/uts`;
    const out = await inside(t, 'hostname; readlink /proc/self/ns/uts', (spec) => {
      delete spec.hostname;
      spec.linux!.namespaces = spec.linux!.namespaces!.map((ns) => (ns.type === 'uts' ? { type: 'uts', path: nsPath } : ns));
    });
    assert.deepEqual(out.trim().split('\n'), ['joined-uts', readlinkSync(nsPath)]);
    assert.notEqual(hostname(), 'joined-uts');
  });

  test('no namespaces at all: every one is the runtime\'s (runtime-spec), the host\'s root seen as it is', { skip: berthOnly(NO_MOUNT_NS_IN_RUNC) }, async (t) => {
    const types = ['mnt', 'pid', 'net', 'ipc', 'uts', 'cgroup', 'user'];
    const before = hostMountPoints();
    const rt = new RuntimeFixture(t);
    const bundle = makeBundle(t, {
      // The host's own busybox, through the host's /proc: nothing is mounted for this container.
      args: ['/bin/busybox', 'sh', '-c', `for ns in ${types.join(' ')}; do readlink /proc/self/ns/$ns; done`],
      edit: withoutMountNamespace((spec) => (spec.linux!.namespaces = [])),
    });
    bundle.spec.root = { path: '/' };
    bundle.writeConfig();
    const r = await rt.runBundle(bundle);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(r.stdout.trim().split('\n'), types.map(hostNs));
    assert.deepEqual(hostMountPoints(), before);
  });

  test('mount: without a mount namespace the runtime\'s is kept, the root is a chroot, and exec lands in it too', { skip: berthOnly(NO_MOUNT_NS_IN_RUNC) }, async (t) => {
    const before = hostMountPoints();
    const rt = new RuntimeFixture(t);
    const bundle = makeBundle(t, { args: ['sh', '-c', 'cat /marker; exec sleep 1000'], edit: withoutMountNamespace() });
    writeFileSync(join(bundle.rootfs, 'marker'), 'inside the rootfs\n');
    const id = rt.track(uniqueId());
    const r = await rt.run(['run', '--detach', '--bundle', bundle.dir, id], { stdio: ['ignore', 'pipe', 'pipe'] });
    assert.equal(r.code, 0, r.stderr);
    const { pid } = await rt.state(id);
    assert.ok(pid);
    assert.equal(readlinkSync(`/proc/${pid}/ns/mnt`), hostNs('mnt'));
    assert.equal(readlinkSync(`/proc/${pid}/root`), bundle.rootfs);
    const exec = await rt.run(['exec', id, 'sh', '-c', 'cat /marker; ls /']);
    assert.equal(exec.code, 0, exec.stderr);
    assert.match(exec.stdout, /^inside the rootfs\n/);
    assert.doesNotMatch(exec.stdout, /\bboot\b|\busr\b/);
    // Nothing was mounted in the runtime's namespace.
    assert.deepEqual(hostMountPoints(), before);
  });

  test('mount: joins a mount namespace by path and sets the root up in it, not in the host\'s', async (t) => {
    const helper = await namespaceHolder(t, ['--mount', '--propagation', 'private']);
    const nsPath = `/proc/${helper}/ns/mnt`;
    const expected = readlinkSync(nsPath);
    const before = hostMountPoints();
    const out = await inside(t, 'readlink /proc/self/ns/mnt; grep -c . /proc/self/mountinfo', (spec) => {
      spec.linux!.namespaces = spec.linux!.namespaces!.map((ns) => (ns.type === 'mount' ? { type: 'mount', path: nsPath } : ns));
    });
    const [ns, mounts] = out.trim().split('\n');
    assert.equal(ns, expected);
    assert.notEqual(ns, hostNs('mnt'));
    assert.ok(Number(mounts) > 5, `the container's own mounts: ${mounts}`);
    assert.deepEqual(hostMountPoints(), before);
  });

  test('uts: the hostname is set in a namespace joined by path (runc allows it)', async (t) => {
    const helper = await namespaceHolder(t, ['--uts']);
    const nsPath = `/proc/${helper}/ns/uts`;
    const out = await inside(t, 'hostname; readlink /proc/self/ns/uts', (spec) => {
      spec.hostname = 'named-in-joined';
      spec.linux!.namespaces = spec.linux!.namespaces!.map((ns) => (ns.type === 'uts' ? { type: 'uts', path: nsPath } : ns));
    });
    assert.deepEqual(out.trim().split('\n'), ['named-in-joined', readlinkSync(nsPath)]);
    // The joined namespace itself now carries the name; the host's is untouched.
    assert.equal(execFileSync('nsenter', ['-t', String(helper), '-u', 'hostname'], { encoding: 'utf8' }), 'named-in-joined\n');
    assert.notEqual(hostname(), 'named-in-joined');
  });

  test('a namespace path that does not exist fails create, naming it', async (t) => {
    const rt = new RuntimeFixture(t);
    const missing = join('/run/netns', `berth-test-missing-${process.pid}`);
    const bundle = makeBundle(t, {
      edit: (spec) => {
        spec.linux!.namespaces = spec.linux!.namespaces!.map((ns) => (ns.type === 'network' ? { type: 'network', path: missing } : ns));
      },
    });
    const r = await rt.runBundle(bundle);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, byRuntime(new RegExp(`join the network namespace "${missing}".*no such file or directory`), new RegExp(`namespace path: lstat ${missing}: no such file or directory`)));
    assert.deepEqual(rt.leftovers(), []);
  });
});
