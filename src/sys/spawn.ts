/**
 * Starting a program with posix_spawn(3), for a long-lived process that
 * starts many: Node.js's child_process forks, and a fork copies the page
 * tables of the whole process while its event loop stands still (measured
 * here: 1 ms for a 50 MiB process, 3.4 ms at 100 MiB, 9.4 ms at 200 MiB);
 * glibc's posix_spawn shares the memory until the exec (CLONE_VFORK), a few
 * tenths of a millisecond whatever the size. The child gets only the
 * descriptors asked for (every other one is closed in the child, those this
 * process inherited without close-on-exec too), every signal at its default and none
 * blocked, as libuv's spawn leaves them. Its exit is not reaped by libuv
 * (it does not know it): `reap` does, once the caller knows it is gone.
 */
import { closeSync, readFileSync, statSync, writeSync } from 'node:fs';
import { Socket } from 'node:net';
import koffi from 'koffi';
import { SystemError } from './error.ts';

const lib = koffi.load('libc.so.6');
const SIZEOF_FILE_ACTIONS = 80;
const SIZEOF_SPAWNATTR = 336;
const SIZEOF_SIGSET = 128;
const POSIX_SPAWN_SETSIGMASK = 0x08;
const POSIX_SPAWN_SETSIGDEF = 0x04;
const AF_UNIX = 1;
const SOCK_STREAM = 1;
const SOCK_CLOEXEC = 0o2000000;
const O_RDWR = 2;
const WNOHANG = 1;

type Buf = Uint8Array;
const c = {
  posixSpawn: lib.func('int posix_spawn(_Out_ int *pid, const char *path, const void *actions, const void *attr, const char **argv, const char **envp)') as unknown as (
    pid: Int32Array, path: string, actions: Buf, attr: Buf, argv: (string | null)[], envp: (string | null)[]) => number,
  actionsInit: lib.func('int posix_spawn_file_actions_init(_Out_ void *actions)') as unknown as (a: Buf) => number,
  actionsDestroy: lib.func('int posix_spawn_file_actions_destroy(void *actions)') as unknown as (a: Buf) => number,
  addDup2: lib.func('int posix_spawn_file_actions_adddup2(void *actions, int fd, int newfd)') as unknown as (a: Buf, fd: number, newfd: number) => number,
  // glibc 2.34: every descriptor from `from` up closed in the child, those this process inherited without close-on-exec too.
  addClosefrom: lib.func('int posix_spawn_file_actions_addclosefrom_np(void *actions, int from)') as unknown as (a: Buf, from: number) => number,
  addOpen: lib.func('int posix_spawn_file_actions_addopen(void *actions, int fd, const char *path, int flags, uint32_t mode)') as unknown as (
    a: Buf, fd: number, path: string, flags: number, mode: number) => number,
  attrInit: lib.func('int posix_spawnattr_init(_Out_ void *attr)') as unknown as (a: Buf) => number,
  attrDestroy: lib.func('int posix_spawnattr_destroy(void *attr)') as unknown as (a: Buf) => number,
  attrSetFlags: lib.func('int posix_spawnattr_setflags(void *attr, short flags)') as unknown as (a: Buf, flags: number) => number,
  attrSetSigmask: lib.func('int posix_spawnattr_setsigmask(void *attr, const void *set)') as unknown as (a: Buf, set: Buf) => number,
  attrSetSigdefault: lib.func('int posix_spawnattr_setsigdefault(void *attr, const void *set)') as unknown as (a: Buf, set: Buf) => number,
  sigemptyset: lib.func('int sigemptyset(_Out_ void *set)') as unknown as (s: Buf) => number,
  socketpair: lib.func('int socketpair(int domain, int type, int protocol, _Out_ int *sv)') as unknown as (d: number, t: number, p: number, sv: Int32Array) => number,
  fcntlDup: lib.func('int fcntl(int fd, int cmd, int arg)') as unknown as (fd: number, cmd: number, arg: number) => number,
  waitpid: lib.func('int waitpid(int pid, _Out_ int *status, int options)') as unknown as (pid: number, status: Int32Array, options: number) => number,
  memfdCreate: lib.func('int memfd_create(const char *name, unsigned int flags)') as unknown as (name: string, flags: number) => number,
};
const MFD_CLOEXEC = 1;
const MFD_ALLOW_SEALING = 2;
const MFD_EXEC = 0x10;
const F_ADD_SEALS = 1033;
/** F_SEAL_SEAL | F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE: what native/common/sealed.c checks for. */
const ALL_SEALS = 1 | 2 | 4 | 8;

const F_DUPFD_CLOEXEC = 1030;

/** One descriptor of the child: `null` is /dev/null, `'socket'` a new socket pair whose other end the caller gets, a number this process's fd. */
export type SpawnFd = null | 'socket' | number;

export interface Spawned {
  pid: number;
  /** The caller's end of each `'socket'` entry, by the child's fd number. */
  sockets: Map<number, Socket>;
}

function check(what: string, rc: number, path?: string): void {
  // posix_spawn and its helpers return the error number; the others -1 and errno.
  if (rc > 0) throw new SystemError(rc, what, path);
  if (rc < 0) throw new SystemError(koffi.errno(), what, path);
}

/** `fd`, or a duplicate above every target fd: dup2 of an fd onto its own number would leave it close-on-exec, or one set earlier would overwrite it. */
function clear(fd: number, targets: number, owned: number[]): number {
  if (fd >= targets) return fd;
  const dup = c.fcntlDup(fd, F_DUPFD_CLOEXEC, targets);
  check('fcntl(F_DUPFD_CLOEXEC)', dup < 0 ? -1 : 0);
  owned.push(dup);
  return dup;
}

/** Starts `path` with `argv` (argv[0] included) and an empty environment, its fds 0.. as `fds` says. */
export function spawnProgram(path: string, argv: readonly string[], fds: readonly SpawnFd[]): Spawned {
  const actions = new Uint8Array(SIZEOF_FILE_ACTIONS * 2);
  const attr = new Uint8Array(SIZEOF_SPAWNATTR * 2);
  const none = new Uint8Array(SIZEOF_SIGSET);
  const all = new Uint8Array(SIZEOF_SIGSET);
  const temporary: number[] = [];
  const ours = new Map<number, number>();
  check('posix_spawn_file_actions_init', c.actionsInit(actions));
  try {
    check('posix_spawnattr_init', c.attrInit(attr));
    try {
      c.sigemptyset(none);
      // Every signal, 1 to 64 (sigfillset leaves out glibc's own two, which an ancestor may have ignored).
      all.fill(0xff, 0, 8);
      check('posix_spawnattr_setsigmask', c.attrSetSigmask(attr, none));
      check('posix_spawnattr_setsigdefault', c.attrSetSigdefault(attr, all));
      check('posix_spawnattr_setflags', c.attrSetFlags(attr, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF));
      fds.forEach((fd, child) => {
        if (fd === null) {
          check('posix_spawn_file_actions_addopen', c.addOpen(actions, child, '/dev/null', O_RDWR, 0));
          return;
        }
        let source = fd;
        if (fd === 'socket') {
          const sv = new Int32Array(2);
          check('socketpair', c.socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv));
          ours.set(child, sv[0]!);
          temporary.push(sv[1]!);
          source = sv[1]!;
        }
        check('posix_spawn_file_actions_adddup2', c.addDup2(actions, clear(source as number, fds.length, temporary), child));
      });
      check('posix_spawn_file_actions_addclosefrom_np', c.addClosefrom(actions, fds.length));
      const pid = new Int32Array(1);
      check('posix_spawn', c.posixSpawn(pid, path, actions, attr, [...argv, null], [null]), path);
      const sockets = new Map<number, Socket>();
      for (const [child, fd] of ours) sockets.set(child, new Socket({ fd, readable: true, writable: true }));
      ours.clear();
      return { pid: pid[0]!, sockets };
    } finally {
      c.attrDestroy(attr);
    }
  } finally {
    c.actionsDestroy(actions);
    for (const fd of [...temporary, ...ours.values()]) closeSync(fd);
  }
}

/** Reaps `pid` once it exited (polled, the timers unref'd): for a child that exits at once, as one that detaches does. */
export function reapSoon(pid: number, waitMs = 1): void {
  if (c.waitpid(pid, new Int32Array(1), WNOHANG) !== 0 || waitMs > 60_000) return;
  setTimeout(() => reapSoon(pid, waitMs * 2), waitMs).unref();
}

const sealed = new Map<string, { fd: number; stamp: string }>();

/**
 * A path that execs a sealed in-memory copy of the program at `path`
 * (/proc/PID/fd/N of this process), made once and again when the file
 * changes. The native programs re-exec themselves from such a copy unless
 * they already run from one (native/common/sealed.c, CVE-2019-5736): one
 * copy for every container spares each of them that copy and second exec.
 * The copy cannot be written (sealed), and the fd is close-on-exec: only a
 * process allowed to read this process's fds (root) can exec it.
 */
export function sealedProgram(path: string): string {
  const st = statSync(path);
  const stamp = `${st.dev}:${st.ino}:${st.size}:${st.mtimeMs}`;
  const known = sealed.get(path);
  if (known?.stamp === stamp) return `/proc/${process.pid}/fd/${known.fd}`;
  let fd = c.memfdCreate('berth-exec', MFD_CLOEXEC | MFD_ALLOW_SEALING | MFD_EXEC);
  // Kernels before 6.3 know no MFD_EXEC (their memfds are executable).
  if (fd < 0 && koffi.errno() === 22) fd = c.memfdCreate('berth-exec', MFD_CLOEXEC | MFD_ALLOW_SEALING);
  check('memfd_create', fd < 0 ? -1 : 0, path);
  try {
    const bytes = readFileSync(path);
    for (let off = 0; off < bytes.length; ) off += writeSync(fd, bytes, off);
    check('fcntl(F_ADD_SEALS)', c.fcntlDup(fd, F_ADD_SEALS, ALL_SEALS) < 0 ? -1 : 0, path);
  } catch (err) {
    closeSync(fd);
    throw err;
  }
  if (known !== undefined) closeSync(known.fd);
  sealed.set(path, { fd, stamp });
  return `/proc/${process.pid}/fd/${fd}`;
}
