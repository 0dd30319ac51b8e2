/**
 * File system calls relative to directory fds: the primitives with which a
 * rootfs is written without ever following a path string from outside. Each
 * throws a SystemError naming the call and path on failure.
 */
import { c, lastErrno, SYS_openat2, type CPath } from './libc.ts';
import { SystemError } from './error.ts';
import { cpath } from './path.ts';
import { O_CLOEXEC } from './constants.ts';

export type { CPath } from './libc.ts';

function check(ret: number, syscall: string, path?: CPath, dest?: CPath): number {
  if (ret < 0) throw new SystemError(lastErrno(), syscall, path, dest);
  return ret;
}

export interface OpenHow {
  flags: number;
  mode?: number;
  /** RESOLVE_* flags. */
  resolve: number;
}

/**
 * openat2(2): opens `path` relative to `dirfd` under the resolve rules
 * (RESOLVE_IN_ROOT makes `dirfd` the root for `..` and absolute symlinks).
 * O_CLOEXEC is always added.
 */
export function openat2(dirfd: number, path: CPath, how: OpenHow): number {
  const p = cpath(path, 'openat2');
  const buf = Buffer.alloc(24);
  buf.writeBigUInt64LE(BigInt(how.flags | O_CLOEXEC), 0);
  buf.writeBigUInt64LE(BigInt(how.mode ?? 0), 8);
  buf.writeBigUInt64LE(BigInt(how.resolve), 16);
  return check(Number(c.syscall4(SYS_openat2, 'int', dirfd, 'const char *', p, 'void *', buf, 'size_t', 24)), 'openat2', path);
}

/** openat(2) with O_CLOEXEC always added. */
export function openat(dirfd: number, path: CPath, flags: number, mode = 0): number {
  return check(c.openat(dirfd, cpath(path, 'openat'), flags | O_CLOEXEC, 'uint32_t', mode), 'openat', path);
}

export function close(fd: number): void {
  check(c.close(fd), 'close');
}

export function mkdirat(dirfd: number, path: CPath, mode: number): void {
  check(c.mkdirat(dirfd, cpath(path, 'mkdirat'), mode), 'mkdirat', path);
}

/** The kernel's dev_t encoding of a major and minor number (glibc's makedev). */
export function makedev(major: number, minor: number): bigint {
  const ma = BigInt(major >>> 0);
  const mi = BigInt(minor >>> 0);
  return ((ma & 0xfffff000n) << 32n) | ((ma & 0xfffn) << 8n) | ((mi & 0xffffff00n) << 12n) | (mi & 0xffn);
}

/** mknodat(2); `mode` includes the S_IF* type bits. */
export function mknodat(dirfd: number, path: CPath, mode: number, major = 0, minor = 0): void {
  check(c.mknodat(dirfd, cpath(path, 'mknodat'), mode, makedev(major, minor)), 'mknodat', path);
}

export function symlinkat(target: CPath, dirfd: number, path: CPath): void {
  check(c.symlinkat(cpath(target, 'symlinkat'), dirfd, cpath(path, 'symlinkat')), 'symlinkat', path, target);
}

/** linkat(2); without AT_SYMLINK_FOLLOW a symlink is linked itself, never its target. */
export function linkat(olddirfd: number, oldpath: CPath, newdirfd: number, newpath: CPath, flags = 0): void {
  check(c.linkat(olddirfd, cpath(oldpath, 'linkat'), newdirfd, cpath(newpath, 'linkat'), flags), 'linkat', newpath, oldpath);
}

export function unlinkat(dirfd: number, path: CPath, flags = 0): void {
  check(c.unlinkat(dirfd, cpath(path, 'unlinkat'), flags), 'unlinkat', path);
}

export function renameat2(olddirfd: number, oldpath: CPath, newdirfd: number, newpath: CPath, flags = 0): void {
  check(
    c.renameat2(olddirfd, cpath(oldpath, 'renameat2'), newdirfd, cpath(newpath, 'renameat2'), flags),
    'renameat2',
    oldpath,
    newpath,
  );
}

/** readlinkat(2): the link's target as raw bytes. */
export function readlinkat(dirfd: number, path: CPath): Buffer {
  const p = cpath(path, 'readlinkat');
  for (let size = 256; ; size *= 4) {
    const buf = Buffer.alloc(size);
    const n = check(c.readlinkat(dirfd, p, buf, size), 'readlinkat', path);
    if (n < size) return buf.subarray(0, n);
  }
}
