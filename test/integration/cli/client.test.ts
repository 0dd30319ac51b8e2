/**
 * berth's client (native/client) and berthd's command socket
 * (src/cli/berthd/cli-server.ts), as root: a container command that needs
 * nothing of the caller but its output runs inside berthd (the client
 * starts no Node.js), with the caller's output, exit code, environment and
 * working directory; a caller or a command berthd does not take (another
 * mount namespace, another environment, a terminal or stdin, another
 * daemon, help) runs in the client's own Node.js, with the same result.
 * Which way a command went is read in berthd's log ("client command").
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdirSync, readlinkSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { BERTH, runCommand, show, startDaemon, until, type CliOptions, type CliResult, type TestDaemon } from '../../helpers/daemon.ts';

let d: TestDaemon;
before(async () => {
  d = await startDaemon();
});
after(async () => {
  await d?.stop();
});

const served = (): number => d.log().split('\n').filter((l) => l.includes('"msg":"client command"')).length;

/** Runs `berth ARGS` (with `wrapper` before it) and says whether berthd ran it. */
async function berth(args: readonly string[], options: CliOptions & { wrapper?: readonly string[] } = {}): Promise<CliResult & { inDaemon: boolean }> {
  const before_ = served();
  const argv = [...(options.wrapper ?? []), BERTH, '--root', d.root, '--run-root', d.runRoot, ...args];
  const r = await runCommand(argv[0]!, argv.slice(1), options);
  // berthd logs a command it ran before it answers the client's last frame.
  return { ...r, inDaemon: served() > before_ };
}

test("the daemon's command socket is root's alone", () => {
  const st = statSync(join(d.runRoot, 'cli.sock'));
  assert.ok(st.isSocket());
  assert.equal(st.uid, 0);
  assert.equal(st.mode & 0o777, 0o600);
});

test('run and ps run inside berthd: output, stderr and the exit code are the container\'s', async () => {
  const r = await berth(['run', '--rm', '--network', 'none', 'busybox', 'sh', '-c', 'echo to-out; echo to-err >&2; exit 7']);
  assert.equal(r.code, 7, show(r));
  assert.equal(r.stdout, 'to-out\n');
  assert.equal(r.stderr, 'to-err\n');
  assert.equal(r.inDaemon, true, 'berthd ran the command');
  const ps = await berth(['ps', '-a', '--format', '{{.Names}}']);
  assert.equal(ps.code, 0, show(ps));
  assert.equal(ps.inDaemon, true);
  // A failure is reported as the own process reports it: exit 125, named.
  const bad = await berth(['run', '--rm', '--memory', 'lots', 'busybox', 'true']);
  assert.equal(bad.code, 125, show(bad));
  assert.match(bad.stderr, /--memory/);
  assert.equal(bad.inDaemon, true);
});

test("the caller's environment and working directory, not berthd's, are the command's", async () => {
  const dir = join(d.scratch, 'client-cwd');
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'vars.env'), 'FROM_FILE=file-value\n');
  const r = await berth(['run', '--rm', '--network', 'none', '-e', 'FROM_CALLER', '--env-file', 'vars.env', 'busybox', 'sh', '-c', 'echo "$FROM_CALLER $FROM_FILE"'], {
    cwd: dir,
    env: { ...process.env, FROM_CALLER: 'caller-value' },
  });
  assert.equal(r.code, 0, show(r));
  assert.equal(r.stdout, 'caller-value file-value\n');
  assert.equal(r.inDaemon, true);
});

test("a caller berthd does not take gets its own Node.js, with the same result", async (t) => {
  const cases: [string, readonly string[], CliOptions & { wrapper?: readonly string[] }][] = [
    ['another mount namespace', ['run', '--rm', '--network', 'none', 'busybox', 'echo', 'x'], { wrapper: ['unshare', '--mount'] }],
    ['another BERTH_ variable', ['run', '--rm', '--network', 'none', 'busybox', 'echo', 'x'], { env: { ...process.env, BERTH_CLIENT_TEST: '1' } }],
    ['stdin (-i)', ['run', '--rm', '-i', '--network', 'none', 'busybox', 'cat'], { input: 'x\n' }],
    ['a command that is not a container one', ['images'], {}],
  ];
  for (const [what, args, options] of cases) {
    await t.test(what, async () => {
      const r = await berth(args, options);
      assert.equal(r.code, 0, show(r));
      assert.equal(r.inDaemon, false, 'the client ran it itself');
      if (args[0] === 'run') assert.equal(r.stdout, 'x\n');
    });
  }
});

test('a client that names another daemon (--socket) is not served by the one whose run root it gives', async () => {
  const other = await startDaemon();
  try {
    const before_ = served();
    const r = await runCommand(BERTH, ['--root', other.root, '--run-root', d.runRoot, '--socket', other.socket, 'ps', '-a', '-q']);
    assert.equal(r.code, 0, show(r));
    assert.equal(served(), before_, 'this daemon did not run it');
  } finally {
    await other.stop();
  }
});

test('a client served by berthd is the client binary throughout: no Node.js is started for it', async () => {
  const child = spawn(BERTH, ['--root', d.root, '--run-root', d.runRoot, 'run', '--rm', '--network', 'none', 'busybox', 'sleep', '2'], { stdio: 'ignore' });
  const exited = new Promise((r) => child.once('exit', r));
  try {
    await until('the container to run', async () => ((await d.ok(['ps', '-q'])).trim() !== '' ? true : undefined));
    assert.match(readlinkSync(`/proc/${child.pid}/exe`), /\/berth-client$/);
  } finally {
    await exited;
  }
});
