/**
 * The resident command line (src/cli/berth-runtime/resident.ts), as root:
 * a command that finds none starts one; the next commands of a caller that
 * sees the system as the resident does run in it (the front starts no
 * Node.js and forks the executor itself), with the caller's working
 * directory, output, signals and exit code; a caller that does not (another
 * mount namespace, umask, capability set or environment) gets its own
 * Node.js as before. Each test looks at the processes (/proc) or at what
 * the container and the caller see.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, readFileSync, readlinkSync, realpathSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, test, type TestContext } from 'node:test';
import { childrenOf, ppidOf } from '../../helpers/processes.ts';
import { residentDiagnostics, residentPid, residentSocket, stopResident } from '../../helpers/resident.ts';
import { standaloneHost } from '../../../src/runtime/host/host.ts';
import { acquireLock } from '../../../src/runtime/state/lock.ts';
import { berthOnly, makeBundle, parkedHookPid, parkingHook, pausingHook, runCommand, RUNTIME_BIN, RuntimeFixture, tempDir, uniqueId, waitFor } from '../../helpers/runtime.ts';

type Exit = { code: number | null; signal: NodeJS.Signals | null };

/** A foreground `run` started through `wrapper` (argv before berth-runtime's), whose container said "ready". */
async function foregroundRun(
  t: TestContext,
  rt: RuntimeFixture,
  script: string,
  options: { wrapper?: readonly string[]; env?: NodeJS.ProcessEnv } = {},
): Promise<{ front: number; out: () => string; exit: Promise<Exit>; id: string; kill: (s: NodeJS.Signals) => void }> {
  const bundle = makeBundle(t, { args: ['sh', '-c', script] });
  const id = rt.track(uniqueId());
  const argv = [...(options.wrapper ?? []), RUNTIME_BIN, '--root', rt.root, 'run', '--bundle', bundle.dir, id];
  const child = spawn(argv[0]!, argv.slice(1), { stdio: ['ignore', 'pipe', 'pipe'], env: options.env ?? process.env });
  let out = '';
  child.stdout.on('data', (c: Buffer) => (out += c.toString()));
  child.stderr.on('data', (c: Buffer) => (out += c.toString()));
  const exit = new Promise<Exit>((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  t.after(() => child.kill('SIGKILL'));
  await waitFor(`the container to be ready (output so far: ${JSON.stringify(out)})`, () => (out.includes('ready') ? true : undefined));
  return { front: child.pid!, out: () => out, exit, id, kill: (s) => child.kill(s) };
}

function isNode(pid: number): boolean {
  try {
    return readlinkSync(`/proc/${pid}/exe`).endsWith('/node');
  } catch {
    return false;
  }
}

/** Whether the front `front` (a foreground run's) ran its command line as a Node.js child of its own. */
function ownNodeChild(front: number): boolean {
  return childrenOf(front).some(isNode);
}

/** A resident of this build, started by a first command with this environment. */
async function freshResident(rt: RuntimeFixture, env: NodeJS.ProcessEnv = process.env): Promise<number> {
  await stopResident();
  const first = await rt.run(['state', 'no-such-container'], { env });
  assert.equal(first.code, 1, first.stderr);
  try {
    return await waitFor('a resident to listen', () => (existsSync(residentSocket()) ? residentPid() : undefined));
  } catch (err) {
    throw new Error(`${(err as Error).message} (${residentDiagnostics()}; the first command said ${JSON.stringify(first.stderr)})`, { cause: err });
  }
}

describe('berth-runtime resident command line (root)', { skip: berthOnly("berth-runtime's own resident command line") }, () => {
  after(() => stopResident());

  test('a first command starts a resident; the next runs in it, the front forking the executor, with the output and exit code the caller expects', async (t) => {
    const rt = new RuntimeFixture(t);
    const resident = await freshResident(rt);
    const run = await foregroundRun(t, rt, 'echo ready; exec sleep 1000');
    assert.equal(ownNodeChild(run.front), false, 'the front started no Node.js of its own');
    assert.match(readlinkSync(`/proc/${run.front}/exe`), /^\/memfd:berth-exec/, 'a command that forks an executor is served from the sealed copy');
    const { pid } = await rt.state(run.id);
    assert.ok(pid);
    const executor = ppidOf(pid);
    assert.deepEqual(childrenOf(run.front), [executor], 'the executor is the front\'s only child: the container is the caller\'s descendant');
    assert.equal(residentPid(), resident, 'the same resident still serves');
    // An error's text and exit code reach the caller through the front.
    const missing = await rt.run(['state', 'no-such-container']);
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /container "no-such-container": does not exist/);
    const listed = await rt.run(['list', '--format', 'json']);
    assert.equal(listed.code, 0, listed.stderr);
    assert.deepEqual((JSON.parse(listed.stdout) as { id: string }[]).map((c) => c.id), [run.id]);
    run.kill('SIGKILL');
  });

  test("relative paths are the caller's working directory's, not the resident's", async (t) => {
    const rt = new RuntimeFixture(t);
    await freshResident(rt);
    const bundle = makeBundle(t, { args: ['sleep', '1000'] });
    const id = rt.track(uniqueId());
    const created = await runCommand(RUNTIME_BIN, ['--root', rt.root, 'create', '--pid-file', 'container.pid', id], { cwd: bundle.dir });
    assert.equal(created.code, 0, created.stderr);
    const { pid, bundle: recorded } = await rt.state(id);
    assert.equal(recorded, bundle.dir, 'the bundle is the caller\'s working directory');
    assert.equal(readFileSync(join(bundle.dir, 'container.pid'), 'utf8').trim(), String(pid));
    assert.equal(existsSync('/container.pid'), false);
  });

  test("a signal to the front reaches the container in the resident's run, and the container's exit code is the caller's", async (t) => {
    const rt = new RuntimeFixture(t);
    await freshResident(rt);
    const run = await foregroundRun(t, rt, "trap 'echo got TERM; exit 7' TERM; echo ready; while :; do sleep 0.05; done");
    assert.equal(ownNodeChild(run.front), false);
    run.kill('SIGTERM');
    const exit = await run.exit;
    assert.deepEqual(exit, { code: 7, signal: null });
    assert.match(run.out(), /got TERM/);
  });

  for (const [what, options] of [
    ['another mount namespace', { wrapper: ['unshare', '--mount'] }],
    ['another umask', { wrapper: ['sh', '-c', 'umask 077; exec "$@"', 'sh'] }],
    ['fewer capabilities', { wrapper: ['setpriv', '--bounding-set', '-sys_time', '--'] }],
    ['another environment', { env: { ...process.env, BERTH_RUNTIME_RESIDENT: '0' } }],
  ] as const) {
    test(`a caller with ${what} is not served by the resident: its front runs its own Node.js`, async (t) => {
      const rt = new RuntimeFixture(t);
      const resident = await freshResident(rt);
      const run = await foregroundRun(t, rt, 'echo ready; exec sleep 1000', options);
      assert.equal(ownNodeChild(run.front), true, 'the command line is the front\'s own Node.js');
      assert.equal(residentPid(), resident, 'the resident is left as it was');
      run.kill('SIGKILL');
    });
  }

  test("a front killed with SIGKILL while its command in the resident holds the container's lock leaves no lock behind", async (t) => {
    const rt = new RuntimeFixture(t);
    const resident = await freshResident(rt);
    const marker = join(tempDir(t, 'berth-resident-'), 'hook-pid');
    // The createRuntime hook runs while create holds the container's lock; it says its pid and waits.
    const bundle = makeBundle(t, {
      args: ['sleep', '1000'],
      edit: (spec) => {
        spec.hooks = { createRuntime: [parkingHook(marker)] };
      },
    });
    const id = rt.track(uniqueId());
    const front = spawn(RUNTIME_BIN, ['--root', rt.root, 'create', '--bundle', bundle.dir, id], { stdio: 'ignore' });
    const exited = new Promise((r) => front.once('exit', r));
    const hookPid = await parkedHookPid(t, marker);
    assert.equal(ppidOf(hookPid), resident, 'the command runs in the resident');
    await assert.rejects(acquireLock(standaloneHost(), rt.root, id, 100), /another command still holds the lock/);
    front.kill('SIGKILL');
    await exited;
    const lock = await acquireLock(standaloneHost(), rt.root, id, 10_000);
    await lock.release();
  });

  test('a command that forks no executor is served by the front as it started, without making the sealed copy', async (t) => {
    const rt = new RuntimeFixture(t);
    await freshResident(rt);
    const marker = join(tempDir(t, 'berth-resident-'), 'in-poststop');
    // The poststop hook runs while delete is under way: the front serving it is there to be looked at.
    const bundle = makeBundle(t, {
      args: ['sleep', '1000'],
      edit: (spec) => {
        spec.hooks = { poststop: [pausingHook(marker)] };
      },
    });
    const id = rt.track(uniqueId());
    const created = await rt.run(['create', '--bundle', bundle.dir, id]);
    assert.equal(created.code, 0, created.stderr);
    const front = spawn(RUNTIME_BIN, ['--root', rt.root, 'delete', '--force', id], { stdio: 'ignore' });
    const exited = new Promise<Exit>((r) => front.once('exit', (code, signal) => r({ code, signal })));
    await waitFor('delete to reach its poststop hook', () => (existsSync(marker) ? true : undefined));
    assert.equal(readlinkSync(`/proc/${front.pid}/exe`), realpathSync(join(RUNTIME_BIN, '..', '..', 'build', 'berth-runtime')));
    assert.equal(ownNodeChild(front.pid!), false);
    assert.deepEqual(await exited, { code: 0, signal: null });
  });

  test('a resident leaves after its idle time, and takes its socket with it', async (t) => {
    const rt = new RuntimeFixture(t);
    const resident = await freshResident(rt, { ...process.env, BERTH_RUNTIME_RESIDENT: '1' });
    await waitFor('the idle resident to leave', () => (existsSync(residentSocket()) || residentPid() === resident ? undefined : true));
  });

  test('a resident killed with -9 during a command: the front says so and fails, nothing hangs', async (t) => {
    const rt = new RuntimeFixture(t);
    const resident = await freshResident(rt);
    const run = await foregroundRun(t, rt, 'echo ready; exec sleep 1000');
    process.kill(resident, 'SIGKILL');
    const exit = await run.exit;
    assert.notEqual(exit.code, 0);
    assert.match(run.out(), /resident command line went away/);
  });
});
