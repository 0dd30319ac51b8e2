/**
 * podman (Debian's) drives berth-runtime as its OCI runtime, configured in
 * containers.conf the way a user would, with podman's own generated
 * configs: run --rm, run -d, exec, exec -it, logs, stop, rm, a terminal
 * through conmon's console socket, --cap-add, --read-only, --tmpfs, --user,
 * and OCI hooks chosen by annotation. Each asserts what the container sees. This machine lacks
 * CAP_SYS_RESOURCE, so podman's default rlimits (1048576 open files and
 * processes) cannot be granted: the configuration lowers them, and a test
 * checks that asking for more fails with a clear message instead.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test, type TestContext } from 'node:test';
import { makeRootfs, REPO, runCommand, tempDir, uniqueId } from '../helpers/runtime.ts';

const RUNTIME = join(REPO, 'build', 'berth-runtime.cjs');

class Podman {
  readonly dir: string;
  private readonly env: NodeJS.ProcessEnv;

  constructor(t: TestContext) {
    this.dir = tempDir(t, 'berth-podman-');
    const conf = join(this.dir, 'containers.conf');
    writeFileSync(
      conf,
      [
        '[containers]',
        'default_ulimits = ["nofile=1024:1024", "nproc=1024:1024"]',
        '[engine]',
        'cgroup_manager = "cgroupfs"',
        'events_logger = "file"',
        `runtime = "berth"`,
        '[engine.runtimes]',
        `berth = ["${RUNTIME}"]`,
        '',
      ].join('\n'),
    );
    this.env = { ...process.env, CONTAINERS_CONF: conf };
    // Containers first, then images, then the storage (its overlay mounts) go.
    t.after(async () => {
      await this.run(['rm', '--all', '--force', '--time', '0']);
      await this.run(['rmi', '--all', '--force']);
      await runCommand('sh', ['-c', `grep -o " ${this.dir}[^ ]*" /proc/self/mountinfo | sort -r | xargs -r -n1 umount -l`]);
    });
  }

  run(args: readonly string[], timeoutMs = 120_000, input?: string): ReturnType<typeof runCommand> {
    return runCommand(
      'podman',
      ['--root', join(this.dir, 'storage'), '--runroot', join(this.dir, 'run'), '--tmpdir', join(this.dir, 'tmp'), ...args],
      { env: this.env, timeoutMs, ...(input === undefined ? {} : { input }) },
    );
  }

  async importBusybox(t: TestContext): Promise<string> {
    const src = tempDir(t, 'berth-podman-image-');
    const rootfs = makeRootfs(src);
    const tar = join(src, 'rootfs.tar');
    execFileSync('tar', ['-C', rootfs, '-cf', tar, '.']);
    const name = `localhost/berth-busybox:${uniqueId('img')}`;
    const r = await this.run(['import', tar, name]);
    assert.equal(r.code, 0, r.stderr);
    return name;
  }
}

describe('podman with berth-runtime as its OCI runtime (root)', () => {
  let image = '';
  let podman: Podman;

  // Suite-wide fixtures: their cleanups run when the suite ends, also after a failure.
  const cleanups: (() => unknown)[] = [];
  const suite = { after: (fn: () => unknown) => cleanups.push(fn) } as unknown as TestContext;
  after(async () => {
    for (const fn of cleanups.reverse()) await fn();
  });

  before(async () => {
    podman = new Podman(suite);
    image = await podman.importBusybox(suite);
  });

  test('podman info names berth-runtime', async () => {
    const r = await podman.run(['info', '--format', '{{.Host.OCIRuntime.Name}} {{.Host.OCIRuntime.Path}}']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout.trim(), `berth ${RUNTIME}`);
  });

  test('podman run --rm prints the container output', async () => {
    const r = await podman.run(['run', '--rm', '--network', 'none', image, 'sh', '-c', 'echo hello from $(hostname); id -u']);
    assert.equal(r.code, 0, r.stderr);
    const [hello, uid] = r.stdout.trim().split('\n');
    assert.match(hello ?? '', /^hello from [0-9a-f]{12}$/);
    assert.equal(uid, '0');
    const ps = await podman.run(['ps', '--all', '--quiet']);
    assert.equal(ps.stdout.trim(), '');
  });

  test('podman run --rm passes the exit code through', async () => {
    const r = await podman.run(['run', '--rm', '--network', 'none', image, 'sh', '-c', 'exit 3']);
    assert.equal(r.code, 3);
  });

  test('podman run -d, exec, logs, stop, rm', async () => {
    const name = uniqueId('web');
    const started = await podman.run(['run', '-d', '--network', 'none', '--name', name, image, 'sh', '-c', 'echo started; trap "echo bye; exit 0" TERM; while true; do sleep 0.1; done']);
    assert.equal(started.code, 0, started.stderr);
    const id = started.stdout.trim();
    assert.match(id, /^[0-9a-f]{64}$/);

    const running = await podman.run(['inspect', '--format', '{{.State.Status}} {{.State.Pid}}', name]);
    const [status, pid] = running.stdout.trim().split(' ');
    assert.equal(status, 'running');
    // The container's init is the process podman reports, in its own pid namespace.
    assert.notEqual(execFileSync('readlink', [`/proc/${pid}/ns/pid`]).toString(), execFileSync('readlink', ['/proc/self/ns/pid']).toString());

    const exec = await podman.run(['exec', name, 'sh', '-c', 'echo exec in $(hostname); cat /proc/1/cmdline | tr "\\0" " "']);
    assert.equal(exec.code, 0, exec.stderr);
    assert.match(exec.stdout, new RegExp(`^exec in ${id.slice(0, 12)}\\n`));
    assert.match(exec.stdout, /sh -c echo started/);
    const execCode = await podman.run(['exec', name, 'sh', '-c', 'exit 5']);
    assert.equal(execCode.code, 5);

    const stopped = await podman.run(['stop', '--time', '10', name]);
    assert.equal(stopped.code, 0, stopped.stderr);
    const exited = await podman.run(['inspect', '--format', '{{.State.Status}} {{.State.ExitCode}}', name]);
    assert.equal(exited.stdout.trim(), 'exited 0');
    const logs = await podman.run(['logs', name]);
    assert.equal(logs.stdout, 'started\nbye\n');

    const rm = await podman.run(['rm', name]);
    assert.equal(rm.code, 0, rm.stderr);
    const ps = await podman.run(['ps', '--all', '--quiet']);
    assert.equal(ps.stdout.trim(), '');
  });

  test('podman run -t gets a terminal through the console socket', async () => {
    const r = await podman.run(['run', '--rm', '-t', '--network', 'none', image, 'sh', '-c', 'tty; echo tty-ok']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^\/dev\/pts\/\d+\r\ntty-ok\r\n$/);
  });

  test('podman exec -it: a terminal with stdin passed in', async () => {
    const name = uniqueId('tty');
    const started = await podman.run(['run', '-d', '--network', 'none', '--name', name, image, 'sleep', '1000']);
    assert.equal(started.code, 0, started.stderr);
    const r = await podman.run(['exec', '-it', name, 'sh', '-c', 'read x; echo "got $x"; tty'], 60_000, 'hello\n');
    assert.equal(r.code, 0, r.stderr);
    // The terminal echoes what it is sent, then the answer, with its line endings.
    assert.match(r.stdout, /^hello\r\ngot hello\r\n\/dev\/pts\/\d+\r\n$/);
    const rm = await podman.run(['rm', '--force', '--time', '0', name]);
    assert.equal(rm.code, 0, rm.stderr);
  });

  test('podman run --cap-add: the capability is there and works; without it, not', async () => {
    const netAdmin = 1n << 12n;
    const probe = 'grep ^CapEff /proc/self/status; ip link set lo down 2>&1 && echo lo-down';
    const without = await podman.run(['run', '--rm', '--network', 'none', image, 'sh', '-c', probe]);
    const withCap = await podman.run(['run', '--rm', '--network', 'none', '--cap-add', 'NET_ADMIN', image, 'sh', '-c', probe]);
    assert.equal(withCap.code, 0, withCap.stderr);
    const eff = (out: string): bigint => BigInt(`0x${/CapEff:\s*([0-9a-f]+)/.exec(out)?.[1] ?? '0'}`);
    assert.equal(eff(without.stdout) & netAdmin, 0n);
    assert.match(without.stdout, /Operation not permitted/);
    assert.equal(eff(withCap.stdout), eff(without.stdout) | netAdmin);
    assert.match(withCap.stdout, /\nlo-down\n$/);
  });

  test('podman run --read-only: "/" refuses writes, podman\'s /tmp tmpfs takes them', async () => {
    const r = await podman.run(['run', '--rm', '--network', 'none', '--read-only', image, 'sh', '-c', 'touch /x 2>&1; touch /tmp/y && echo tmp-ok; grep " / " /proc/self/mountinfo']);
    assert.equal(r.code, 0, r.stderr);
    const [touch, tmp, root] = r.stdout.trim().split('\n');
    assert.match(touch ?? '', /Read-only file system/);
    assert.equal(tmp, 'tmp-ok');
    assert.match(root ?? '', /^\S+ \S+ \S+ \/ \/ ro[, ]/);
  });

  test('podman run --tmpfs: a tmpfs with the size and mode asked for', async () => {
    const r = await podman.run(['run', '--rm', '--network', 'none', '--tmpfs', '/scratch:size=1m,mode=1777', image, 'sh', '-c', 'grep " /scratch " /proc/self/mountinfo; stat -c %a /scratch; touch /scratch/f && echo written']);
    assert.equal(r.code, 0, r.stderr);
    const [mount, mode, written] = r.stdout.trim().split('\n');
    assert.match(mount ?? '', / \/scratch rw,.* - tmpfs tmpfs rw,size=1024k/);
    assert.equal(mode, '1777');
    assert.equal(written, 'written');
  });

  test('podman run --tmpfs over a directory of the image: it starts with what was there (podman\'s tmpcopyup)', async () => {
    const r = await podman.run(['run', '--rm', '--network', 'none', '--tmpfs', '/etc', image, 'sh', '-c', 'ls /etc; grep " /etc " /proc/self/mountinfo | cut -d" " -f9; id']);
    assert.equal(r.code, 0, r.stderr);
    const lines = r.stdout.trim().split('\n');
    for (const f of ['group', 'passwd']) assert.ok(lines.includes(f), `/etc/${f} in ${r.stdout}`);
    assert.ok(lines.includes('tmpfs'), r.stdout);
    // Names from the copied /etc/passwd and /etc/group.
    assert.equal(lines.at(-1), 'uid=0(root) gid=0(root)');
  });

  test('podman run --user: the ids asked for, in every slot', async () => {
    const r = await podman.run(['run', '--rm', '--network', 'none', '--user', '1000:1001', image, 'sh', '-c', 'id -u; id -g; grep -E "^(Uid|Gid):" /proc/self/status']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, '1000\n1001\nUid:\t1000\t1000\t1000\t1000\nGid:\t1001\t1001\t1001\t1001\n');
  });

  test('OCI hooks picked by annotation run with the state, annotations included; without the annotation, not at all', async (t) => {
    const hooks = tempDir(t, 'berth-podman-hooks-');
    const log = join(tempDir(t, 'berth-podman-hook-out-'), 'states');
    writeFileSync(
      join(hooks, 'berth.json'),
      JSON.stringify({
        version: '1.0.0',
        hook: { path: '/bin/sh', args: ['sh', '-c', `cat >> ${log}; echo >> ${log}`] },
        when: { annotations: { '^berth\\.test$': '^yes$' } },
        stages: ['prestart', 'poststop'],
      }),
    );
    const plain = await podman.run(['--hooks-dir', hooks, 'run', '--rm', '--network', 'none', image, 'true']);
    assert.equal(plain.code, 0, plain.stderr);
    assert.equal(existsSync(log), false, 'the hook ran without its annotation');
    const r = await podman.run(['--hooks-dir', hooks, 'run', '--rm', '--network', 'none', '--annotation', 'berth.test=yes', image, 'true']);
    assert.equal(r.code, 0, r.stderr);
    const states = readFileSync(log, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { id: string; status: string; annotations?: Record<string, string> });
    assert.deepEqual(states.map((s) => s.status), ['creating', 'stopped']);
    for (const s of states) {
      assert.match(s.id, /^[0-9a-f]{64}$/);
      assert.equal(s.annotations?.['berth.test'], 'yes');
    }
  });

  test('a limit above what the runtime may grant fails clearly', async () => {
    const r = await podman.run(['run', '--rm', '--network', 'none', '--ulimit', 'nofile=1048576:1048576', image, 'true']);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /set RLIMIT_NOFILE to soft 1048576, hard 1048576/);
    assert.match(r.stderr, /CAP_SYS_RESOURCE/);
  });
});
