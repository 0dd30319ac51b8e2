/**
 * `create` without root, against the recording fake executor: what it
 * launches, what it leaves (state, cgroup with the container process in
 * it, the exec FIFO), the pid file, and the lock let go.
 */
import assert from 'node:assert/strict';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { isBerthError } from '../../../../src/errors.ts';
import { create } from '../../../../src/runtime/lifecycle/create.ts';
import { SYNC_CREATED } from '../../../../src/runtime/plan/create-plan.ts';
import { Msg } from '../../../../src/runtime/plan/opcodes.ts';
import { isAlive } from '../../../../src/runtime/state/proc.ts';
import { harness } from './harness.ts';

const isRoot = process.geteuid?.() === 0;

test('create: one launch whose plan makes the FIFO, forks, and reports ready before waiting for start', async (t) => {
  const h = harness(t);
  const pidFile = join(h.bundle, 'pid');
  const created = await create(h.ctx, 'c1', { bundle: h.bundle, pidFile });
  assert.equal(h.host.launches.length, 1);
  const [launch] = h.host.launches;
  const ops = launch?.steps.map((s) => s.op) ?? [];
  const order = ['mkfifo', 'fork', 'pivot_root', 'exec'].map((op) => ops.indexOf(op as never));
  assert.ok(order.every((i, k) => i >= 0 && (k === 0 || i > (order[k - 1] ?? 0))), `steps out of order: ${ops.join(' ')}`);
  assert.ok(ops.indexOf('ready') < ops.indexOf('wait_start'), 'ready is reported before the process waits for start');
  assert.deepEqual(launch?.steps.find((s) => s.op === 'exec')?.args['argv'], ['sleep', '1000']);
  assert.deepEqual(launch?.sent.at(-1), Msg.READY);

  // state.json: created, with the stand-in's pid, which is alive and waits on the FIFO.
  assert.equal(created.pid, launch?.pid);
  assert.ok(isAlive(created.pid, undefined));
  const record = await h.ctx.store.read('c1');
  assert.equal(record.status, 'created');
  assert.equal(record.pid, created.pid);
  assert.ok(statSync(h.ctx.store.fifo('c1')).isFIFO());
  assert.equal(readFileSync(pidFile, 'utf8'), String(created.pid));

  // The cgroup in every hierarchy, the container process placed in it where TypeScript places it (root).
  assert.deepEqual(Object.keys(record.cgroup?.dirs ?? {}).sort(), ['blkio', 'cpu', 'cpuacct', 'cpuset', 'devices', 'freezer', 'hugetlb', 'memory', 'name=systemd', 'net_cls', 'net_prio', 'pids']);
  for (const dir of new Set(Object.values(record.cgroup?.dirs ?? {}))) assert.ok(existsSync(h.cgroups.path(dir)), dir);
  if (isRoot) {
    assert.deepEqual(launch?.syncs.map((s) => s.tag), [SYNC_CREATED]);
    assert.equal(h.cgroups.read('/sys/fs/cgroup/memory/berth/c1/cgroup.procs'), `${created.pid}\n`);
  }
  // runc's default spec denies every device but the defaults: the fake kernel's list says so.
  assert.doesNotMatch(h.cgroups.read('/sys/fs/cgroup/devices/berth/c1/devices.list'), /^a /m);

  assert.deepEqual([...h.host.held], [], 'the lock is let go');
  assert.equal(h.host.warming, 0, 'warming stopped');
});

test('create: an id in use is refused, and the container that has it is untouched', async (t) => {
  const h = harness(t);
  const first = await create(h.ctx, 'c1', { bundle: h.bundle });
  await assert.rejects(create(h.ctx, 'c1', { bundle: h.bundle }), (err: unknown) => isBerthError(err, 'container_exists') && /container "c1": already exists/.test(err.message));
  assert.equal(h.host.launches.length, 1, 'nothing launched for the second');
  assert.equal((await h.ctx.store.read('c1')).pid, first.pid);
  assert.ok(isAlive(first.pid, undefined));
  assert.ok(existsSync(h.ctx.store.fifo('c1')));
});

test('create: a bundle the validator refuses launches nothing and leaves nothing', async (t) => {
  const h = harness(t, (spec) => (spec.process!.cwd = 'relative'));
  await assert.rejects(create(h.ctx, 'c1', { bundle: h.bundle }), (err: unknown) => isBerthError(err) && /cwd/.test(err.message));
  assert.equal(h.host.launches.length, 0);
  assert.deepEqual(h.leftovers('c1'), []);
});
