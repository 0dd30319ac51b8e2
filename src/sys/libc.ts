/**
 * The C library's system call wrappers, bound through koffi (an FFI whose
 * prebuilt binaries ship inside its npm package). Chosen over a second mode
 * of the native executor for long-lived Node processes that make many host
 * calls (unpacking a layer is tens of thousands of calls): a koffi call costs
 * about 0.03 µs above the system call itself, a round trip to a helper
 * process costs more than the call. Loading koffi takes ~20 ms, so nothing
 * on a command's start path imports src/sys: callers use `await import()`.
 *
 * Raw bindings only; the typed, checked wrappers are in the files beside it.
 */
import koffi from 'koffi';
import { unsupported } from '../errors.ts';

if (process.platform !== 'linux' || (process.arch !== 'x64' && process.arch !== 'arm64')) {
  throw unsupported('sys_platform', `host system calls: ${process.platform}/${process.arch} is not supported (linux x64 or arm64)`);
}

/** A C string argument: a JS string (passed as UTF-8) or NUL-terminated bytes. */
export type CPath = string | Uint8Array;
type Ptr = Uint8Array | null;

const lib = koffi.load('libc.so.6');

function bind<T>(decl: string): T {
  return lib.func(decl) as unknown as T;
}

/** errno of the last failed call on this thread. */
export const lastErrno = (): number => koffi.errno();

/** The kernel's openat2 number is 437 on x86_64 and on the generic table (arm64). */
export const SYS_openat2 = 437;

export const c = {
  syscall4: bind<(nr: number, ...args: unknown[]) => number>('long syscall(long nr, ...)'),
  openat: bind<(dirfd: number, path: CPath, flags: number, ...mode: unknown[]) => number>(
    'int openat(int dirfd, const char *path, int flags, ...)',
  ),
  close: bind<(fd: number) => number>('int close(int fd)'),
  mkdirat: bind<(dirfd: number, path: CPath, mode: number) => number>('int mkdirat(int dirfd, const char *path, uint32_t mode)'),
  mknodat: bind<(dirfd: number, path: CPath, mode: number, dev: bigint) => number>(
    'int mknodat(int dirfd, const char *path, uint32_t mode, uint64_t dev)',
  ),
  symlinkat: bind<(target: CPath, dirfd: number, path: CPath) => number>(
    'int symlinkat(const char *target, int dirfd, const char *path)',
  ),
  linkat: bind<(olddirfd: number, oldpath: CPath, newdirfd: number, newpath: CPath, flags: number) => number>(
    'int linkat(int olddirfd, const char *oldpath, int newdirfd, const char *newpath, int flags)',
  ),
  unlinkat: bind<(dirfd: number, path: CPath, flags: number) => number>('int unlinkat(int dirfd, const char *path, int flags)'),
  renameat2: bind<(olddirfd: number, oldpath: CPath, newdirfd: number, newpath: CPath, flags: number) => number>(
    'int renameat2(int olddirfd, const char *oldpath, int newdirfd, const char *newpath, uint32_t flags)',
  ),
  readlinkat: bind<(dirfd: number, path: CPath, buf: Uint8Array, size: number) => number>(
    'intptr_t readlinkat(int dirfd, const char *path, _Out_ void *buf, size_t size)',
  ),
  fchownat: bind<(dirfd: number, path: CPath, uid: number, gid: number, flags: number) => number>(
    'int fchownat(int dirfd, const char *path, uint32_t uid, uint32_t gid, int flags)',
  ),
  fchown: bind<(fd: number, uid: number, gid: number) => number>('int fchown(int fd, uint32_t uid, uint32_t gid)'),
  fchmodat: bind<(dirfd: number, path: CPath, mode: number, flags: number) => number>(
    'int fchmodat(int dirfd, const char *path, uint32_t mode, int flags)',
  ),
  fchmod: bind<(fd: number, mode: number) => number>('int fchmod(int fd, uint32_t mode)'),
  utimensat: bind<(dirfd: number, path: CPath, times: Uint8Array, flags: number) => number>(
    'int utimensat(int dirfd, const char *path, const void *times, int flags)',
  ),
  futimens: bind<(fd: number, times: Uint8Array) => number>('int futimens(int fd, const void *times)'),
  statx: bind<(dirfd: number, path: CPath, flags: number, mask: number, buf: Uint8Array) => number>(
    'int statx(int dirfd, const char *path, int flags, uint32_t mask, _Out_ void *buf)',
  ),
  fsetxattr: bind<(fd: number, name: string, value: Ptr, size: number, flags: number) => number>(
    'int fsetxattr(int fd, const char *name, const void *value, size_t size, int flags)',
  ),
  lsetxattr: bind<(path: CPath, name: string, value: Ptr, size: number, flags: number) => number>(
    'int lsetxattr(const char *path, const char *name, const void *value, size_t size, int flags)',
  ),
  fgetxattr: bind<(fd: number, name: string, value: Ptr, size: number) => number>(
    'intptr_t fgetxattr(int fd, const char *name, _Out_ void *value, size_t size)',
  ),
  lgetxattr: bind<(path: CPath, name: string, value: Ptr, size: number) => number>(
    'intptr_t lgetxattr(const char *path, const char *name, _Out_ void *value, size_t size)',
  ),
  fremovexattr: bind<(fd: number, name: string) => number>('int fremovexattr(int fd, const char *name)'),
  flistxattr: bind<(fd: number, list: Ptr, size: number) => number>('intptr_t flistxattr(int fd, _Out_ void *list, size_t size)'),
  llistxattr: bind<(path: CPath, list: Ptr, size: number) => number>(
    'intptr_t llistxattr(const char *path, _Out_ void *list, size_t size)',
  ),
  mount: bind<(source: CPath | null, target: CPath, fstype: string | null, flags: number, data: string | null) => number>(
    'int mount(const char *source, const char *target, const char *fstype, unsigned long flags, const char *data)',
  ),
  umount2: bind<(target: CPath, flags: number) => number>('int umount2(const char *target, int flags)'),
  fchdir: bind<(fd: number) => number>('int fchdir(int fd)'),
  flock: bind<(fd: number, operation: number) => number>('int flock(int fd, int operation)'),
  getsockopt: bind<(fd: number, level: number, name: number, value: Uint8Array, length: Uint32Array) => number>(
    'int getsockopt(int fd, int level, int name, _Out_ void *value, _Inout_ uint32_t *length)',
  ),
  unshare: bind<(flags: number) => number>('int unshare(int flags)'),
  setns: bind<(fd: number, nstype: number) => number>('int setns(int fd, int nstype)'),
  fcntl: bind<(fd: number, cmd: number, arg: number) => number>('int fcntl(int fd, int cmd, int arg)'),
  execve: bind<(path: string, argv: (string | null)[], envp: (string | null)[]) => number>('int execve(const char *path, const char **argv, const char **envp)'),
};
