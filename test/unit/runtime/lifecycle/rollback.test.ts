/**
 * A create that fails part-way leaves nothing: no state directory (so no
 * state.json and no exec FIFO), no cgroup directory in any hierarchy, no
 * container process, no lock held. Driven by the recording fake executor,
 * which fails at every step of the plan in turn (as berth-exec reports a
 * failed step), or dies without a word, or is aborted at a sync.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isBerthError } from '../../../../src/errors.ts';
import { ExecutorFailure } from '../../../../src/runtime/executor/executor.ts';
import { create } from '../../../../src/runtime/lifecycle/create.ts';
import { Msg } from '../../../../src/runtime/plan/opcodes.ts';
import { isAlive } from '../../../../src/runtime/state/proc.ts';
import { waitFor } from '../../../helpers/runtime.ts';
import { harness, type Harness } from './harness.ts';

async function assertNothingLeft(h: Harness, id: string, what: string): Promise<void> {
  assert.deepEqual(h.leftovers(id), [], `${what}: left behind`);
  const pid = h.host.launches.at(-1)?.pid;
  if (pid !== undefined) await waitFor(`${what}: the container process to die`, () => (isAlive(pid, undefined) ? undefined : true));
  assert.deepEqual([...h.host.held], [], `${what}: a lock is still held`);
  assert.equal(h.host.warming, 0, `${what}: still warming`);
}

test('the executor fails at step N: the error names the step, nothing is left', async (t) => {
  const h = harness(t);
  await create(h.ctx, 'probe', { bundle: h.bundle });
  const steps = h.host.launches[0]?.steps ?? [];
  const at = (op: string): number => steps.findIndex((s) => s.op === op);
  // Each point where what exists changes: before and after the FIFO, the fork, each sync (the
  // cgroup placement at root), the root's change, and the last step before ready.
  const syncs = steps.flatMap((s, i) => (s.op === 'sync' ? [i, i + 1] : []));
  const points = [...new Set([0, at('mkfifo'), at('mkfifo') + 1, at('fork'), at('fork') + 1, ...syncs, at('pivot_root'), at('ready') - 1, at('ready')])].sort((a, b) => a - b);
  assert.ok(points.every((n) => n >= 0 && n <= at('ready')), `points ${points.join(' ')}`);
  for (const n of points) {
    const id = `fail-${n}`;
    h.host.script({ failAt: n, errno: 13 });
    await assert.rejects(create(h.ctx, id, { bundle: h.bundle }), (err: unknown) => {
      assert.ok(err instanceof ExecutorFailure, `step ${n}: ${String(err)}`);
      assert.equal(err.step, n);
      assert.equal(err.code, 'executor_eacces');
      assert.match(err.message, new RegExp(`^step ${n} \\(${steps[n]?.op}\\): .*: fake failure of ${steps[n]?.op}: permission denied`));
      return true;
    });
    await assertNothingLeft(h, id, `failure at step ${n} (${steps[n]?.op})`);
  }
  t.diagnostic(`failure points: ${points.map((n) => `${n} ${steps[n]?.op}`).join(', ')}`);
});

test('the executor dies without a word (before and after the fork): nothing is left', async (t) => {
  const h = harness(t);
  for (const at of ['mkfifo', 'fork', 'pivot_root', 'ready'] as const) {
    const id = `vanish-${at}`;
    h.host.script({ vanishAt: at });
    await assert.rejects(create(h.ctx, id, { bundle: h.bundle }), (err: unknown) => isBerthError(err, 'executor_exited') && /the executor exited with status 1 before the container was ready/.test(err.message));
    await assertNothingLeft(h, id, `death at ${at}`);
  }
});

test('a prestart hook that fails aborts the container at its sync: the hook named, nothing is left', async (t) => {
  const h = harness(t, (spec) => (spec.hooks = { prestart: [{ path: '/bin/false' }] }));
  await assert.rejects(create(h.ctx, 'hooked', { bundle: h.bundle }), (err: unknown) => isBerthError(err) && /prestart/.test(err.message) && /\/bin\/false/.test(err.message));
  const launch = h.host.launches[0];
  assert.deepEqual(launch?.syncs.at(-1)?.answer, 'abort', 'the executor was told to give up');
  await assertNothingLeft(h, 'hooked', 'hook failure');
});

test('create fails after the executor reported ready (the pid file cannot be written): the waiting process is killed, nothing is left', async (t) => {
  const h = harness(t);
  await assert.rejects(create(h.ctx, 'late', { bundle: h.bundle, pidFile: '/nonexistent/dir/pid' }), /nonexistent/);
  assert.deepEqual(h.host.launches[0]?.sent.at(-1), Msg.READY);
  await assertNothingLeft(h, 'late', 'failure after ready');
});
