/** A container's status, derived from what the kernel says rather than what was last written. */
import { existsSync } from 'node:fs';
import type { ContainerStatus, State } from '../../oci/runtime-spec.ts';
import { cgroupOf as cgroupFromPaths } from './cgroup.ts';
import { isAlive } from '../state/proc.ts';
import { type ContainerRecord, EXEC_FIFO } from '../state/store.ts';
import type { RuntimeContext } from './context.ts';
import { join } from 'node:path';

export async function containerStatus(ctx: Pick<RuntimeContext, 'store' | 'cgroupFsRoot'>, record: ContainerRecord): Promise<ContainerStatus> {
  const alive = isAlive(record.pid, record.pidStartTime);
  if (record.status === 'creating') return alive ? 'creating' : 'stopped';
  if (!alive) return 'stopped';
  if (existsSync(join(ctx.store.dir(record.id), EXEC_FIFO))) return 'created';
  if (record.cgroup) {
    try {
      if ((await cgroupFromPaths(ctx, record.cgroup).state()) === 'frozen') return 'paused';
    } catch {
      // No freezer to ask: it cannot be paused.
    }
  }
  return 'running';
}

/** The runtime-spec state document (`state` prints it). */
export function specState(record: ContainerRecord, status: ContainerStatus): State {
  const state: State = { ociVersion: record.ociVersion, id: record.id, status, bundle: record.bundle };
  if (status !== 'stopped' && record.pid > 0) state.pid = record.pid;
  if (record.annotations && Object.keys(record.annotations).length > 0) state.annotations = record.annotations;
  return state;
}
