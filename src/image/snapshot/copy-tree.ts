/**
 * Copies a directory tree into a Rootfs with everything a layer carries
 * (types, modes, owners, xattrs, times, device numbers, hard links), for the
 * copying snapshotter. The copy is written by the layer applier itself, fed
 * with entries read from the source, so it obeys the same rules: every
 * write resolved inside the destination root, nothing followed.
 */
import { readSync } from 'node:fs';
import * as sys from '../../sys/index.ts';
import type { TarEntry, EntryType } from '../unpack/entry.ts';
import { LayerApplier } from '../unpack/layer-applier.ts';
import { resolveOptions } from '../unpack/options.ts';
import type { Rootfs } from '../unpack/rootfs.ts';

const CHUNK = 1 << 20;

function typeOf(mode: number): EntryType | undefined {
  const type = sys.fileType(mode);
  return type === 'socket' ? undefined : type; // sockets are not copied, as tar does not carry them
}


/** Copies the tree at `source` (a trusted path: a committed snapshot) into `dest`. */
export function copyTree(source: string, dest: Rootfs, label: string): void {
  const applier = new LayerApplier(dest, resolveOptions({ whiteouts: 'apply' }), label);
  const links = new Map<string, string>();
  const rootfd = sys.openat(sys.AT_FDCWD, source, sys.O_RDONLY | sys.O_DIRECTORY);
  const buf = Buffer.allocUnsafe(CHUNK);
  const walk = (dirfd: number, prefix: string): void => {
    for (const name of sys.listdirfd(dirfd)) {
      const path = prefix + name.toString('latin1');
      const st = sys.statx(dirfd, name, sys.AT_SYMLINK_NOFOLLOW);
      const type = typeOf(st.mode);
      if (type === undefined) continue;
      const entry: TarEntry = {
        path,
        type,
        mode: st.mode & 0o7777,
        uid: st.uid,
        gid: st.gid,
        uname: '',
        gname: '',
        size: type === 'file' ? st.size : 0,
        mtime: st.mtime,
        atime: st.atime,
        linkname: type === 'symlink' ? sys.readlinkat(dirfd, name).toString('latin1') : '',
        devmajor: st.rdevMajor,
        devminor: st.rdevMinor,
        xattrs: sys.xattrsAt(dirfd, name),
        offset: 0,
      };
      const inode = `${st.ino}`;
      const first = type !== 'dir' && st.nlink > 1 ? links.get(inode) : undefined;
      if (first !== undefined) {
        const link: TarEntry = { ...entry, type: 'hardlink', linkname: first, size: 0 };
        applier.entry(link);
        applier.entryEnd(link);
        continue;
      }
      if (type !== 'dir' && st.nlink > 1) links.set(inode, path);
      applier.entry(entry);
      if (type === 'file') {
        const fd = sys.openat(dirfd, name, sys.O_RDONLY | sys.O_NOFOLLOW);
        try {
          for (let n = readSync(fd, buf, 0, CHUNK, null); n > 0; n = readSync(fd, buf, 0, CHUNK, null)) applier.data(buf.subarray(0, n));
        } finally {
          sys.close(fd);
        }
      }
      applier.entryEnd(entry);
      if (type === 'dir') {
        const fd = sys.openat(dirfd, name, sys.O_RDONLY | sys.O_DIRECTORY | sys.O_NOFOLLOW);
        try {
          walk(fd, `${path}/`);
        } finally {
          sys.close(fd);
        }
      }
    }
  };
  try {
    const st = sys.statx(rootfd, '', sys.AT_EMPTY_PATH);
    const root: TarEntry = {
      path: '.', type: 'dir', mode: st.mode & 0o7777, uid: st.uid, gid: st.gid, uname: '', gname: '', size: 0,
      mtime: st.mtime, atime: st.atime, linkname: '', devmajor: 0, devminor: 0, xattrs: undefined, offset: 0,
    };
    applier.entry(root);
    applier.entryEnd(root);
    walk(rootfd, '');
    applier.finish();
  } finally {
    applier.abort();
    sys.close(rootfd);
  }
}
