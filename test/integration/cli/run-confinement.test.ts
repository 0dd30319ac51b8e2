/**
 * `berth run`'s confinement and resource flags through the real command
 * line and a real berthd, as root, each observed from inside the container
 * (/proc/self/status, the cgroup files, mounts, ulimits, interfaces):
 * --read-only, --cap-add/--cap-drop, --security-opt seccomp= and
 * no-new-privileges, --memory/--cpus/--pids-limit, --ulimit, --init,
 * --network none|host.
 */
import assert from 'node:assert/strict';
import { readdirSync, readlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { show, startDaemon, until, type TestDaemon } from '../../helpers/daemon.ts';

let d: TestDaemon;
before(async () => {
  d = await startDaemon();
});
after(async () => {
  await d?.stop();
});

/** The value of a /proc/self/status field inside a container run with `flags`. */
async function status(flags: string[], field: string): Promise<string> {
  const r = await d.berth(['run', '--rm', ...flags, 'busybox', 'grep', `^${field}:`, '/proc/self/status']);
  assert.equal(r.code, 0, show(r));
  return r.stdout.split(':')[1]!.trim();
}

const bit = (capEff: string, n: number): boolean => ((BigInt(`0x${capEff}`) >> BigInt(n)) & 1n) === 1n;
const CAP_NET_RAW = 13;
const CAP_SYS_ADMIN = 21;
const CAP_CHOWN = 0;

test('--read-only makes the root filesystem read-only, --tmpfs still writable', async () => {
  const r = await d.berth(['run', '--rm', '--read-only', '--tmpfs', '/scratch', 'busybox', 'sh', '-c', 'touch /x 2>&1; touch /scratch/ok && echo tmpfs-writable; grep " /scratch " /proc/mounts']);
  assert.match(r.stdout, /touch: \/x: Read-only file system/, show(r));
  assert.match(r.stdout, /tmpfs-writable\ntmpfs \/scratch tmpfs /);
  const rw = await d.berth(['run', '--rm', 'busybox', 'touch', '/x']);
  assert.equal(rw.code, 0, show(rw));
});

test('--cap-add and --cap-drop change the effective capabilities', async () => {
  const def = await status([], 'CapEff');
  assert.equal(bit(def, CAP_NET_RAW), true, 'docker\'s default set has NET_RAW');
  assert.equal(bit(def, CAP_SYS_ADMIN), false);
  const changed = await status(['--cap-add', 'SYS_ADMIN', '--cap-drop', 'NET_RAW'], 'CapEff');
  assert.equal(bit(changed, CAP_SYS_ADMIN), true);
  assert.equal(bit(changed, CAP_NET_RAW), false);
  assert.equal(bit(changed, CAP_CHOWN), true);
  assert.equal(BigInt(`0x${await status(['--cap-drop', 'ALL'], 'CapEff')}`), 0n);
});

test('--security-opt seccomp=unconfined, seccomp=FILE and no-new-privileges', async () => {
  assert.equal(await status([], 'Seccomp'), '2');
  assert.equal(await status(['--security-opt', 'seccomp=unconfined'], 'Seccomp'), '0');
  assert.equal(await status([], 'NoNewPrivs'), '0');
  assert.equal(await status(['--security-opt', 'no-new-privileges'], 'NoNewPrivs'), '1');
  const profile = join(d.scratch, 'no-mkdir.json');
  writeFileSync(profile, JSON.stringify({ defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['mkdir', 'mkdirat'], action: 'SCMP_ACT_ERRNO' }] }));
  const r = await d.berth(['run', '--rm', '--security-opt', `seccomp=${profile}`, 'busybox', 'sh', '-c', 'mkdir /made 2>&1; echo still-runs']);
  assert.match(r.stdout, /mkdir: can't create directory '\/made': Operation not permitted\nstill-runs/, show(r));
  const plain = await d.berth(['run', '--rm', 'busybox', 'mkdir', '/made']);
  assert.equal(plain.code, 0, show(plain));
});

test('--memory, --cpus and --pids-limit land in the container\'s cgroup', async () => {
  const files = ['memory/memory.limit_in_bytes', 'cpu/cpu.cfs_quota_us', 'cpu/cpu.cfs_period_us', 'pids/pids.max', 'memory.max', 'cpu.max', 'pids.max'];
  const script = files.map((f) => `[ -f /sys/fs/cgroup/${f} ] && echo "${f}=$(cat /sys/fs/cgroup/${f})"`).join('; ') + '; true';
  const r = await d.berth(['run', '--rm', '--memory', '64m', '--cpus', '0.5', '--pids-limit', '42', 'busybox', 'sh', '-c', script]);
  assert.equal(r.code, 0, show(r));
  const v = Object.fromEntries(r.stdout.trim().split('\n').map((l) => l.split('=') as [string, string]));
  if (v['memory.max'] !== undefined) {
    assert.equal(v['memory.max'], '67108864');
    assert.equal(v['cpu.max'], '50000 100000');
    assert.equal(v['pids.max'], '42');
  } else {
    assert.equal(v['memory/memory.limit_in_bytes'], '67108864', show(r));
    assert.equal(v['cpu/cpu.cfs_quota_us'], '50000');
    assert.equal(v['cpu/cpu.cfs_period_us'], '100000');
    assert.equal(v['pids/pids.max'], '42');
  }
});

test('--ulimit sets soft and hard limits', async () => {
  const r = await d.berth(['run', '--rm', '--ulimit', 'nofile=1024:2048', 'busybox', 'sh', '-c', 'ulimit -n; ulimit -Hn']);
  assert.equal(r.stdout, '1024\n2048\n', show(r));
});

/** Zombies in a running container, counted from inside by exec. */
async function zombies(id: string): Promise<number> {
  const out = await d.ok(['exec', id, 'sh', '-c', 'cat /proc/[0-9]*/stat 2>/dev/null | grep -c ") Z" || true']);
  return Number(out.trim());
}

test('--init runs berth-init as pid 1, which reaps orphans; without it they stay zombies', async () => {
  const cmdline = await d.berth(['run', '--rm', '--init', 'busybox', 'sh', '-c', 'tr "\\0" " " < /proc/1/cmdline']);
  assert.match(cmdline.stdout, /^\/sbin\/berth-init -- sh -c /, show(cmdline));
  // The orphan's parent exits at once; pid 1 is then `sleep`, which reaps nothing, unless berth-init is pid 1.
  const orphan = ['sh', '-c', '(sleep 0.1 &); exec sleep 300'];
  const bare = (await d.ok(['run', '-d', 'busybox', ...orphan])).trim();
  assert.equal(await until('the orphan to be a zombie', async () => ((await zombies(bare)) === 1 ? true : undefined)), true);
  const init = (await d.ok(['run', '-d', '--init', 'busybox', ...orphan])).trim();
  await until('the orphan to have exited', async () => {
    const out = await d.ok(['exec', init, 'sh', '-c', 'grep -l "^sleep" /proc/[0-9]*/comm | wc -l']);
    return out.trim() === '1' ? true : undefined;
  });
  assert.equal(await zombies(init), 0);
  await d.ok(['rm', '-f', bare, init]);
});

test('--network none has only lo; --network host has the host\'s interfaces', async () => {
  const none = await d.berth(['run', '--rm', '--network', 'none', 'busybox', 'ls', '/sys/class/net']);
  assert.equal(none.stdout, 'lo\n', show(none));
  // Other tests' veths come and go meanwhile (the CLI's files run two at a time): the host's namespace itself, and every
  // interface there both before and after, nothing that was in neither.
  const before = readdirSync('/sys/class/net');
  const host = await d.berth(['run', '--rm', '--network', 'host', 'busybox', 'sh', '-c', 'readlink /proc/self/ns/net; ls /sys/class/net']);
  const after = readdirSync('/sys/class/net');
  const [ns, ...links] = host.stdout.trim().split(/\s+/);
  assert.equal(ns, readlinkSync('/proc/self/ns/net'), show(host));
  for (const l of before.filter((x) => after.includes(x))) assert.ok(links.includes(l), `${l} is seen inside: ${show(host)}`);
  for (const l of links) assert.ok(before.includes(l) || after.includes(l), `${l} is the host's: ${show(host)}`);
  const bridge = await d.berth(['run', '--rm', '--network', 'my-bridge', 'busybox', 'true']);
  assert.equal(bridge.code, 125, show(bridge));
  assert.match(bridge.stderr, /network my-bridge not found/);
});

test('--network container:NAME joins that container\'s namespace (and its hosts and resolv.conf); a stopped or missing one is refused', async () => {
  const a = (await d.ok(['run', '-d', '--name', 'netns-owner', '--network', 'none', 'busybox', 'sleep', '300'])).trim();
  try {
    const theirs = (await d.ok(['exec', a, 'readlink', '/proc/self/ns/net'])).trim();
    const ours = await d.berth(['run', '--rm', '--network', 'container:netns-owner', 'busybox', 'sh', '-c', 'readlink /proc/self/ns/net; cat /etc/hosts']);
    assert.equal(ours.code, 0, show(ours));
    const [ns, ...hosts] = ours.stdout.split('\n');
    assert.equal(ns, theirs);
    assert.notEqual(theirs, readlinkSync('/proc/self/ns/net'));
    assert.equal(hosts.join('\n'), await d.ok(['exec', a, 'cat', '/etc/hosts']));
    const missing = await d.berth(['run', '--rm', '--network', 'container:no-such-box', 'busybox', 'true']);
    assert.equal(missing.code, 125, show(missing));
    assert.match(missing.stderr, /no-such-box/);
    await d.ok(['stop', '-t', '0', a]);
    const stopped = await d.berth(['run', '--rm', '--network', 'container:netns-owner', 'busybox', 'true']);
    assert.notEqual(stopped.code, 0, show(stopped));
    assert.match(stopped.stderr, /cannot join the network of container "netns-owner": it is not running/);
  } finally {
    await d.berth(['rm', '-f', a]);
  }
});
