/**
 * Reads the image's /etc/passwd and /etc/group from an unpacked rootfs.
 * The rootfs is the image's to shape: either file may be a symlink to a
 * host path, a FIFO that would block a reader, or huge. So each is opened
 * with openat2 RESOLVE_IN_ROOT (symlinks resolve inside the rootfs),
 * O_NONBLOCK, must be a regular file, and is read up to a size limit.
 */
import { closeSync, readSync } from 'node:fs';
import * as sys from '../../sys/index.ts';
import { errnoCode, invalidArgument } from '../../errors.ts';
import type { Rootfs } from '../unpack/rootfs.ts';
import type { UserDb } from './user.ts';

const MAX_SIZE = 16 * 1024 * 1024;

function readInRoot(root: Rootfs, path: string): string | undefined {
  let fd: number;
  try {
    fd = root.openIn(path, sys.O_RDONLY | sys.O_NONBLOCK);
  } catch (err) {
    const code = errnoCode(err);
    if (code === 'ENOENT' || code === 'ENOTDIR') return undefined;
    if (code === 'ELOOP') throw invalidArgument('image_userdb', `image /${path}: a symlink loop`, { cause: err });
    throw err;
  }
  try {
    const st = sys.statx(fd, '', sys.AT_EMPTY_PATH);
    if ((st.mode & sys.S_IFMT) !== sys.S_IFREG) throw invalidArgument('image_userdb', `image /${path}: not a regular file`);
    if (st.size > MAX_SIZE) throw invalidArgument('image_userdb', `image /${path}: ${st.size} bytes, more than ${MAX_SIZE}`);
    const buf = Buffer.alloc(st.size);
    let off = 0;
    while (off < buf.length) {
      const n = readSync(fd, buf, off, buf.length - off, off);
      if (n === 0) break;
      off += n;
    }
    return buf.subarray(0, off).toString('utf8');
  } finally {
    closeSync(fd);
  }
}

export function readUserDb(root: Rootfs): UserDb {
  return { passwd: readInRoot(root, 'etc/passwd'), group: readInRoot(root, 'etc/group') };
}
