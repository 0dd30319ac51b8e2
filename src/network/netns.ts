/**
 * Persistent network namespaces: an empty file at RUNROOT/netns/<sandbox
 * id> with the namespace bind-mounted on it, which the runtime joins by
 * path (`linux.namespaces[{type: "network", path}]`) and CNI plugins enter
 * through CNI_NETNS.
 *
 * Made in-process, through koffi, on the calling (main) thread only:
 * namespaces belong to a thread, not a process, so unshare(CLONE_NEWNET)
 * moves just this thread into a fresh namespace, whose
 * /proc/thread-self/ns/net is bind-mounted on the file before setns(2)
 * puts the thread back. JavaScript runs on this thread alone and nothing
 * else runs between the three calls, so no socket is ever made in the new
 * namespace by mistake (the CNI project's own Go test helpers do the same
 * on a locked OS thread). Measured here from Node, median per namespace
 * (bench/network-pool.ts prints it): this ~1 ms (nearly all of it the
 * kernel making the namespace), `ip netns add` ~9 ms and util-linux
 * `unshare --net=FILE` ~8-14 ms, both mostly the spawn; a helper in C
 * would pay the same spawn. No C is needed: three system calls, no policy.
 *
 * Removal (umount + unlink) is idempotent. Nothing here decides which files
 * to remove: sandboxes.ts removes the ones its rows name, and sweeps only
 * files under its own RUNROOT/netns that no row names.
 */
import { closeSync, mkdirSync, openSync, readdirSync, readFileSync, unlinkSync } from 'node:fs';
import { join } from 'node:path';
import { describeError, errnoCode, internal, isBerthError } from '../errors.ts';

import type * as SysModule from '../sys/index.ts';
import type * as LibcModule from '../sys/libc.ts';

const CLONE_NEWNET = 0x40000000;

type Sys = typeof SysModule;
type Libc = typeof LibcModule;
let loaded: { sys: Sys; libc: Libc } | undefined;

async function load(): Promise<{ sys: Sys; libc: Libc }> {
  loaded ??= { sys: await import('../sys/index.ts'), libc: await import('../sys/libc.ts') };
  return loaded;
}

export function netnsDir(runRoot: string): string {
  return join(runRoot, 'netns');
}

/** Makes a new network namespace and pins it at `path` (which must not exist). */
export async function createNetns(path: string): Promise<void> {
  const { sys, libc } = await load();
  mkdirSync(join(path, '..'), { recursive: true, mode: 0o700 });
  closeSync(openSync(path, 'wx', 0o444));
  const home = openSync('/proc/thread-self/ns/net', 'r');
  try {
    if (libc.c.unshare(CLONE_NEWNET) < 0) {
      throw new sys.SystemError(libc.lastErrno(), 'unshare(CLONE_NEWNET)', path);
    }
    let failure: Error | undefined;
    try {
      sys.mount('/proc/thread-self/ns/net', path, null, sys.MS_BIND, null);
    } catch (err) {
      failure = err instanceof Error ? err : new Error(String(err));
    }
    if (libc.c.setns(home, CLONE_NEWNET) < 0) {
      // This thread would stay in the new namespace: every later socket of the daemon would be made there.
      throw internal('netns_restore_failed', `network namespace ${path}: cannot return to the host's namespace (errno ${libc.lastErrno()})`);
    }
    if (failure !== undefined) throw failure;
  } catch (err) {
    if (isBerthError(err, 'netns_restore_failed')) throw err;
    unlinkQuiet(path);
    throw internal('netns_create_failed', `network namespace ${path}: cannot create: ${describeError(err)}`, { cause: err });
  } finally {
    closeSync(home);
  }
}

/** Unmounts and unlinks `path`; what is already gone is fine. */
export async function removeNetns(path: string): Promise<void> {
  const { sys } = await load();
  try {
    sys.umount2(path, sys.MNT_DETACH);
  } catch (err) {
    const code = errnoCode(err);
    // EINVAL: not a mount point (a crash between creating the file and the bind mount).
    if (code !== 'EINVAL' && code !== 'ENOENT') throw err;
  }
  unlinkQuiet(path);
}

function unlinkQuiet(path: string): void {
  try {
    unlinkSync(path);
  } catch (err) {
    if (errnoCode(err) !== 'ENOENT') throw err;
  }
}

/** The namespace files under `dir` (names only); none when the directory does not exist. */
export function listNetns(dir: string): string[] {
  try {
    return readdirSync(dir);
  } catch (err) {
    if (errnoCode(err) === 'ENOENT') return [];
    throw err;
  }
}

/**
 * Where a namespace's sockets are counted: sockstat and sockstat6 keep the
 * namespace's own counts of the IP protocols (TCP's hashed sockets and its
 * TIME_WAITs, UDP, UDP-Lite, raw), so the kernel need not walk its global
 * TCP tables as /proc/net/tcp and tcp6 make it do (4-13 ms each on this
 * machine's 24 GiB, where the sockstat files take microseconds); unix and
 * packet sockets are listed per namespace.
 */
const SOCKSTAT_FILES = ['sockstat', 'sockstat6'];
const SOCKSTAT_COUNTS = /^(TCP6?|UDP6?|UDPLITE6?|RAW6?): inuse (\d+)(?:.* tw (\d+))?/;
const SOCKET_TABLES = ['unix', 'packet'];

/** The sockets a sockstat file counts: every protocol's `inuse`, and TCP's TIME_WAITs (`tw`). */
export function sockstatCount(text: string): number {
  let count = 0;
  for (const line of text.split('\n')) {
    const m = SOCKSTAT_COUNTS.exec(line);
    if (m !== null) count += Number(m[2]) + Number(m[3] ?? 0);
  }
  return count;
}

/**
 * How many sockets the namespace pinned at `path` holds: any at all means
 * a process still has one open there, or a closed connection lingers
 * (TIME_WAIT keeps a port from being bound again). The main thread enters
 * the namespace, reads /proc/thread-self/net/*, which shows the reading
 * thread's namespace, and goes back, nothing else running in between, as
 * createNetns does.
 */
export async function socketsIn(path: string): Promise<number> {
  const { libc } = await load();
  const target = openSync(path, 'r');
  const home = openSync('/proc/thread-self/ns/net', 'r');
  try {
    if (libc.c.setns(target, CLONE_NEWNET) < 0) throw internal('netns_enter_failed', `network namespace ${path}: cannot enter (errno ${libc.lastErrno()})`);
    let count = 0;
    let failure: Error | undefined;
    try {
      for (const file of SOCKSTAT_FILES) count += sockstatCount(readTable(`/proc/thread-self/net/${file}`));
      for (const table of SOCKET_TABLES) {
        const text = readTable(`/proc/thread-self/net/${table}`);
        count += Math.max(0, text.split('\n').filter((l) => l.trim() !== '').length - 1);
      }
    } catch (err) {
      failure = err instanceof Error ? err : new Error(String(err));
    }
    if (libc.c.setns(home, CLONE_NEWNET) < 0) {
      throw internal('netns_restore_failed', `network namespace ${path}: cannot return to the host's namespace (errno ${libc.lastErrno()})`);
    }
    if (failure !== undefined) throw failure;
    return count;
  } finally {
    closeSync(home);
    closeSync(target);
  }
}

function readTable(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (err) {
    // A protocol the kernel lacks (no IPv6, no packet sockets) has no table: it holds no socket.
    if (errnoCode(err) === 'ENOENT') return '\n';
    throw err;
  }
}
