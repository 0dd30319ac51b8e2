/** `kill`: a signal to the container's process, or to every process in its cgroup (`--all`). */
import { failedPrecondition, invalidArgument } from '../../errors.ts';
import { cgroupOf as cgroupFromPaths } from './cgroup.ts';
import { SIGNALS } from '../linux/constants.ts';
import type { RuntimeContext } from './context.ts';
import { containerStatus } from './status.ts';
import { signalProcess } from './wait.ts';

/** "KILL", "SIGKILL", "kill" and "9" all name SIGKILL. */
export function parseSignal(text: string): number {
  if (/^\d+$/.test(text)) {
    const n = Number(text);
    if (n >= 1 && n <= 64) return n;
  } else {
    const upper = text.toUpperCase();
    const name = upper.startsWith('SIG') ? upper : `SIG${upper}`;
    const n = SIGNALS[name];
    if (n !== undefined) return n;
    const rt = /^SIGRTMIN(?:\+(\d+))?$/.exec(name);
    if (rt) return 34 + Number(rt[1] ?? 0);
  }
  throw invalidArgument('invalid_signal', `signal "${text}": not a signal name or number`);
}

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
