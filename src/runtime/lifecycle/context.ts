/**
 * What every lifecycle operation gets: the state store and a way to report
 * warnings. Libraries never print; warnings go to a diagnostics channel the
 * command line (or the engine) subscribes to.
 */
import { channel } from 'node:diagnostics_channel';
import { StateStore } from '../state/store.ts';

export const warningChannel = channel('berth:runtime:warning');

export interface RuntimeContext {
  store: StateStore;
}

export function runtimeContext(root?: string): RuntimeContext {
  return { store: new StateStore(root) };
}

export function warn(message: string, details: Record<string, unknown> = {}): void {
  if (warningChannel.hasSubscribers) warningChannel.publish({ message, ...details });
}
