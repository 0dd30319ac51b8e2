/** `kill`: a signal to the container's process, or to every process in its cgroup (`--all`). */
import { failedPrecondition } from '../../errors.ts';
import { cgroupOf as cgroupFromPaths } from './cgroup.ts';
import { parseSignal } from '../linux/signal.ts';
import type { RuntimeContext } from './context.ts';
import { containerStatus } from './status.ts';
import { signalProcess } from './wait.ts';

export { parseSignal };

export function killAll(pids: readonly number[], signal: number): void {
  for (const pid of pids) signalProcess(pid, signal);
}

export async function kill(ctx: RuntimeContext, id: string, signal: number, all = false): Promise<void> {
  const { store } = ctx;
  const record = await store.read(id);
  const status = await containerStatus(ctx, record);
  if (status === 'stopped') throw failedPrecondition('not_running', `container "${id}": not running`);
  if (all && record.cgroup) {
    killAll(await cgroupFromPaths(ctx, record.cgroup).pids(), signal);
    return;
  }
  if (!signalProcess(record.pid, signal)) throw failedPrecondition('not_running', `container "${id}": not running`);
}
