/**
 * Per-container locks that the kernel releases when the holder dies: a
 * listening socket bound to an abstract unix address is exclusive per
 * network namespace and vanishes with its process. Node has no flock(2);
 * this needs no native code and no lock files left behind by a crash.
 */
import { createHash } from 'node:crypto';
import { createServer, type Server } from 'node:net';
import { errnoCode, unavailable } from '../../errors.ts';

export interface Lock extends AsyncDisposable {
  release(): Promise<void>;
}

function address(scope: string, name: string): string {
  const digest = createHash('sha256').update(scope).update('\0').update(name).digest('hex').slice(0, 40);
  return `\0berth-lock/${digest}`;
}

function tryListen(addr: string): Promise<Server | undefined> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', (err) => {
      if (errnoCode(err) === 'EADDRINUSE') resolve(undefined);
      else reject(err);
    });
    server.listen({ path: addr, exclusive: true }, () => {
      server.unref();
      resolve(server);
    });
  });
}

/**
 * Takes the lock `name` within `scope` (the state root), waiting up to
 * `timeoutMs` for another holder to finish.
 */
export async function acquireLock(scope: string, name: string, timeoutMs = 30_000): Promise<Lock> {
  const addr = address(scope, name);
  const deadline = Date.now() + timeoutMs;
  let delay = 2;
  for (;;) {
    const server = await tryListen(addr);
    if (server) {
      let released = false;
      const release = async (): Promise<void> => {
        if (released) return;
        released = true;
        await new Promise<void>((resolve) => server.close(() => resolve()));
      };
      return { release, [Symbol.asyncDispose]: release };
    }
    if (Date.now() >= deadline) {
      throw unavailable('lock_timeout', `${name}: another command still holds the lock after ${timeoutMs} ms`);
    }
    await new Promise((r) => setTimeout(r, delay));
    delay = Math.min(delay * 2, 50);
  }
}
