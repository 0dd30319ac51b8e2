/**
 * berth-runtime's front (native/front), as root: the process a caller
 * starts runs the command line as its child, forks the executors from a
 * sealed copy of itself, holds the locks, passes signals on and ends as the
 * command line does. Each test looks at the processes themselves (/proc) or
 * at what the container sees.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test, type TestContext } from 'node:test';
import { standaloneHost } from '../../../src/runtime/host/host.ts';
import { acquireLock } from '../../../src/runtime/state/lock.ts';
import { childrenOf, ppidOf } from '../../helpers/processes.ts';
import { berthOnly, makeBundle, pausingHook, RUNTIME_BIN, RuntimeFixture, tempDir, uniqueId, waitFor } from '../../helpers/runtime.ts';

function cmdline(pid: number): string[] {
  return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter(Boolean);
}

/** A foreground `run` whose container prints "ready" and then waits; its front's pid and output. */
function runInForeground(rt: RuntimeFixture, bundleDir: string, id: string): { child: ReturnType<typeof spawn>; out: () => string; exit: Promise<{ code: number | null; signal: NodeJS.Signals | null }> } {
  const child = spawn(RUNTIME_BIN, ['--root', rt.root, 'run', '--bundle', bundleDir, id], { stdio: ['ignore', 'pipe', 'pipe'], env: OWN_NODE });
  let out = '';
  child.stdout?.on('data', (c: Buffer) => (out += c.toString()));
  child.stderr?.on('data', (c: Buffer) => (out += c.toString()));
  // 'exit', not 'close': a container outliving its front keeps the pipes open.
  const exit = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  return { child, out: () => out, exit };
}

/** A container in a foreground `run` that has said "ready"; the front is killed after the test. */
async function readyContainer(t: TestContext, rt: RuntimeFixture, script = 'echo ready; exec sleep 1000'): Promise<{ id: string; bundleDir: string; run: ReturnType<typeof runInForeground> }> {
  const bundle = makeBundle(t, { args: ['sh', '-c', script] });
  const id = rt.track(uniqueId());
  const run = runInForeground(rt, bundle.dir, id);
  t.after(() => run.child.kill('SIGKILL'));
  await waitFor('the container to be ready', () => (run.out().includes('ready') ? true : undefined));
  return { id, bundleDir: bundle.dir, run };
}

/**
 * These tests are of the front with its own Node.js child (a first command, or one a resident does not
 * take): no resident serves a command with this environment. The resident's own are in resident.test.ts.
 */
const OWN_NODE = { ...process.env, BERTH_RUNTIME_RESIDENT: '0' };

describe('berth-runtime front (root)', { skip: berthOnly('berth-runtime\'s native front') }, () => {
  test('the front runs from a sealed copy, its command line is its child, and the executor is forked from it', async (t) => {
    const rt = new RuntimeFixture(t);
    const { id, bundleDir, run } = await readyContainer(t, rt);
    const front = run.child.pid!;
    assert.match(readlinkSync(`/proc/${front}/exe`), /^\/memfd:berth-exec/);
    assert.equal(readFileSync(`/proc/${front}/comm`, 'utf8').trim(), 'berth-runtime');
    // The caller's arguments stay visible in ps.
    assert.deepEqual(cmdline(front).slice(2), ['--root', rt.root, 'run', '--bundle', bundleDir, id]);
    const { pid } = await rt.state(id);
    assert.ok(pid);
    const executor = ppidOf(pid);
    assert.equal(ppidOf(executor), front, 'the waiting executor is a child of the front');
    assert.equal(readFileSync(`/proc/${executor}/comm`, 'utf8').trim(), 'berth-exec');
    assert.equal(cmdline(executor)[0], 'berth-exec');
    assert.match(readlinkSync(`/proc/${executor}/exe`), /^\/memfd:berth-exec/);
    // As if Node.js had spawned it: an empty environment, stdio only.
    assert.equal(readFileSync(`/proc/${executor}/environ`, 'utf8').replaceAll('\0', ''), '');
    assert.deepEqual(readdirSync(`/proc/${executor}/fd`).map(Number).sort((a, b) => a - b), [0, 1, 2]);
    const node = childrenOf(front).find((p) => p !== executor);
    assert.ok(node, 'the command line runs as a child of the front');
    assert.match(readlinkSync(`/proc/${node}/exe`), /node$/);
    assert.ok(cmdline(node).some((a) => a.endsWith('berth-runtime.cjs')));
  });

  test('a signal sent to the front reaches the container through the command line', async (t) => {
    const rt = new RuntimeFixture(t);
    const { run } = await readyContainer(t, rt, 'trap "echo got-usr1; exit 9" USR1; echo ready; while true; do sleep 0.05; done');
    process.kill(run.child.pid!, 'SIGUSR1');
    const { code } = await run.exit;
    assert.equal(code, 9, run.out());
    assert.match(run.out(), /got-usr1/);
  });

  test('the front ends as its command line does: killed by SIGKILL, it dies of SIGKILL', async (t) => {
    const rt = new RuntimeFixture(t);
    const { id, run } = await readyContainer(t, rt);
    const { pid } = await rt.state(id);
    const executor = ppidOf(pid!);
    const node = childrenOf(run.child.pid!).find((p) => p !== executor);
    assert.ok(node);
    process.kill(node, 'SIGKILL');
    const { signal } = await run.exit;
    assert.equal(signal, 'SIGKILL');
  });

  test('the command line starts from the code cache the build trained, and V8 accepts it', async (t) => {
    const rt = new RuntimeFixture(t);
    const bundle = makeBundle(t);
    const r = await rt.run(['run', '--bundle', bundle.dir, rt.track(uniqueId())], { env: { ...process.env, BERTH_TRACE: '1' } });
    assert.equal(r.code, 0, r.stderr);
    const m = /code cache (\w+) \((\d+) bytes, ([^)]+)\)/.exec(r.stderr);
    assert.ok(m, r.stderr);
    assert.equal(m[1], 'accepted');
    // run's own cache, trained on a container's life, not only on what compiles before the first run (~80 KB).
    assert.match(m[3] ?? '', /^berth-runtime-run-/);
    assert.ok(Number(m[2]) > 200_000, `${m[2]} bytes`);
    // A command without a cache of its own takes the shared one.
    const listed = await rt.run(['list'], { env: { ...process.env, BERTH_TRACE: '1' } });
    assert.match(listed.stderr, /code cache accepted \(\d+ bytes, berth-runtime-\d/);
  });

  test('exit codes pass through the front, and an unknown command fails as the command line says', async (t) => {
    const rt = new RuntimeFixture(t);
    const bundle = makeBundle(t, { args: ['sh', '-c', 'exit 42'] });
    assert.equal((await rt.runBundle(bundle)).code, 42);
    const r = await rt.run(['no-such-command']);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /"no-such-command" is not a berth-runtime command/);
  });

  test('hooks the command line runs see neither the front\'s socket nor its variable', async (t) => {
    const rt = new RuntimeFixture(t);
    const log = join(tempDir(t, 'berth-front-'), 'prestart.log');
    const bundle = makeBundle(t, {
      edit: (spec) => {
        spec.hooks = { prestart: [{ path: '/bin/sh', args: ['sh', '-c', `cat >/dev/null; exec >${log}; ls -l /proc/$$/fd; env`] }] };
      },
    });
    const r = await rt.runBundle(bundle);
    assert.equal(r.code, 0, r.stderr);
    const seen = readFileSync(log, 'utf8').split('\n').filter(Boolean);
    // Sockets are its stdio only (Node's pipes); whatever else this test's own caller left open may pass.
    // The shell's own descriptors, listed by ls from outside it: "... 2 -> socket:[123]".
    const sockets = seen.map((l) => /\s(\d+) -> socket:/.exec(l)).filter((m) => m !== null).map((m) => Number(m[1]));
    assert.ok(sockets.length > 0, seen.join('\n'));
    assert.deepEqual(sockets.filter((fd) => fd > 2), [], seen.join('\n'));
    assert.equal(seen.some((l) => l.startsWith('BERTH_FRONT_FD')), false);
  });

  test('a lock the front holds for the command line keeps a library caller out, and is gone when it is done', async (t) => {
    const rt = new RuntimeFixture(t);
    const marker = join(tempDir(t, 'berth-front-'), 'in-create');
    // The createRuntime hook runs while create holds the container's lock.
    const bundle = makeBundle(t, {
      args: ['sleep', '1000'],
      edit: (spec) => {
        spec.hooks = { createRuntime: [pausingHook(marker)] };
      },
    });
    const id = rt.track(uniqueId());
    const creating = rt.run(['create', '--bundle', bundle.dir, id], { env: OWN_NODE });
    await waitFor('create to reach its hook', () => {
      try {
        readFileSync(marker);
        return true;
      } catch {
        return undefined;
      }
    });
    await assert.rejects(acquireLock(standaloneHost(), rt.root, id, 100), /another command still holds the lock/);
    assert.equal((await creating).code, 0);
    const lock = await acquireLock(standaloneHost(), rt.root, id, 1000);
    await lock.release();
  });

  test('the sealed copy serves nobody but its own front: given a process that is not its child, it refuses', async (t) => {
    const rt = new RuntimeFixture(t);
    const { run } = await readyContainer(t, rt);
    // Root reaches the sealed copy through /proc/PID/exe; pid 1 is not its child, fd 0 no socket of its.
    const r = await new Promise<{ code: number | null; stderr: string }>((resolve) => {
      const c = spawn(`/proc/${run.child.pid}/exe`, ['--berth-front-resume=1:0:-1'], { stdio: ['ignore', 'ignore', 'pipe'], timeout: 10_000 });
      let stderr = '';
      c.stderr.on('data', (b: Buffer) => (stderr += b.toString()));
      c.once('close', (code) => resolve({ code, stderr }));
    });
    assert.equal(r.code, 125, r.stderr);
    assert.match(r.stderr, /berth-exec: usage: the sealed copy of berth-runtime runs only as its own front/);
  });
});
