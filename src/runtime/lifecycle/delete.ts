/**
 * `delete`: what is left of a container goes: its processes (with
 * --force, or when it never started), its cgroup and its state; then the
 * poststop hooks run.
 */
import { rmSync } from 'node:fs';
import { failedPrecondition, isBerthError } from '../../errors.ts';
import { findLeftovers } from '../cgroups/index.ts';
import { cgroupOf as cgroupFromPaths } from './cgroup.ts';
import { runHooksWarning } from '../hooks.ts';
import type { RuntimeContext } from './context.ts';
import { warn } from './context.ts';
import { containerStatus, specState } from './status.ts';
import { signalProcess, waitForExit } from './wait.ts';
import { mark } from '../../trace.ts';

const KILL_TIMEOUT_MS = 10_000;

/** The default cgroup of a container id whose state is gone: its processes are killed, then it goes. */
async function removeLeftoverCgroup(ctx: RuntimeContext, id: string): Promise<boolean> {
  const leftover = (await findLeftovers('/berth', ctx.cgroupFsRoot === undefined ? {} : { fsRoot: ctx.cgroupFsRoot })).find((l) => l.name === id);
  if (!leftover || Object.keys(leftover.paths.dirs).length === 0) return false;
  const cgroup = cgroupFromPaths(ctx, leftover.paths);
  await cgroup.thaw().catch(() => undefined);
  const pids = await cgroup.pids().catch(() => []);
  for (const pid of pids) signalProcess(pid, 9);
  for (const pid of pids) await waitForExit(pid, undefined, KILL_TIMEOUT_MS);
  await cgroup.destroy();
  warn(`container "${id}": no state was left; removed its cgroup${pids.length ? ` and killed ${pids.length} process(es)` : ''}`, { id });
  return true;
}

export async function deleteContainer(ctx: RuntimeContext, id: string, force = false): Promise<void> {
  const { store } = ctx;
  await using lock = await store.lock(id);
  void lock;
  let record;
  try {
    record = await store.read(id);
  } catch (err) {
    // A create that died before writing state leaves a bare directory; a lost state directory
    // can leave a cgroup (with processes) under the default parent: --force cleans both.
    // A state file cut short by a crash is as good as none.
    if (isBerthError(err, 'container_not_found') || (force && isBerthError(err, 'state_corrupt'))) {
      rmSync(store.dir(id), { recursive: true, force: true });
      if (force) {
        await removeLeftoverCgroup(ctx, id);
        return;
      }
    }
    throw err;
  }
  const status = await containerStatus(ctx, record);
  mark('delete: status known');
  if ((status === 'running' || status === 'paused') && !force) {
    throw failedPrecondition('not_stopped', `container "${id}": cannot delete a container that is ${status} (use --force)`);
  }
  const cgroup = record.cgroup ? cgroupFromPaths(ctx, record.cgroup) : undefined;
  if (status !== 'stopped') {
    if (status === 'paused') await cgroup?.thaw().catch(() => undefined);
    signalProcess(record.pid, 9);
    // Without its own pid namespace the container's other processes outlive its first one.
    if (cgroup && record.namespaces['pid'] !== '') {
      for (const pid of await cgroup.pids().catch(() => [])) signalProcess(pid, 9);
    }
    if (!(await waitForExit(record.pid, record.pidStartTime, KILL_TIMEOUT_MS))) {
      throw failedPrecondition('kill_timeout', `container "${id}": process ${record.pid} still alive ${KILL_TIMEOUT_MS} ms after SIGKILL`);
    }
  }
  if (cgroup) {
    // Stragglers in the cgroup (processes that left the pid namespace's reach) go too.
    for (const pid of await cgroup.pids().catch(() => [])) signalProcess(pid, 9);
    await cgroup.destroy();
    mark('delete: cgroup removed');
  }
  await store.remove(id);
  for (const w of await runHooksWarning('poststop', record.config.hooks?.poststop, specState(record, 'stopped'))) {
    warn(`container "${id}": ${w}`, { id });
  }
}
