/**
 * Per-container locks that only the runtime's own user can take and that
 * the kernel releases when the holder dies: flock(2) on a file in the
 * container's state directory (made by StateStore.claim, mode 0600, in a
 * state root nobody else may write). An abstract unix socket, the lock
 * before this one, had no permissions: any local user could bind a
 * container's name first and block its commands.
 *
 * The host takes the flock (through koffi, or berth-runtime's front for the
 * command line), so both kinds of holder exclude each other. A container
 * whose directory has no lock file does not exist (or is being claimed by
 * create, which locks right after): there is nothing to guard, and the
 * command finds that out when it reads the state.
 */
import { join } from 'node:path';
import { unavailable } from '../../errors.ts';
import type { RuntimeHost } from '../host/host.ts';

export interface Lock extends AsyncDisposable {
  release(): Promise<void>;
}

export const LOCK_FILE = 'lock';

const NO_LOCK: Lock = { release: () => Promise.resolve(), [Symbol.asyncDispose]: () => Promise.resolve() };

/** The lock file of container `id` under the state root `root`. */
export function lockPath(root: string, id: string): string {
  return join(root, id, LOCK_FILE);
}

/**
 * Takes the lock of container `name` within the state root `scope`,
 * waiting up to `timeoutMs` for another holder to finish.
 */
export async function acquireLock(host: Pick<RuntimeHost, 'lockFile'>, scope: string, name: string, timeoutMs = 30_000): Promise<Lock> {
  const path = lockPath(scope, name);
  const deadline = Date.now() + timeoutMs;
  let delay = 2;
  for (;;) {
    const got = await host.lockFile(path);
    if (got === 'missing') return NO_LOCK;
    if (got !== 'busy') return { release: got, [Symbol.asyncDispose]: got };
    if (Date.now() >= deadline) {
      throw unavailable('lock_timeout', `${name}: another command still holds the lock after ${timeoutMs} ms`);
    }
    await new Promise((r) => setTimeout(r, delay));
    delay = Math.min(delay * 2, 50);
  }
}
