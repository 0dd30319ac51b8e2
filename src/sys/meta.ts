/**
 * Ownership, modes, timestamps and stat, by fd or relative to a directory fd.
 */
import { c, lastErrno, type CPath } from './libc.ts';
import { SystemError } from './error.ts';
import { cpath } from './path.ts';
import { AT_FDCWD, AT_SYMLINK_NOFOLLOW, STATX_BASIC_STATS, UTIME_OMIT } from './constants.ts';

function check(ret: number, syscall: string, path?: CPath): void {
  if (ret < 0) throw new SystemError(lastErrno(), syscall, path);
}

export function fchownat(dirfd: number, path: CPath, uid: number, gid: number, flags: number): void {
  check(c.fchownat(dirfd, cpath(path, 'fchownat'), uid, gid, flags), 'fchownat', path);
}

export function fchown(fd: number, uid: number, gid: number): void {
  check(c.fchown(fd, uid, gid), 'fchown');
}

/**
 * fchmodat(2). With AT_SYMLINK_NOFOLLOW on a symlink, Linux has no mode to
 * set and the C library answers EOPNOTSUPP; callers chmod only non-links.
 */
export function fchmodat(dirfd: number, path: CPath, mode: number, flags: number): void {
  check(c.fchmodat(dirfd, cpath(path, 'fchmodat'), mode, flags), 'fchmodat', path);
}

export function fchmod(fd: number, mode: number): void {
  check(c.fchmod(fd, mode), 'fchmod');
}

/** A timestamp with nanoseconds; `undefined` in utimensat leaves it unchanged. */
export interface Timespec {
  sec: number;
  nsec: number;
}

const timesBuf = Buffer.alloc(32);

/** A signed 64-bit value from a safe integer, without a BigInt per call (this runs once per file). */
function putInt64(buf: Buffer, off: number, v: number): void {
  const high = Math.floor(v / 0x1_0000_0000);
  buf.writeUInt32LE(v - high * 0x1_0000_0000, off);
  buf.writeInt32LE(high, off + 4);
}

function getInt64(buf: Buffer, off: number): number {
  return buf.readInt32LE(off + 4) * 0x1_0000_0000 + buf.readUInt32LE(off);
}

function putTime(off: number, t: Timespec | undefined): void {
  if (t === undefined) {
    putInt64(timesBuf, off, 0);
    putInt64(timesBuf, off + 8, UTIME_OMIT);
  } else {
    putInt64(timesBuf, off, Math.trunc(t.sec));
    putInt64(timesBuf, off + 8, t.nsec);
  }
}

/**
 * utimensat(2). `path` null sets the times of the fd itself (futimens);
 * AT_SYMLINK_NOFOLLOW sets a symlink's own times.
 */
export function utimensat(dirfd: number, path: CPath | null, atime: Timespec | undefined, mtime: Timespec | undefined, flags = 0): void {
  putTime(0, atime);
  putTime(16, mtime);
  // glibc refuses a NULL path in utimensat (EINVAL); futimens is that call.
  if (path === null) check(c.futimens(dirfd, timesBuf), 'futimens');
  else check(c.utimensat(dirfd, cpath(path, 'utimensat'), timesBuf, flags), 'utimensat', path);
}

export interface Statx {
  mode: number;
  uid: number;
  gid: number;
  nlink: number;
  ino: bigint;
  size: number;
  atime: Timespec;
  mtime: Timespec;
  ctime: Timespec;
  rdevMajor: number;
  rdevMinor: number;
  devMajor: number;
  devMinor: number;
}

const statxBuf = Buffer.alloc(256);

function timeAt(off: number): Timespec {
  return { sec: getInt64(statxBuf, off), nsec: statxBuf.readUInt32LE(off + 8) };
}

const STATX_ATTR_MOUNT_ROOT = 0x2000n;

/**
 * Whether `path` (absolute; a final symlink not followed) is the root of a
 * mount, from statx's STATX_ATTR_MOUNT_ROOT (Linux 5.8): one call, where
 * reading /proc/self/mountinfo grows with every mount on the host.
 * Undefined when the kernel does not say.
 */
export function isMountRoot(path: string): boolean | undefined {
  check(c.statx(AT_FDCWD, cpath(path, 'statx'), AT_SYMLINK_NOFOLLOW, STATX_BASIC_STATS, statxBuf), 'statx', path);
  if ((statxBuf.readBigUInt64LE(56) & STATX_ATTR_MOUNT_ROOT) === 0n) return undefined;
  return (statxBuf.readBigUInt64LE(8) & STATX_ATTR_MOUNT_ROOT) !== 0n;
}

/** statx(2) of `path` relative to `dirfd` (AT_EMPTY_PATH with "" for the fd itself). */
export function statx(dirfd: number, path: CPath, flags: number): Statx {
  check(c.statx(dirfd, cpath(path, 'statx'), flags, STATX_BASIC_STATS, statxBuf), 'statx', path);
  return {
    nlink: statxBuf.readUInt32LE(16),
    uid: statxBuf.readUInt32LE(20),
    gid: statxBuf.readUInt32LE(24),
    mode: statxBuf.readUInt16LE(28),
    ino: statxBuf.readBigUInt64LE(32),
    size: getInt64(statxBuf, 40),
    atime: timeAt(64),
    ctime: timeAt(96),
    mtime: timeAt(112),
    rdevMajor: statxBuf.readUInt32LE(128),
    rdevMinor: statxBuf.readUInt32LE(132),
    devMajor: statxBuf.readUInt32LE(136),
    devMinor: statxBuf.readUInt32LE(140),
  };
}
