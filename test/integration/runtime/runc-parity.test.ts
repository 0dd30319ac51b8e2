/**
 * Differential test against runc (root): runc's own default config
 * (`runc spec`), a busybox root and a probe printing what a process sees
 * inside, as the container's first process and through exec. berth-runtime
 * must read the same as runc, byte for byte, after normalising only what
 * differs from one run to the next.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync, rmdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test, type TestContext } from 'node:test';
import type { Spec } from '../../../src/oci/runtime-spec.ts';
import { startRecvtty } from '../../helpers/recvtty.ts';
import { makeRootfs, onCleanup, type Result, runCommand, type RunOptions, RUNTIME_BIN, RuntimeFixture, tempDir, uniqueId, waitFor } from '../../helpers/runtime.ts';

/** What the process sees: identity, capabilities, fds, mounts with their types, /dev, the user namespace. */
const PROBE = [
  'hostname',
  'id',
  'grep -E "^(Cap|NoNewPrivs|Seccomp)" /proc/self/status',
  // The shell's own descriptors (ls would list its directory descriptor too).
  'cd /proc/$$/fd && for f in *; do echo "fd $f -> $(readlink $f)"; done; cd /',
  'cat /proc/self/mountinfo',
  // Without times: they differ between the two runs.
  'for f in /dev/* /dev/.[!.]*; do [ -e "$f" ] || [ -L "$f" ] || continue; stat -c "%A %h %u %g %t:%T %s %N" "$f"; done',
  'cat /proc/self/uid_map',
].join('\n');

/**
 * What necessarily differs per run, and only that: pipe inode numbers, mount
 * ids and the device numbers of fresh anonymous file systems (proc, tmpfs,
 * ...), which the kernel hands out anew for each container. Both are
 * renumbered in order of appearance, so which mount sits on which and which
 * mounts share a file system still has to match.
 */
function normalise(text: string): string {
  const ids = new Map<string, string>();
  const devs = new Map<string, string>();
  const label = (map: Map<string, string>, key: string, prefix: string): string => {
    if (!map.has(key)) map.set(key, `${prefix}${map.size}`);
    return map.get(key) ?? key;
  };
  return text
    .replace(/pipe:\[\d+\]/g, 'pipe:[N]')
    .split('\n')
    .map((line) => {
      const m = /^(\d+) (\d+) (\d+:\d+) (.*)$/.exec(line);
      if (!m) return line;
      const [, id = '', parent = '', dev = '', rest = ''] = m;
      const devLabel = dev.startsWith('0:') ? label(devs, dev, 'anon') : dev;
      return `${label(ids, id, 'm')} ${label(ids, parent, 'm')} ${devLabel} ${rest}`;
    })
    .join('\n');
}

interface Pair {
  /** A bundle from `runc spec` with the busybox root, running the given program. */
  bundle: string;
  /** runc's state root and the id its container gets. */
  runcRoot: string;
  runcId: string;
  /** berth-runtime with its own state root. */
  rt: RuntimeFixture;
}

/** One bundle for both runtimes, and the cleanup of both (the shared cgroup last). */
function pair(t: TestContext, args = ['sh', '-c', PROBE], terminal = false): Pair {
  const cgroupsPath = `/${uniqueId('berth-parity')}`;
  const bundle = tempDir(t, 'berth-parity-');
  makeRootfs(bundle);
  execFileSync('runc', ['spec', '--bundle', bundle]);
  const spec = JSON.parse(readFileSync(join(bundle, 'config.json'), 'utf8')) as Spec;
  spec.process!.terminal = terminal;
  spec.process!.args = args;
  // Without a path each runtime picks its own parent (runc the caller's cgroup, berth /berth), which
  // the container sees as the root of its cgroup mounts: both are given the same one.
  spec.linux!.cgroupsPath = cgroupsPath;
  writeFileSync(join(bundle, 'config.json'), JSON.stringify(spec, null, 2));
  const runcRoot = tempDir(t, 'berth-runc-state-');
  const runcId = uniqueId('runc');
  onCleanup(t, async () => {
    await runCommand('runc', ['--root', runcRoot, 'delete', '--force', runcId]);
    removeCgroups(cgroupsPath);
  });
  // Registered after: its containers go before the cgroup is removed.
  return { bundle, runcRoot, runcId, rt: new RuntimeFixture(t) };
}

/** Containers left running, their output elsewhere. */
const DETACHED: RunOptions = { stdio: ['ignore', 'ignore', 'pipe'] };

/**
 * Runs a command with pipes as its stdin, stdout and stderr (Node's own are
 * sockets). runc's foreground `run` always gives the container pipes of its
 * own and copies them; berth-runtime hands the caller's stdio straight on.
 * With pipes on both sides the container sees the same thing either way.
 */
function runWithPipes(cmd: string, args: readonly string[]): Promise<Result> {
  return runCommand('bash', ['-c', '"$@" < <(:) 2> >(cat >&2) | cat', 'bash', cmd, ...args]);
}

/** Until runc says the container stopped (its cgroup is then free for the next one). */
async function waitForExit(root: string, id: string): Promise<void> {
  await waitFor(`runc container ${id} to stop`, async () => {
    const r = await runCommand('runc', ['--root', root, 'state', id]);
    return r.code !== 0 || r.stdout.includes('"stopped"') ? true : undefined;
  });
}

function removeCgroups(path: string): void {
  for (const hierarchy of readdirSync('/sys/fs/cgroup')) {
    const dir = join('/sys/fs/cgroup', hierarchy, path);
    if (existsSync(dir)) rmdirSync(dir);
  }
}

describe('runc parity: runc\'s default spec reads the same inside (root)', () => {
  test('hostname, ids, capabilities, no_new_privs, seccomp, fds, mountinfo, /dev and uid_map equal runc\'s', async (t) => {
    const { bundle, runcRoot, runcId, rt } = pair(t);
    const runc = await runWithPipes('runc', ['--root', runcRoot, 'run', '--bundle', bundle, runcId]);
    assert.equal(runc.code, 0, runc.stderr);
    const berth = await runWithPipes(RUNTIME_BIN, ['--root', rt.root, 'run', '--bundle', bundle, rt.track(uniqueId())]);
    assert.equal(berth.code, 0, berth.stderr);

    // The probe ran in full under runc: the reference is worth comparing with.
    assert.match(runc.stdout, /^runc\nuid=0\(root\) gid=0\(root\)\nCapInh:/);
    assert.match(runc.stdout, / \/proc\/keys .* - tmpfs /);
    assert.match(runc.stdout, /\n +0 +0 +4294967295\n$/);
    assert.equal(normalise(berth.stdout), normalise(runc.stdout));
    assert.equal(berth.stderr, runc.stderr);
  });

  test('exec into it: what the new process sees equals what runc exec shows', async (t) => {
    const { bundle, runcRoot, runcId, rt } = pair(t, ['sleep', '1000']);
    // One after the other: both containers use the same cgroup.
    const started = await runCommand('runc', ['--root', runcRoot, 'run', '--detach', '--bundle', bundle, runcId], DETACHED);
    assert.equal(started.code, 0, started.stderr);
    const runc = await runWithPipes('runc', ['--root', runcRoot, 'exec', runcId, 'sh', '-c', PROBE]);
    assert.equal(runc.code, 0, runc.stderr);
    assert.equal((await runCommand('runc', ['--root', runcRoot, 'delete', '--force', runcId])).code, 0);

    const id = rt.track(uniqueId());
    const created = await rt.run(['run', '--detach', '--bundle', bundle, id], DETACHED);
    assert.equal(created.code, 0, created.stderr);
    const berth = await runWithPipes(RUNTIME_BIN, ['--root', rt.root, 'exec', id, 'sh', '-c', PROBE]);
    assert.equal(berth.code, 0, berth.stderr);

    assert.match(runc.stdout, /^runc\nuid=0\(root\) gid=0\(root\)\nCapInh:/);
    assert.equal(normalise(berth.stdout), normalise(runc.stdout));
    assert.equal(berth.stderr, runc.stderr);
  });

  test('with runc\'s own terminal setting: a pseudo-terminal through --console-socket reads the same', async (t) => {
    const { bundle, runcRoot, runcId, rt } = pair(t, ['sh', '-c', `${PROBE}; tty; stty size`], true);
    const seen = async (cmd: string, args: string[]): Promise<string> => {
      const tty = await startRecvtty(t);
      const r = await runCommand(cmd, [...args.slice(0, -1), '--console-socket', tty.socket, ...args.slice(-1)], DETACHED);
      assert.equal(r.code, 0, r.stderr);
      assert.equal(await tty.exited, 0, tty.log());
      return tty.output();
    };
    // One after the other: both containers use the same cgroup.
    const runc = await seen('runc', ['--root', runcRoot, 'run', '--detach', '--bundle', bundle, runcId]);
    await waitForExit(runcRoot, runcId);
    assert.equal((await runCommand('runc', ['--root', runcRoot, 'delete', '--force', runcId])).code, 0);
    const berth = await seen(RUNTIME_BIN, ['--root', rt.root, 'run', '--detach', '--bundle', bundle, rt.track(uniqueId())]);

    assert.match(runc, /^runc\r\nuid=0\(root\) gid=0\(root\)\r\n/);
    assert.equal(normalise(berth.replaceAll('\r\n', '\n')), normalise(runc.replaceAll('\r\n', '\n')));
  });
});
