/**
 * Security regressions of the runtime, named after the advisories they
 * guard against (root): mount destinations resolved inside the root, no
 * runtime file descriptor reaching the container, a runtime binary the
 * container cannot overwrite, and commands on one container serialised.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmodSync, closeSync, constants, existsSync, mkdirSync, openSync, readdirSync, readFileSync, readlinkSync, renameSync, rmSync, symlinkSync, writeFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { standaloneHost } from '../../../src/runtime/host/host.ts';
import { acquireLock } from '../../../src/runtime/state/lock.ts';
import { berthOnly, byRuntime, makeBundle, REPO, RUNTIME_BIN, RuntimeFixture, tempDir, uniqueId, waitFor } from '../../helpers/runtime.ts';

const EXECUTOR = join(REPO, 'build', 'berth-exec');
/** berth-runtime's front: the command callers start, and the binary the executors are forked from. */
const FRONT = join(REPO, 'build', 'berth-runtime');

function sha256(path: string): string {
  return createHash('sha256').update(readFileSync(path)).digest('hex');
}

/** The runtime's binaries, fingerprinted. */
function binaries(): string {
  return `${sha256(EXECUTOR)} ${sha256(FRONT)}`;
}

function hostMountPoints(): string[] {
  return readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .map((l) => l.split(' ')[4] ?? '')
    .filter(Boolean);
}

describe('CVE-2021-30465: mount destinations stay inside the root (root)', () => {
  test('absolute and relative symlinks in the image cannot point a mount at the host', async (t) => {
    const rt = new RuntimeFixture(t);
    const host = tempDir(t, 'berth-host-');
    writeFileSync(join(host, 'secret'), 'host data\n');
    const volume = tempDir(t, 'berth-volume-');
    writeFileSync(join(volume, 'marker'), 'volume\n');
    const bundle = makeBundle(t, {
      args: ['sh', '-c', 'cat /abs/marker /rel/marker'],
      edit: (s) => {
        s.mounts!.push({ destination: '/abs', type: 'bind', source: volume, options: ['rbind', 'ro'] });
        s.mounts!.push({ destination: '/rel', type: 'bind', source: volume, options: ['rbind'] });
      },
    });
    // /abs -> the host directory by absolute path; /rel -> the same by climbing out with "..".
    symlinkSync(host, join(bundle.rootfs, 'abs'));
    symlinkSync(`../../../../../../../../..${host}`, join(bundle.rootfs, 'rel'));
    const before = hostMountPoints();

    const r = await rt.runBundle(bundle);
    assert.equal(r.code, 0, r.stderr);
    // Inside, both names lead to the volume mounted inside the root...
    assert.equal(r.stdout, 'volume\nvolume\n');
    // ...and the host directory was neither mounted over nor written.
    assert.deepEqual(hostMountPoints(), before);
    assert.equal(readFileSync(join(host, 'secret'), 'utf8'), 'host data\n');
    // The mount points were created inside the rootfs, under the host path's name.
    assert.ok(existsSync(join(bundle.rootfs, host)), 'the mount point was made inside the root');
  });

  test('a symlink swapped while containers are created never lets a mount out', async (t) => {
    const rt = new RuntimeFixture(t);
    const host = tempDir(t, 'berth-host-');
    writeFileSync(join(host, 'secret'), 'host data\n');
    const bundle = makeBundle(t, {
      args: ['sh', '-c', 'test -f /target/secret && echo ESCAPED; echo done'],
      edit: (s) => s.mounts!.push({ destination: '/target', type: 'tmpfs', source: 'tmpfs', options: ['size=1m'] }),
    });
    // A racer flips rootfs/target between a directory and a symlink to the host directory.
    const target = join(bundle.rootfs, 'target');
    const link = join(bundle.rootfs, 'target.link');
    const dir = join(bundle.rootfs, 'target.dir');
    let racing = true;
    const racer = (async () => {
      while (racing) {
        try {
          rmSync(link, { force: true });
          symlinkSync(host, link);
          renameSync(link, target);
          mkdirSync(dir, { recursive: true });
          rmSync(target, { force: true, recursive: false });
          renameSync(dir, target);
        } catch {
          // The container's mkdir may win a round; keep flipping.
        }
        await new Promise((r) => setImmediate(r));
      }
    })();
    try {
      for (let i = 0; i < 8; i++) {
        const r = await rt.runBundle(bundle);
        assert.doesNotMatch(r.stdout, /ESCAPED/);
        if (r.code === 0) assert.match(r.stdout, /done/);
        assert.equal(readFileSync(join(host, 'secret'), 'utf8'), 'host data\n');
      }
    } finally {
      racing = false;
      await racer;
    }
  });
});

const TMPFS_IN_PROC_IN_RUNC = 'runc 1.1 checks only bind mounts against /proc (checkProcMount): it mounts a tmpfs inside or over /proc';

describe('CVE-2019-16884: nothing is mounted over /proc but proc and lxcfs\'s files (root)', () => {
  test('a mount inside /proc (/proc/self/attr, the AppArmor bypass) is refused by field before anything starts', { skip: berthOnly(TMPFS_IN_PROC_IN_RUNC) }, async (t) => {
    const rt = new RuntimeFixture(t);
    const bundle = makeBundle(t, { edit: (s) => s.mounts!.push({ destination: '/proc/self/attr', type: 'tmpfs', source: 'tmpfs', options: [] }) });
    const r = await rt.runBundle(bundle);
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, /mounts\[7\]\.destination: "\/proc\/self\/attr" is inside \/proc, where only \/proc\/cpuinfo, .* may be mounted/);
    assert.deepEqual(rt.leftovers(), []);
  });

  test('a tmpfs over /proc itself is refused; lxcfs-style files inside it are allowed', { skip: berthOnly(TMPFS_IN_PROC_IN_RUNC) }, async (t) => {
    const rt = new RuntimeFixture(t);
    const tmpfsOverProc = makeBundle(t, { edit: (s) => s.mounts!.push({ destination: '/proc', type: 'tmpfs', source: 'tmpfs', options: [] }) });
    const r = await rt.runBundle(tmpfsOverProc);
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, /mounts\[7\]\.destination: only a proc file system may be mounted on "\/proc"/);
    const host = tempDir(t, 'berth-lxcfs-');
    writeFileSync(join(host, 'uptime'), '1.00 2.00\n');
    const lxcfs = makeBundle(t, {
      args: ['cat', '/proc/uptime'],
      edit: (s) => s.mounts!.push({ destination: '/proc/uptime', type: 'bind', source: join(host, 'uptime'), options: ['bind'] }),
    });
    const ok = await rt.runBundle(lxcfs);
    assert.equal(ok.code, 0, ok.stderr);
    assert.equal(ok.stdout, '1.00 2.00\n');
  });

  test('a symlink in the image cannot lead a mount destination into /proc', { skip: berthOnly(TMPFS_IN_PROC_IN_RUNC) }, async (t) => {
    const rt = new RuntimeFixture(t);
    const bundle = makeBundle(t, {
      args: ['cat', '/proc/self/attr/current'],
      edit: (s) => s.mounts!.push({ destination: '/innocent', type: 'tmpfs', source: 'tmpfs', options: [] }),
    });
    symlinkSync('/proc/self/attr', join(bundle.rootfs, 'innocent'));
    const r = await rt.runBundle(bundle);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /mounts\[7\]: mount tmpfs "tmpfs" on "\/innocent".*resolves inside \/proc/);
    assert.deepEqual(rt.leftovers(), []);
  });

  for (const [fs, dir] of [['proc', 'proc'], ['sysfs', 'sys']] as const) {
    test(`${fs} is not mounted through a symlinked /${dir}`, async (t) => {
      const rt = new RuntimeFixture(t);
      const bundle = makeBundle(t);
      // /<dir> -> /elsewhere: runc refuses to mount there ("must be mounted on ordinary directory").
      rmSync(join(bundle.rootfs, dir), { recursive: true });
      mkdirSync(join(bundle.rootfs, 'elsewhere'));
      symlinkSync('/elsewhere', join(bundle.rootfs, dir));
      const r = await rt.runBundle(bundle);
      assert.notEqual(r.code, 0);
      assert.match(
        r.stderr,
        byRuntime(
          new RegExp(`${fs} must be mounted on an ordinary directory, not through a symlink: "/${dir}"`),
          new RegExp(`filesystem \\\\"${fs}\\\\" must be mounted on ordinary directory`),
        ),
      );
      assert.deepEqual(readdirSync(join(bundle.rootfs, 'elsewhere')), []);
      assert.deepEqual(rt.leftovers(), []);
    });
  }
});

describe('CVE-2024-21626: no runtime file descriptor reaches the container (root)', () => {
  test('the container sees only its stdio, also when the caller leaks descriptors to the runtime', async (t) => {
    const rt = new RuntimeFixture(t);
    const bundle = makeBundle(t, { args: ['ls', '-l', '/proc/self/fd/'] });
    const id = rt.track(uniqueId());
    // The caller leaks two descriptors that are not close-on-exec: a host directory and a file.
    const leakDir = openSync('/sys/fs/cgroup', constants.O_RDONLY | constants.O_DIRECTORY);
    const leakFile = openSync(join(bundle.dir, 'config.json'), 'r');
    t.after(() => {
      closeSync(leakDir);
      closeSync(leakFile);
    });
    const child = spawn(RUNTIME_BIN, ['--root', rt.root, 'run', '--bundle', bundle.dir, id], { stdio: ['ignore', 'pipe', 'pipe', leakDir, leakFile] });
    let out = '';
    let err = '';
    child.stdout?.on('data', (c: Buffer) => (out += c.toString()));
    child.stderr?.on('data', (c: Buffer) => (err += c.toString()));
    const code = await new Promise<number | null>((r) => child.once('close', r));
    assert.equal(code, 0, err);
    const fds = out
      .split('\n')
      .map((l) => /^l\S+\s.*\s(\d+)(?: -> (.*))?$/.exec(l))
      .filter((m): m is RegExpExecArray => m !== null)
      .map((m) => ({ fd: Number(m[1]), target: m[2] ?? '' }));
    // 0, 1, 2 and the directory ls itself is reading.
    assert.deepEqual(
      fds.map((f) => f.fd),
      [0, 1, 2, 3],
      out,
    );
    // fd 3 is ls reading /proc/self/fd (its link may read empty while ls holds it).
    assert.match(fds[3]?.target ?? '', /^(\/proc\/\d+\/fd)?$/);
    for (const f of fds.slice(3)) assert.doesNotMatch(f.target, /cgroup|berth|config\.json|socket:/, `fd ${f.fd} -> ${f.target}`);
  });

  test('--preserve-fds passes exactly the descriptors asked for', async (t) => {
    const rt = new RuntimeFixture(t);
    const bundle = makeBundle(t, { args: ['sh', '-c', 'ls /proc/self/fd/ | tr "\\n" " "; cat <&3'] });
    const id = rt.track(uniqueId());
    const file = join(bundle.dir, 'passed');
    writeFileSync(file, 'through fd 3\n');
    const fd3 = openSync(file, 'r');
    const fd4 = openSync('/sys/fs/cgroup', constants.O_RDONLY | constants.O_DIRECTORY);
    t.after(() => {
      closeSync(fd3);
      closeSync(fd4);
    });
    const child = spawn(RUNTIME_BIN, ['--root', rt.root, 'run', '--preserve-fds', '1', '--bundle', bundle.dir, id], {
      stdio: ['ignore', 'pipe', 'pipe', fd3, fd4],
    });
    let out = '';
    child.stdout?.on('data', (c: Buffer) => (out += c.toString()));
    const code = await new Promise<number | null>((r) => child.once('close', r));
    assert.equal(code, 0);
    // sh, ls: 0 1 2, the preserved 3, and ls's own directory (4); never the caller's fd 4.
    assert.equal(out, '0 1 2 3 4 through fd 3\n');
  });

  for (const cwd of ['/proc/self/fd/3', '/proc/self/fd/4', '/proc/self/fd/5', '/proc/self/fd/6', '/proc/self/fd/7', '/proc/self/fd/8']) {
    test(`a working directory of ${cwd} is refused`, async (t) => {
      const rt = new RuntimeFixture(t);
      const bundle = makeBundle(t, { args: ['sh', '-c', 'pwd; ls ../../..'], edit: (s) => (s.process!.cwd = cwd) });
      const r = await rt.runBundle(bundle);
      assert.notEqual(r.code, 0, `container ran with cwd ${cwd}: ${r.stdout}`);
      assert.match(r.stderr, byRuntime(/working directory/, /mkdir \/proc\/self\/fd\/\d: (not a directory|no such file or directory)/));
      assert.equal(r.stdout, '');
      assert.deepEqual(rt.leftovers(), []);
    });
  }

  test('exec --cwd /proc/self/fd/N is refused too', async (t) => {
    const rt = new RuntimeFixture(t);
    const bundle = makeBundle(t, { args: ['sleep', '1000'] });
    const id = rt.track(uniqueId());
    assert.equal((await rt.run(['run', '-d', '--bundle', bundle.dir, id])).code, 0);
    for (const n of [3, 4, 5, 6, 7]) {
      const r = await rt.run(['exec', '--cwd', `/proc/self/fd/${n}`, id, 'pwd']);
      assert.notEqual(r.code, 0, `exec ran with cwd /proc/self/fd/${n}: ${r.stdout}`);
      assert.equal(r.stdout, '');
    }
  });
});

describe('CVE-2019-5736: the container cannot overwrite the runtime (root)', () => {
  test('the waiting container process runs a sealed copy; writing through its exe fails', { skip: berthOnly('berth-exec\'s sealed copy') }, async (t) => {
    const rt = new RuntimeFixture(t);
    const bundle = makeBundle(t, { args: ['sleep', '1000'] });
    const id = rt.track(uniqueId());
    const before = binaries();
    assert.equal((await rt.run(['create', '--bundle', bundle.dir, id])).code, 0);
    const { pid } = await rt.state(id);
    assert.match(readlinkSync(`/proc/${pid}/exe`), /^\/memfd:berth-exec/);
    // The attack: hold the executor's exe open while it runs, write to it once it has exec'd.
    const held = openSync(`/proc/${pid}/exe`, 'r');
    t.after(() => closeSync(held));
    assert.equal((await rt.run(['start', id])).code, 0);
    await waitFor('the program to replace the executor', () => (readlinkSync(`/proc/${pid}/exe`).includes('memfd') ? undefined : true));
    let wrote = false;
    try {
      const w = openSync(`/proc/self/fd/${held}`, 'w');
      try {
        writeSync(w, 'overwritten');
        wrote = true;
      } finally {
        closeSync(w);
      }
    } catch (err) {
      assert.match((err as Error).message, /EPERM|ETXTBSY|EACCES/);
    }
    assert.equal(wrote, false, 'the sealed copy accepted a write');
    assert.equal(binaries(), before);
  });

  test('a "#!/proc/self/exe" program in the image cannot run the runtime', { skip: berthOnly('berth-exec\'s exit status and words') }, async (t) => {
    const rt = new RuntimeFixture(t);
    const bundle = makeBundle(t, { args: ['/evil'] });
    writeFileSync(join(bundle.rootfs, 'evil'), '#!/proc/self/exe\n');
    chmodSync(join(bundle.rootfs, 'evil'), 0o755);
    const before = binaries();
    const r = await rt.runBundle(bundle);
    // Either the kernel cannot reach the sealed copy through /proc/self/exe, or the copy refuses to run.
    assert.ok(r.code === 127 || r.code === 125, `exit ${r.code}`);
    assert.match(r.stderr, /exec "\/evil": no such file or directory|berth-exec: usage/i);
    assert.equal(binaries(), before);
  });

  test('exec into the container runs the sealed copy and is not dumpable', async (t) => {
    const rt = new RuntimeFixture(t);
    const bundle = makeBundle(t, { args: ['sleep', '1000'] });
    const id = rt.track(uniqueId());
    assert.equal((await rt.run(['run', '-d', '--bundle', bundle.dir, id])).code, 0);
    // From inside, a process tries to read the exe of every other process: the exec'd one included.
    const r = await rt.run(['exec', id, 'sh', '-c', 'for p in /proc/[0-9]*; do readlink $p/exe; done 2>&1 | sort -u']);
    assert.equal(r.code, 0, r.stderr);
    assert.doesNotMatch(r.stdout, /berth-exec|\/work\/|build/);
  });
});

describe('concurrent commands on one container are serialised (root)', () => {
  test('two creates of one id: exactly one wins', { skip: berthOnly('runc 1.1 can lose the winner\'s state when creates of one id race (a loser\'s clean-up removes it)') }, async (t) => {
    const rt = new RuntimeFixture(t);
    const bundle = makeBundle(t, { args: ['sleep', '1000'] });
    const id = rt.track(uniqueId());
    const results = await Promise.all([1, 2, 3].map(() => rt.run(['create', '--bundle', bundle.dir, id])));
    assert.equal(results.filter((r) => r.code === 0).length, 1, results.map((r) => r.stderr).join('\n'));
    for (const r of results.filter((x) => x.code !== 0)) assert.match(r.stderr, /already exists/);
    assert.equal((await rt.state(id)).status, 'created');
  });

  test('start, kill, state and delete racing on one container leave it consistent', async (t) => {
    const rt = new RuntimeFixture(t);
    const bundle = makeBundle(t, { args: ['sleep', '1000'] });
    for (let round = 0; round < 3; round++) {
      const id = rt.track(uniqueId());
      assert.equal((await rt.run(['create', '--bundle', bundle.dir, id])).code, 0);
      const cmds = [['start', id], ['state', id], ['kill', id, 'KILL'], ['start', id], ['delete', '--force', id], ['state', id], ['list']];
      const results = await Promise.all(cmds.map((c) => rt.run(c)));
      for (const r of results) {
        assert.ok(r.code === 0 || r.code === 1, `unexpected exit ${r.code}: ${r.stderr}`);
        assert.doesNotMatch(r.stderr, /TypeError|at .*\.ts:\d+|Unhandled|internal/i);
      }
      // Whatever the interleaving, a final delete leaves nothing.
      await rt.run(['delete', '--force', id]);
      assert.deepEqual(rt.leftovers(), []);
    }
  });

  test('a command waits while another holds the container', { skip: berthOnly('berth-runtime\'s lock') }, async (t) => {
    const rt = new RuntimeFixture(t);
    const bundle = makeBundle(t, { args: ['sleep', '1000'] });
    const id = rt.track(uniqueId());
    assert.equal((await rt.run(['create', '--bundle', bundle.dir, id])).code, 0);
    const lock = await acquireLock(standaloneHost(), rt.root, id);
    let released = false;
    const deleting = rt.run(['delete', '--force', id]).then((r) => ({ r, released }));
    // While the lock is held the container must stay; poll for a while to see it survive.
    for (let i = 0; i < 20; i++) {
      assert.equal((await rt.state(id)).status, 'created');
      await new Promise((r) => setImmediate(r));
    }
    released = true;
    await lock.release();
    const { r, released: afterRelease } = await deleting;
    assert.equal(r.code, 0, r.stderr);
    assert.equal(afterRelease, true);
    assert.deepEqual(rt.leftovers(), []);
  });
});
