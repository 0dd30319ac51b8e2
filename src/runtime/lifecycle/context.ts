/**
 * What every lifecycle operation gets: the state store and a way to report
 * warnings. Libraries never print; warnings go to a diagnostics channel the
 * command line (or the engine) subscribes to.
 */
import { channel } from 'node:diagnostics_channel';
import { type RuntimeHost, standaloneHost } from '../host/host.ts';
import { StateStore } from '../state/store.ts';
import type { SignalSource } from './signals.ts';

export const warningChannel = channel('berth:runtime:warning');

export interface RuntimeContext {
  store: StateStore;
  /** Starts executors and binds locks: this process itself, or berth-runtime's front. */
  host: RuntimeHost;
  /** Where the cgroup library finds /proc/self and /sys/fs/cgroup: the host's own unless a test gives a fake tree. */
  cgroupFsRoot?: string | undefined;
  /** Where a foreground container's forwarded signals come from (default: this process's). */
  signals?: SignalSource | undefined;
  /** `start` reads the exec FIFO on the event loop, not in the thread pool (./start.ts): for a resident process that has node:net loaded anyway. */
  execFifoOnLoop?: boolean | undefined;
}

export function runtimeContext(root?: string, host: RuntimeHost = standaloneHost()): RuntimeContext {
  return { store: new StateStore(root, host), host };
}

export function warn(message: string, details: Record<string, unknown> = {}): void {
  if (warningChannel.hasSubscribers) warningChannel.publish({ message, ...details });
}
