/**
 * podman (Debian's) drives berth-runtime as its OCI runtime, configured in
 * containers.conf the way a user would: run --rm, run -d, exec, logs, stop,
 * rm and a terminal through conmon's console socket. This machine lacks
 * CAP_SYS_RESOURCE, so podman's default rlimits (1048576 open files and
 * processes) cannot be granted: the configuration lowers them, and a test
 * checks that asking for more fails with a clear message instead.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
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

  run(args: readonly string[], timeoutMs = 120_000): ReturnType<typeof runCommand> {
    return runCommand(
      'podman',
      ['--root', join(this.dir, 'storage'), '--runroot', join(this.dir, 'run'), '--tmpdir', join(this.dir, 'tmp'), ...args],
      { env: this.env, timeoutMs },
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

  test('a limit above what the runtime may grant fails clearly', async () => {
    const r = await podman.run(['run', '--rm', '--network', 'none', '--ulimit', 'nofile=1048576:1048576', image, 'true']);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /set RLIMIT_NOFILE to soft 1048576, hard 1048576/);
    assert.match(r.stderr, /CAP_SYS_RESOURCE/);
  });
});
