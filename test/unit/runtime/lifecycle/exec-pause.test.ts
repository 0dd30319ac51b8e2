/** `exec`, `pause` and `resume` without root, against the recording fake executor and a fake cgroupfs. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isBerthError } from '../../../../src/errors.ts';
import { defaultSpec } from '../../../../src/oci/default-spec.ts';
import type { Process } from '../../../../src/oci/runtime-spec.ts';
import { exec } from '../../../../src/runtime/lifecycle/exec.ts';
import { state } from '../../../../src/runtime/lifecycle/list.ts';
import { pause, resume } from '../../../../src/runtime/lifecycle/pause.ts';
import { isAlive } from '../../../../src/runtime/state/proc.ts';
import { waitFor } from '../../../helpers/runtime.ts';
import { harness, running } from './harness.ts';

const proc = (args: string[], cwd = '/'): Process => ({ ...defaultSpec().process!, terminal: false, args, cwd });

test('exec: the new process joins each namespace of the container and its cgroup, then execs', async (t) => {
  const h = harness(t);
  const init = await running(h, 'c1');
  const { pid, execution } = await exec(h.ctx, 'c1', proc(['ps', '-ef']), { detach: true });
  const launch = h.host.launches[1];
  assert.equal(launch?.pid, pid);
  const joined = launch?.steps.filter((s) => s.op === 'setns').map((s) => s.args['path']);
  const types = Object.keys((await h.ctx.store.read('c1')).namespaces);
  assert.deepEqual(joined?.toSorted(), types.map((type) => `/proc/${init}/ns/${{ network: 'net', mount: 'mnt' }[type] ?? type}`).sort());
  // The mount namespace last: after it, the container's /proc is the one seen.
  assert.equal(joined?.at(-1), `/proc/${init}/ns/mnt`);
  assert.deepEqual(launch?.steps.find((s) => s.op === 'exec')?.args['argv'], ['ps', '-ef']);
  assert.equal(launch?.steps.find((s) => s.op === 'fork')?.args['wait'], 0n, 'detached: the executor does not wait');
  if (process.geteuid?.() === 0) assert.match(h.cgroups.read('/sys/fs/cgroup/memory/berth/c1/cgroup.procs'), new RegExp(`^${pid}$`, 'm'));
  assert.deepEqual(await execution.exited, { code: 0, signal: null });
});

test('exec: a stopped container, or a process without a program or with a relative cwd, launches nothing', async (t) => {
  const h = harness(t);
  const init = await running(h, 'c1');
  await assert.rejects(exec(h.ctx, 'c1', proc([])), (err: unknown) => isBerthError(err, 'exec_args') && /args must name the program/.test(err.message));
  await assert.rejects(exec(h.ctx, 'c1', proc(['true'], 'tmp')), (err: unknown) => isBerthError(err, 'exec_cwd') && /cwd "tmp" must be an absolute path/.test(err.message));
  process.kill(init, 'SIGKILL');
  await waitFor('the container to stop', () => (isAlive(init, undefined) ? undefined : true));
  await assert.rejects(exec(h.ctx, 'c1', proc(['true'])), (err: unknown) => isBerthError(err, 'not_running') && /cannot exec in a container that is stopped/.test(err.message));
  assert.equal(h.host.launches.length, 1, 'only the create launched');
  assert.equal(h.host.warming, 0);
});

test('pause and resume: the freezer of the container\'s cgroup, and the status it gives', async (t) => {
  const h = harness(t);
  await running(h, 'c1');
  await assert.rejects(resume(h.ctx, 'c1'), (err: unknown) => isBerthError(err, 'not_paused') && /cannot resume a container that is running/.test(err.message));
  await pause(h.ctx, 'c1');
  assert.equal(h.cgroups.read('/sys/fs/cgroup/freezer/berth/c1/freezer.state').trim(), 'FROZEN');
  assert.equal((await state(h.ctx, 'c1')).status, 'paused');
  await assert.rejects(pause(h.ctx, 'c1'), (err: unknown) => isBerthError(err, 'not_running') && /cannot pause a container that is paused/.test(err.message));
  await resume(h.ctx, 'c1');
  assert.equal(h.cgroups.read('/sys/fs/cgroup/freezer/berth/c1/freezer.state').trim(), 'THAWED');
  assert.equal((await state(h.ctx, 'c1')).status, 'running');
  assert.deepEqual([...h.host.held], []);
});
