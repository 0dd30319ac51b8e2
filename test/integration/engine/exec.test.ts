/**
 * Exec sessions (src/engine/exec) in busybox containers run the way the
 * engine runs them (berth-monitor's create, then the runtime's start):
 * output through the attachment with its streams apart, the exit code in
 * inspect, -e, -w, -u, -t with resize, -i, -d, refusal in a stopped
 * container, the exec's process killed with its container, and nothing
 * left behind (monitors, run directories). Root only.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync, readlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { isBerthError } from '../../../src/errors.ts';
import { ExecSessions, type ExecStarted } from '../../../src/engine/exec/sessions.ts';
import { attachSocket, type Attached } from '../../../src/engine/monitor/attach.ts';
import { readExit } from '../../../src/engine/monitor/exit-file.ts';
import { runningContainer, type RunningContainer } from '../../helpers/exec-container.ts';
import { alive, monitorPids } from '../../helpers/monitors.ts';
import { type Result, runCommand, waitFor } from '../../helpers/runtime.ts';

interface Output {
  stdout: string;
  stderr: string;
  attached: Attached;
}

function collect(started: ExecStarted, terminal = false): Output {
  assert.ok(started.socket, 'an attached start gives the attachment');
  const out = { stdout: '', stderr: '' } as Output;
  out.attached = attachSocket(started.socket, (stream, b) => (out[stream] += b.toString()), terminal);
  return out;
}

/** The monitors running an exec under this run root. */
function monitorsOf(runRoot: string): number[] {
  return monitorPids().filter((p) => {
    try {
      return readFileSync(`/proc/${p}/cmdline`, 'utf8').includes(`${runRoot}/exec/`);
    } catch {
      return false;
    }
  });
}

/** The exec's run directory is gone and its monitor exited. */
async function leftNothing(r: RunningContainer, started: ExecStarted, execId: string): Promise<void> {
  await started.exited;
  assert.equal(existsSync(join(r.runRoot, 'exec', execId)), false, 'the run directory is removed');
  await waitFor('the exec\'s monitor to exit', () => (alive(started.monitorPid) ? undefined : true));
}

test('output arrives through the attachment, stdout and stderr apart, and inspect reports the exit code', async (t) => {
  const r = await runningContainer(t, 'web');
  const id = r.execs.createExec(r.ctx, { Cmd: ['sh', '-c', 'echo out1; echo err1 >&2; echo out2; exit 3'], AttachStdout: true, AttachStderr: true });
  assert.match(id, /^[0-9a-f]{64}$/);
  assert.equal(r.execs.inspectExec(id).Running, false);
  assert.equal(r.execs.inspectExec(id).ExitCode, null, 'no exit code before the start');
  const started = await r.execs.startExec(id);
  const out = collect(started);
  assert.equal(await started.exited, 3);
  await out.attached.closed;
  assert.equal(out.stdout, 'out1\nout2\n');
  assert.equal(out.stderr, 'err1\n');
  const inspect = r.execs.inspectExec(id);
  assert.equal(inspect.Running, false);
  assert.equal(inspect.ExitCode, 3);
  assert.equal(inspect.Pid, started.pid);
  assert.equal(inspect.ContainerID, r.ctx.id);
  assert.deepEqual(inspect.ProcessConfig, { tty: false, entrypoint: 'sh', arguments: ['-c', 'echo out1; echo err1 >&2; echo out2; exit 3'], privileged: false, user: '' });
  assert.deepEqual(r.execs.execIdsOf(r.ctx.id), [id]);
  await leftNothing(r, started, id);
  await assert.rejects(r.execs.startExec(id), (err) => isBerthError(err, 'exec_already_started'));
});

test('an exec over before its caller reads still gives all its output, and its attachment ends', async (t) => {
  // Before: Node's child_process resumed the unread stream when the monitor's first process exited,
  // so the output was dropped and the stream ended before the caller attached (a health probe hung).
  const r = await runningContainer(t, 'quick');
  const id = r.execs.createExec(r.ctx, { Cmd: ['sh', '-c', 'echo quick; echo also >&2'], AttachStdout: true, AttachStderr: true });
  const started = await r.execs.startExec(id);
  await waitFor('the exec\'s monitor to exit', () => (alive(started.monitorPid) ? undefined : true));
  const out = collect(started);
  let ended = false;
  void out.attached.closed.then(() => (ended = true));
  await waitFor('the attachment to end', () => (ended ? true : undefined));
  assert.equal(out.stdout, 'quick\n');
  assert.equal(out.stderr, 'also\n');
  assert.equal(await started.exited, 0);
});

test('-e adds to the container\'s environment, -w sets the cwd, -u nobody runs with nobody\'s ids', async (t) => {
  const r = await runningContainer(t, 'envs');
  const id = r.execs.createExec(r.ctx, {
    Cmd: ['sh', '-c', 'echo "$FOO|$TERM"; pwd; id -u; id -g; grep -E "^(CapEff|Uid)" /proc/self/status'],
    Env: ['FOO=bar baz', 'TERM=dumb'], WorkingDir: '/tmp', User: 'nobody', AttachStdout: true,
  });
  const started = await r.execs.startExec(id);
  const out = collect(started);
  assert.equal(await started.exited, 0, out.stderr);
  await out.attached.closed;
  const [env, cwd, uid, gid, ...status] = out.stdout.trimEnd().split('\n');
  assert.equal(env, 'bar baz|dumb', '-e FOO is set and TERM replaces the container\'s');
  assert.equal(cwd, '/tmp');
  assert.equal(uid, '65534');
  assert.equal(gid, '65534');
  assert.match(status.join('\n'), /^CapEff:\s+0+$/m, 'nobody has no effective capabilities');
  // The container's own environment is there too (runtime-spec default: PATH).
  const path = r.execs.createExec(r.ctx, { Cmd: ['sh', '-c', 'echo "$PATH"'], AttachStdout: true });
  const second = await r.execs.startExec(path);
  const out2 = collect(second);
  assert.equal(await second.exited, 0);
  await out2.attached.closed;
  assert.match(out2.stdout, /\/bin/);
});

test('-u with a user the container does not have is refused by name', async (t) => {
  const r = await runningContainer(t, 'users');
  const id = r.execs.createExec(r.ctx, { Cmd: ['true'], User: 'nosuchuser' });
  await assert.rejects(r.execs.startExec(id), (err: Error) => {
    assert.ok(isBerthError(err, 'exec_config_invalid'), err.message);
    assert.match(err.message, /container "users".*"nosuchuser"/);
    return true;
  });
  assert.equal(r.execs.inspectExec(id).Running, false);
});

test('bad exec configs are refused with the field named', async (t) => {
  const r = await runningContainer(t, 'configs');
  for (const [config, field] of [
    [{}, 'Cmd'], [{ Cmd: [] }, 'Cmd'], [{ Cmd: 'ls' }, 'Cmd'], [{ Cmd: ['ls'], Env: ['=x'] }, 'Env'],
    [{ Cmd: ['ls'], WorkingDir: 'tmp' }, 'WorkingDir'], [{ Cmd: ['ls'], Tty: 'yes' }, 'Tty'], [{ Cmd: ['ls'], ConsoleSize: [1] }, 'ConsoleSize'],
  ] as const) {
    assert.throws(() => r.execs.createExec(r.ctx, config), (err: Error) => {
      assert.ok(isBerthError(err, 'exec_config_invalid'), err.message);
      assert.match(err.message, new RegExp(`exec config ${field}:`));
      return true;
    });
  }
  assert.throws(() => r.execs.inspectExec('0'.repeat(64)), (err) => isBerthError(err, 'exec_not_found'));
});

test('a program the container does not have fails the start naming it, and inspect says 127; one it cannot run, 126 (dockerd\'s codes)', async (t) => {
  const r = await runningContainer(t, 'missing');
  for (const [cmd, code, exit, why] of [
    ['/no/such/program', 'exec_program_not_found', 127, /container "missing": cannot exec "\/no\/such\/program": program "\/no\/such\/program": no such file or directory/],
    ['no-such-program', 'exec_program_not_found', 127, /cannot exec "no-such-program": executable file "no-such-program" not found in \$PATH/],
    ['/etc/passwd', 'exec_program_not_runnable', 126, /cannot exec "\/etc\/passwd": .*permission denied/],
  ] as const) {
    const id = r.execs.createExec(r.ctx, { Cmd: [cmd] });
    await assert.rejects(r.execs.startExec(id), (err: Error) => {
      assert.ok(isBerthError(err, code), err.message);
      assert.match(err.message, why);
      return true;
    });
    assert.equal(r.execs.inspectExec(id).ExitCode, exit, cmd);
    assert.equal(existsSync(join(r.runRoot, 'exec', id)), false);
  }
  await waitFor('the failed execs\' monitors to exit', () => (monitorsOf(r.runRoot).length === 0 ? true : undefined));
});

test('a working directory the container does not have fails the start naming the container and the directory, and inspect says 126', async (t) => {
  const r = await runningContainer(t, 'nodir');
  const id = r.execs.createExec(r.ctx, { Cmd: ['true'], WorkingDir: '/no/such/dir', AttachStdout: true });
  await assert.rejects(r.execs.startExec(id), (err: Error) => {
    assert.ok(isBerthError(err, 'runtime_exec_failed'), err.message);
    assert.match(err.message, /container "nodir": exec: .*"\/no\/such\/dir".*no such file or directory/);
    return true;
  });
  assert.equal(r.execs.inspectExec(id).ExitCode, 126);
  assert.equal(existsSync(join(r.runRoot, 'exec', id)), false);
  await waitFor('the failed exec\'s monitor to exit', () => (monitorsOf(r.runRoot).length === 0 ? true : undefined));
});

test('with another OCI runtime (its exec command under the monitor), a command that cannot run fails the start with the runtime\'s message, and inspect says 126', async (t) => {
  const r = await runningContainer(t, 'missing-cmd', { runtimeCommand: true });
  const id = r.execs.createExec(r.ctx, { Cmd: ['/no/such/program'] });
  await assert.rejects(r.execs.startExec(id), (err: Error) => {
    assert.ok(isBerthError(err, 'runtime_exec_failed'), err.message);
    assert.match(err.message, /no\/such\/program/);
    return true;
  });
  assert.equal(r.execs.inspectExec(id).ExitCode, 126);
  assert.equal(existsSync(join(r.runRoot, 'exec', id)), false);
  // And it runs what it can, with its output and code.
  const ok = r.execs.createExec(r.ctx, { Cmd: ['sh', '-c', 'echo via-runtime; exit 4'], AttachStdout: true });
  const started = await r.execs.startExec(ok);
  const out = collect(started);
  assert.equal(await started.exited, 4);
  await out.attached.closed;
  assert.equal(out.stdout, 'via-runtime\n');
  await leftNothing(r, started, ok);
});

test('-t gives the process a terminal, and resize reaches it', async (t) => {
  const r = await runningContainer(t, 'tty');
  const id = r.execs.createExec(r.ctx, { Cmd: ['sh', '-c', 'test -t 0 && echo "is a tty $TERM"; read x; stty size'], Tty: true, AttachStdin: true, AttachStdout: true });
  const started = await r.execs.startExec(id, { tty: true });
  const out = collect(started, true);
  await waitFor('the tty line', () => (out.stdout.includes('is a tty xterm') ? true : undefined));
  r.execs.resizeExec(id, 40, 100);
  out.attached.write('go\r');
  assert.equal(await started.exited, 0);
  await out.attached.closed;
  assert.match(out.stdout, /40 100/);
  assert.equal(out.stderr, '', 'a terminal\'s output is all on stdout');
  assert.throws(() => r.execs.resizeExec(id, 10, 10), (err) => isBerthError(err, 'exec_not_running'));
});

test('a terminal\'s last output, written just before the process exits, reaches the attachment every time', async (t) => {
  // The exit (SIGCHLD) can wake the monitor before the output crosses the pty: it must poll once more before closing.
  const r = await runningContainer(t, 'ttylast');
  for (let i = 0; i < 25; i++) {
    const id = r.execs.createExec(r.ctx, { Cmd: ['sh', '-c', `echo last-${i}`], Tty: true, AttachStdout: true });
    const started = await r.execs.startExec(id, { tty: true });
    const out = collect(started, true);
    assert.equal(await started.exited, 0);
    await out.attached.closed;
    assert.equal(out.stdout, `last-${i}\r\n`, `exec ${i}`);
  }
});

test('-i: what the client sends is the process\'s stdin, and ending it ends the input', async (t) => {
  const r = await runningContainer(t, 'stdin');
  const id = r.execs.createExec(r.ctx, { Cmd: ['sh', '-c', 'cat; echo "eof seen" >&2'], AttachStdin: true, AttachStdout: true, AttachStderr: true });
  const started = await r.execs.startExec(id);
  const out = collect(started);
  out.attached.write('hello\n');
  await waitFor('the echo', () => (out.stdout === 'hello\n' ? true : undefined));
  out.attached.write('second line');
  out.attached.endInput();
  assert.equal(await started.exited, 0);
  await out.attached.closed;
  assert.equal(out.stdout, 'hello\nsecond line', 'output after the input ended still arrives');
  assert.equal(out.stderr, 'eof seen\n');
  assert.equal(r.execs.inspectExec(id).OpenStdin, true);
});

test('-d returns while the process runs; the process is the monitor\'s and is killed with the container', async (t) => {
  const r = await runningContainer(t, 'detached');
  const id = r.execs.createExec(r.ctx, { Cmd: ['sh', '-c', 'exec sleep 1000'] });
  const started = await r.execs.startExec(id, { detach: true });
  assert.equal(started.socket, undefined, 'no attachment when detached');
  await waitFor('the process to run its command', () => (readFileSync(`/proc/${started.pid}/cmdline`, 'utf8') === 'sleep\x001000\x00' ? true : undefined));
  const inspect = r.execs.inspectExec(id);
  assert.equal(inspect.Running, true);
  assert.equal(inspect.ExitCode, null);
  const ppid = Number(/^PPid:\s+(\d+)/m.exec(readFileSync(`/proc/${started.pid}/status`, 'utf8'))?.[1]);
  assert.ok(readlinkSync(`/proc/${ppid}/exe`).endsWith('/berth-monitor'), 'the exec\'d process is its monitor\'s child');
  await r.kill();
  assert.equal(alive(started.pid), false);
  assert.equal(r.execs.inspectExec(id).Running, false);
  assert.equal(r.execs.inspectExec(id).ExitCode, 137, 'killed by SIGKILL with its container');
  await leftNothing(r, started, id);
});

test('exec in a stopped container is refused, naming the container', async (t) => {
  const r = await runningContainer(t, 'stopped-one');
  const early = r.execs.createExec(r.ctx, { Cmd: ['true'] });
  await r.kill();
  assert.throws(() => r.execs.createExec(r.ctx, { Cmd: ['true'] }), (err: Error) => {
    assert.ok(isBerthError(err, 'exec_container_not_running'), err.message);
    assert.match(err.message, /container "stopped-one": cannot exec: it is not running \(exited\)/);
    return true;
  });
  await assert.rejects(r.execs.startExec(early), (err) => isBerthError(err, 'exec_container_not_running'));
  r.execs.forgetContainer(r.ctx.id);
  assert.throws(() => r.execs.inspectExec(early), (err) => isBerthError(err, 'exec_not_found'));
});

test('a container the runtime finds paused before the engine knew refuses the exec as paused, and leaves nothing', async (t) => {
  const r = await runningContainer(t, 'frozen');
  const runtime = (verb: string): Promise<Result> => runCommand(r.ctx.runtime, ['--root', r.ctx.runtimeRoot, verb, r.ctx.id]);
  assert.equal((await runtime('pause')).code, 0);
  const id = r.execs.createExec(r.ctx, { Cmd: ['true'] });
  await assert.rejects(r.execs.startExec(id), (err: Error) => {
    assert.ok(isBerthError(err, 'exec_container_not_running'), err.message);
    assert.match(err.message, /container "frozen": cannot exec: it is paused/);
    return true;
  });
  assert.equal(existsSync(join(r.runRoot, 'exec', id)), false);
  assert.deepEqual(monitorsOf(r.runRoot), []);
  assert.equal((await runtime('resume')).code, 0, 'resumed before the cleanup deletes it');
});

test('a restarted daemon sweeps the run directories of execs whose monitors are gone, and keeps those still running', async (t) => {
  const r = await runningContainer(t, 'sweep');
  const id = r.execs.createExec(r.ctx, { Cmd: ['sleep', '1000'] });
  const started = await r.execs.startExec(id, { detach: true });
  r.execs.close();  // the daemon is gone: nobody watches this exec any more
  const stale = join(r.runRoot, 'exec', 'e'.repeat(64));
  mkdirSync(stale);
  writeFileSync(join(stale, 'attach'), '');  // a monitor killed before it could unlink its socket
  const next = new ExecSessions({ runRoot: r.runRoot });
  assert.deepEqual(next.sweepLeftovers(), ['e'.repeat(64)]);
  assert.ok(existsSync(join(r.runRoot, 'exec', id)), 'a running exec\'s directory stays');
  process.kill(started.pid, 'SIGKILL');
  await waitFor('the exit record', () => readExit(join(r.runRoot, 'exec', id)));
  assert.deepEqual(next.sweepLeftovers(), [id]);
  assert.equal(existsSync(join(r.runRoot, 'exec', id)), false);
  await waitFor('the exec\'s monitor to exit', () => (alive(started.monitorPid) ? undefined : true));
});

test('no monitor is left after the tests', async () => {
  await waitFor('every monitor to exit', () => (monitorPids().length === 0 ? true : undefined));
});
