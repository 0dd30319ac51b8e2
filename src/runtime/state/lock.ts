/**
 * Per-container locks that the kernel releases when the holder dies: a
 * socket bound to an abstract unix address is exclusive per network
 * namespace and vanishes with its process. Node has no flock(2); this needs
 * no lock files left behind by a crash. The host binds the address (through
 * node:net, or berth-runtime's front for the command line), so both kinds of
 * holder exclude each other.
 */
import { unavailable } from '../../errors.ts';
import type { RuntimeHost } from '../host/host.ts';

export interface Lock extends AsyncDisposable {
  release(): Promise<void>;
}

/** FNV-1a, 64 bits: node:crypto costs 15 ms to load, and a collision only serialises more. */
export function fnv1a64(text: string): string {
  let h = 0xcbf29ce484222325n;
  for (const byte of Buffer.from(text, 'utf8')) {
    h ^= BigInt(byte);
    h = (h * 0x100000001b3n) & 0xffffffffffffffffn;
  }
  return h.toString(16).padStart(16, '0');
}

export function lockAddress(scope: string, name: string): string {
  const full = `\0berth-lock/${fnv1a64(scope)}/${name}`;
  // The kernel allows 107 bytes for the name of a unix socket.
  return Buffer.byteLength(full) <= 107 ? full : `\0berth-lock/${fnv1a64(scope)}/${fnv1a64(name)}`;
}

/**
 * Takes the lock `name` within `scope` (the state root), waiting up to
 * `timeoutMs` for another holder to finish.
 */
export async function acquireLock(host: Pick<RuntimeHost, 'bindLock'>, scope: string, name: string, timeoutMs = 30_000): Promise<Lock> {
  const addr = lockAddress(scope, name);
  const deadline = Date.now() + timeoutMs;
  let delay = 2;
  for (;;) {
    const release = await host.bindLock(addr);
    if (release) return { release, [Symbol.asyncDispose]: release };
    if (Date.now() >= deadline) {
      throw unavailable('lock_timeout', `${name}: another command still holds the lock after ${timeoutMs} ms`);
    }
    await new Promise((r) => setTimeout(r, delay));
    delay = Math.min(delay * 2, 50);
  }
}
