/** `kill` and `delete` without root, against the recording fake executor and a fake cgroupfs. */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { isBerthError } from '../../../../src/errors.ts';
import { create } from '../../../../src/runtime/lifecycle/create.ts';
import { deleteContainer } from '../../../../src/runtime/lifecycle/delete.ts';
import { kill } from '../../../../src/runtime/lifecycle/kill.ts';
import { state } from '../../../../src/runtime/lifecycle/list.ts';
import { isAlive } from '../../../../src/runtime/state/proc.ts';
import { waitFor } from '../../../helpers/runtime.ts';
import { harness, running } from './harness.ts';

const dead = (pid: number): Promise<true> => waitFor(`process ${pid} to die`, () => (isAlive(pid, undefined) ? undefined : true));

test('kill: the signal reaches the container process; a stopped container is refused', async (t) => {
  const h = harness(t);
  const pid = await running(h, 'c1');
  await kill(h.ctx, 'c1', 15);
  await dead(pid);
  assert.equal((await state(h.ctx, 'c1')).status, 'stopped');
  await assert.rejects(kill(h.ctx, 'c1', 15), (err: unknown) => isBerthError(err, 'not_running') && /container "c1": not running/.test(err.message));
});

test('kill --all: every process in the container\'s cgroup gets the signal', async (t) => {
  const h = harness(t);
  const pid = await running(h, 'c1');
  // A second process in the container's cgroup, as one its first process started would be.
  const other = spawn('sleep', ['1000'], { stdio: 'ignore' });
  t.after(() => other.kill('SIGKILL'));
  h.cgroups.write('/sys/fs/cgroup/pids/berth/c1/cgroup.procs', `${pid}\n${other.pid}\n`);
  await kill(h.ctx, 'c1', 9, true);
  await dead(pid);
  await dead(other.pid ?? 0);
});

test('delete: a running container is refused without --force and left as it was; with it, the process, cgroup and state go', async (t) => {
  const h = harness(t);
  const pid = await running(h, 'c1');
  await assert.rejects(deleteContainer(h.ctx, 'c1'), (err: unknown) => isBerthError(err, 'not_stopped') && /cannot delete a container that is running \(use --force\)/.test(err.message));
  assert.ok(isAlive(pid, undefined));
  assert.equal(h.leftovers('c1').length, 1 + 12 - 2, 'state and the cgroup directories (cpu,cpuacct and net_cls,net_prio share one)');
  await deleteContainer(h.ctx, 'c1', true);
  assert.equal(isAlive(pid, undefined), false);
  assert.deepEqual(h.leftovers('c1'), []);
  assert.deepEqual([...h.host.held], []);
  await assert.rejects(deleteContainer(h.ctx, 'c1'), (err: unknown) => isBerthError(err, 'container_not_found'));
});

test('delete: a created container\'s waiting process is killed; a stopped one goes; poststop hooks get the state', async (t) => {
  const h = harness(t, (spec, bundle) => {
    const log = join(bundle, 'poststop.log');
    spec.hooks = { poststop: [{ path: '/bin/sh', args: ['sh', '-c', `cat >> ${log}; echo >> ${log}`] }] };
  });
  const { pid } = await create(h.ctx, 'created', { bundle: h.bundle });
  await deleteContainer(h.ctx, 'created');
  assert.equal(isAlive(pid, undefined), false);
  assert.deepEqual(h.leftovers('created'), []);

  const stoppedPid = await running(h, 'stopped');
  process.kill(stoppedPid, 'SIGKILL');
  await dead(stoppedPid);
  await deleteContainer(h.ctx, 'stopped');
  assert.deepEqual(h.leftovers('stopped'), []);

  const log = readFileSync(join(h.bundle, 'poststop.log'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { id: string; status: string });
  assert.deepEqual(log.map((s) => [s.id, s.status]), [['created', 'stopped'], ['stopped', 'stopped']]);
});
