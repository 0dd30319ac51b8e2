/**
 * berthd's unix socket. It is bound inside a fresh 0700 directory next to
 * its final path, given its group and mode (0660: root and that group),
 * and only then renamed into place, so there is no moment when it is
 * reachable with a wider mode, and the rename replaces a stale file
 * atomically. A file at the path is stale only when nothing answers on it:
 * a socket something listens on (another daemon) is refused, as is a path
 * that is not a socket at all.
 */
import { chmodSync, chownSync, lstatSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, statSync, unlinkSync } from 'node:fs';
import type { Server } from 'node:http';
import { connect } from 'node:net';
import { dirname, join } from 'node:path';
import { cleanupAfterSync, errnoCode, failedPrecondition } from '../errors.ts';
import { listenOn } from '../sys/listening.ts';

export interface UnixListener {
  readonly path: string;
  /** Removes the socket file, if it is still the one bound here. */
  remove(): void;
}

/** Whether something accepts connections on `path` (false: nothing there, or a stale file). */
export function answers(path: string, timeoutMs = 2_000): Promise<boolean> {
  return new Promise((resolve) => {
    const sock = connect(path);
    const done = (ok: boolean): void => {
      clearTimeout(timer);
      sock.destroy();
      resolve(ok);
    };
    // A listener that accepts but whose backlog is full still answers: only a refusal or no file is "nothing".
    const timer = setTimeout(() => done(true), timeoutMs);
    sock.once('connect', () => done(true));
    sock.once('error', (err) => done(!['ECONNREFUSED', 'ENOENT', 'ENOTSOCK'].includes(errnoCode(err) ?? '')));
  });
}

async function checkFree(path: string): Promise<void> {
  let isSocket: boolean;
  try {
    isSocket = lstatSync(path).isSocket();
  } catch (err) {
    if (errnoCode(err) === 'ENOENT') return;
    throw err;
  }
  if (!isSocket) throw failedPrecondition('daemon_socket_in_use', `socket ${path}: the path exists and is not a socket; remove it or choose another --socket`);
  if (await answers(path)) throw failedPrecondition('daemon_socket_in_use', `socket ${path}: another daemon answers on it`);
}

export interface ListenOptions {
  /** Default 0660. */
  mode?: number;
  /** The socket's group (the users who may use berthd); default the daemon's own. */
  gid?: number;
}

/** A group's id by name from /etc/group; undefined when there is no such group. */
export function groupId(name: string, groupFile = '/etc/group'): number | undefined {
  let text: string;
  try {
    text = readFileSync(groupFile, 'utf8');
  } catch {
    return undefined;
  }
  for (const line of text.split('\n')) {
    const [group, , gid] = line.split(':');
    if (group === name && gid !== undefined && /^\d+$/.test(gid)) return Number(gid);
  }
  return undefined;
}

export async function listenUnix(server: Server, path: string, options: ListenOptions = {}): Promise<UnixListener> {
  const mode = options.mode ?? 0o660;
  const dir = dirname(path);
  // Group members need to reach the socket through its directory: search permission for all, no listing.
  mkdirSync(dir, { recursive: true, mode: 0o711 });
  await checkFree(path);
  const privateDir = mkdtempSync(join(dir, '.berthd-'));
  const bound = join(privateDir, 's');
  try {
    await listenOn(server, bound);
    if (options.gid !== undefined) chownSync(bound, -1, options.gid);
    chmodSync(bound, mode);
    renameSync(bound, path);
  } catch (err) {
    cleanupAfterSync(err, () => {
      if (server.listening) server.close();
      rmSync(privateDir, { recursive: true, force: true });
    });
    throw err;
  }
  rmSync(privateDir, { recursive: true, force: true });
  return removedIfSame(path, statSync(path).ino);
}

/** The listener at `path`, whose file is removed at close only while it is still the one bound (inode `ino`), not a later daemon's. */
function removedIfSame(path: string, ino: number | undefined): UnixListener {
  return {
    path,
    remove() {
      try {
        if (ino !== undefined && statSync(path).ino === ino) unlinkSync(path);
      } catch (err) {
        if (errnoCode(err) !== 'ENOENT') throw err;
      }
    },
  };
}

/**
 * Serves on a unix socket already bound and listening at `path`, passed
 * at start (src/api/activation.ts: berthd woken from its sleep, or
 * systemd's socket unit); its file is left as it is, mode and group
 * included, and removed at close as listenUnix's is.
 */
export async function adoptUnix(server: Server, path: string, fd: number): Promise<UnixListener> {
  await listenOn(server, fd);
  let ino: number | undefined;
  try {
    ino = statSync(path).ino;
  } catch (err) {
    if (errnoCode(err) !== 'ENOENT') throw err;
  }
  return removedIfSame(path, ino);
}
