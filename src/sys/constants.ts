/**
 * Linux constants for the host system calls of src/sys. Flags whose values
 * differ between architectures come from Node's own `fs.constants` (compiled
 * for this machine); the rest are the same on x86_64 and arm64, the two
 * architectures berth runs on (checked in libc.ts).
 */
import { constants as fsc } from 'node:fs';

export const AT_FDCWD = -100;
export const AT_SYMLINK_NOFOLLOW = 0x100;
export const AT_REMOVEDIR = 0x200;
export const AT_SYMLINK_FOLLOW = 0x400;
export const AT_EMPTY_PATH = 0x1000;

export const O_RDONLY = fsc.O_RDONLY;
export const O_WRONLY = fsc.O_WRONLY;
export const O_RDWR = fsc.O_RDWR;
export const O_CREAT = fsc.O_CREAT;
export const O_EXCL = fsc.O_EXCL;
export const O_TRUNC = fsc.O_TRUNC;
export const O_DIRECTORY = fsc.O_DIRECTORY;
export const O_NOFOLLOW = fsc.O_NOFOLLOW;
export const O_NONBLOCK = fsc.O_NONBLOCK;
export const O_CLOEXEC = 0o2000000;
export const O_PATH = 0o10000000;

/** openat2(2) `resolve` flags. */
export const RESOLVE_NO_XDEV = 0x01;
export const RESOLVE_NO_MAGICLINKS = 0x02;
export const RESOLVE_NO_SYMLINKS = 0x04;
export const RESOLVE_BENEATH = 0x08;
export const RESOLVE_IN_ROOT = 0x10;

export const S_IFMT = 0o170000;
export const S_IFSOCK = 0o140000;
export const S_IFLNK = 0o120000;
export const S_IFREG = 0o100000;
export const S_IFBLK = 0o060000;
export const S_IFDIR = 0o040000;
export const S_IFCHR = 0o020000;
export const S_IFIFO = 0o010000;

export const RENAME_NOREPLACE = 1;
export const RENAME_EXCHANGE = 2;
export const RENAME_WHITEOUT = 4;

export const XATTR_CREATE = 1;
export const XATTR_REPLACE = 2;

/** utimensat(2): leave this timestamp as it is. */
export const UTIME_OMIT = (1 << 30) - 2;

export const MS_RDONLY = 1;
export const MS_NOSUID = 2;
export const MS_NODEV = 4;
export const MS_NOEXEC = 8;
export const MS_REMOUNT = 32;
export const MS_BIND = 4096;
export const MS_MOVE = 8192;
export const MS_REC = 16384;
export const MS_PRIVATE = 1 << 18;

export const MNT_FORCE = 1;
export const MNT_DETACH = 2;
export const UMOUNT_NOFOLLOW = 8;

/** statx(2) mask: the basic stat fields. */
export const STATX_BASIC_STATS = 0x7ff;

export type FileType = 'file' | 'dir' | 'symlink' | 'char' | 'block' | 'fifo' | 'socket';

/** The type of a file from its st_mode. */
export function fileType(mode: number): FileType {
  switch (mode & S_IFMT) {
    case S_IFREG:
      return 'file';
    case S_IFDIR:
      return 'dir';
    case S_IFLNK:
      return 'symlink';
    case S_IFCHR:
      return 'char';
    case S_IFBLK:
      return 'block';
    case S_IFIFO:
      return 'fifo';
    default:
      return 'socket';
  }
}
