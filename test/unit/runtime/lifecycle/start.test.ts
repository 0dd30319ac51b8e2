/** `start` and `run` without root, against the recording fake executor. */
import assert from 'node:assert/strict';
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import { isBerthError } from '../../../../src/errors.ts';
import { warningChannel } from '../../../../src/runtime/lifecycle/context.ts';
import { create } from '../../../../src/runtime/lifecycle/create.ts';
import { kill } from '../../../../src/runtime/lifecycle/kill.ts';
import { state } from '../../../../src/runtime/lifecycle/list.ts';
import { run } from '../../../../src/runtime/lifecycle/run.ts';
import { readFifoOnLoop, start } from '../../../../src/runtime/lifecycle/start.ts';
import { isAlive } from '../../../../src/runtime/state/proc.ts';
import { tempDir } from '../../../helpers/cleanup.ts';
import { waitFor } from '../../../helpers/runtime.ts';
import { harness } from './harness.ts';

test('start: the waiting process gets past the FIFO, which goes; the container runs', async (t) => {
  const h = harness(t);
  const { pid } = await create(h.ctx, 'c1', { bundle: h.bundle });
  assert.equal((await state(h.ctx, 'c1')).status, 'created');
  await start(h.ctx, 'c1');
  assert.equal(existsSync(h.ctx.store.fifo('c1')), false);
  assert.deepEqual(await state(h.ctx, 'c1'), { ociVersion: '1.2.0', id: 'c1', status: 'running', pid, bundle: h.bundle });
  assert.equal((await h.ctx.store.read('c1')).status, 'running');
  assert.ok(isAlive(pid, undefined));
  assert.deepEqual([...h.host.held], []);
});

test('start: a running container, or one whose process died, is refused by its status', async (t) => {
  const h = harness(t);
  await create(h.ctx, 'c1', { bundle: h.bundle });
  await start(h.ctx, 'c1');
  await assert.rejects(start(h.ctx, 'c1'), (err: unknown) => isBerthError(err, 'not_created') && /container "c1": cannot start a container that is running/.test(err.message));
  const { pid } = await create(h.ctx, 'c2', { bundle: h.bundle });
  process.kill(pid, 'SIGKILL');
  await waitFor('the process to die', () => (isAlive(pid, undefined) ? undefined : true));
  await assert.rejects(start(h.ctx, 'c2'), (err: unknown) => isBerthError(err, 'not_created') && /cannot start a container that is stopped/.test(err.message));
  await assert.rejects(start(h.ctx, 'none'), (err: unknown) => isBerthError(err, 'container_not_found'));
});

test('run in the foreground: the executor stays, its exit is the container\'s, and the container is deleted after', async (t) => {
  const h = harness(t);
  const exit = run(h.ctx, 'c1', { bundle: h.bundle });
  await waitFor('the container to run', async () => ((await state(h.ctx, 'c1').catch(() => undefined))?.status === 'running' ? true : undefined));
  assert.equal(h.host.launches[0]?.steps.find((s) => s.op === 'fork')?.args['wait'], 1n, 'the plan asks the executor to wait');
  await kill(h.ctx, 'c1', 15);
  assert.equal(await exit, 143, 'killed by SIGTERM: 128 + 15');
  assert.deepEqual(h.leftovers('c1'), []);
});

test('run: a delete that fails after a clean exit keeps the exit code and says so as a warning, never silently', async (t) => {
  const h = harness(t);
  const warnings: string[] = [];
  const onWarning = (m: unknown): void => {
    warnings.push(String((m as { message?: unknown }).message));
  };
  warningChannel.subscribe(onWarning);
  t.after(() => warningChannel.unsubscribe(onWarning));
  const exit = run(h.ctx, 'c1', { bundle: h.bundle });
  await waitFor('the container to run', async () => ((await state(h.ctx, 'c1').catch(() => undefined))?.status === 'running' ? true : undefined));
  // The state directory cannot be removed (a full or read-only disk): the store is told to fail.
  h.ctx.store.remove = () => Promise.reject(Object.assign(new Error('EROFS: read-only file system, rmdir'), { code: 'EROFS' }));
  await kill(h.ctx, 'c1', 15);
  assert.equal(await exit, 143, 'the exit code stands');
  assert.ok(
    warnings.some((w) => /container "c1": deleting it after it exited failed: /.test(w)),
    `a warning names the failed delete: ${JSON.stringify(warnings)}`,
  );
});

test('start with the exec FIFO read on the event loop (berthd): the same as through the thread pool', async (t) => {
  const h = harness(t);
  const ctx = { ...h.ctx, execFifoOnLoop: true };
  const { pid } = await create(ctx, 'c1', { bundle: h.bundle });
  await start(ctx, 'c1');
  assert.equal(existsSync(ctx.store.fifo('c1')), false);
  assert.equal((await state(ctx, 'c1')).status, 'running');
  assert.ok(isAlive(pid, undefined));
  const { pid: dead } = await create(ctx, 'c2', { bundle: h.bundle });
  process.kill(dead, 'SIGKILL');
  await waitFor('the process to die', () => (isAlive(dead, undefined) ? undefined : true));
  await assert.rejects(start(ctx, 'c2'), (err: unknown) => isBerthError(err, 'not_created'));
});

/** A FIFO and a shell that plays the container process's end of it (`script` gets $F, the FIFO, and $G, a gate FIFO). */
function fifoWriter(t: TestContext, script: string): { fifo: string; gate: string; child: ChildProcess } {
  const dir = tempDir(t, 'exec-fifo-');
  const fifo = join(dir, 'exec.fifo');
  const gate = join(dir, 'gate');
  execFileSync('mkfifo', [fifo, gate]);
  const child = spawn('sh', ['-c', script], { env: { F: fifo, G: gate, PATH: process.env['PATH'] }, stdio: 'ignore' });
  t.after(() => child.kill('SIGKILL'));
  return { fifo, gate, child };
}

test('exec FIFO on the event loop: the answer waits for the end of file (the exec), not only for the byte', async (t) => {
  const w = fifoWriter(t, 'exec 3>"$F"; printf 0 >&3; read x < "$G"; exec 3>&-; exec sleep 30');
  let settled = false;
  const got = readFifoOnLoop(w.fifo, w.child.pid!, undefined).then((b) => {
    settled = true;
    return b;
  });
  // The byte is written and the writer holds its end until the gate opens.
  await new Promise((resolve) => setTimeout(resolve, 100));
  assert.equal(settled, false, 'still waiting while the writer holds its end');
  writeFileSync(w.gate, 'go\n');
  assert.equal((await got).toString(), '0');
});

test('exec FIFO on the event loop: a process that opens its end only later, and writes and closes it between two looks, is not missed', async (t) => {
  // The reader is there first; the writer comes after its start-up and is gone (exec'd) at once.
  const w = fifoWriter(t, 'read x < "$G"; printf 0 > "$F"; exec sleep 30');
  const got = readFifoOnLoop(w.fifo, w.child.pid!, undefined);
  writeFileSync(w.gate, 'go\n');
  assert.equal((await got).toString(), '0');
});

test('exec FIFO on the event loop: a process that dies before it opens its end gives nothing (exited before it could start)', async (t) => {
  const w = fifoWriter(t, 'read x < "$G"; exit 3');
  const got = readFifoOnLoop(w.fifo, w.child.pid!, undefined);
  writeFileSync(w.gate, 'go\n');
  assert.equal((await got).length, 0);
});
