/**
 * A hard link in an overlay upper layer to a file of a lower layer: the
 * file is first copied up into the upper layer (content, owner, mode,
 * xattrs, times), as overlayfs itself copies a lower file up before linking
 * it, and the link is then made in the upper layer. The merged view shows
 * one file under both names, as an unpacked tree does.
 */
import { readSync, writeSync } from 'node:fs';
import * as sys from '../../sys/index.ts';
import { invalidArgument } from '../../errors.ts';
import { cbytes, shownName } from './entry.ts';
import type { Found } from './merged-view.ts';
import type { CleanPath } from './paths.ts';
import type { LayerApplier } from './layer-applier.ts';
import { isOverlayXattr } from './layer-applier.ts';

const CHUNK = 1 << 20;

export function copyUp(a: LayerApplier, target: CleanPath, found: Found): void {
  const src = a.view.openDir(found.layerFd, target.parent);
  try {
    const dst = a.parentFd(target.parent);
    const name = cbytes(target.base);
    const st = found.st;
    const type = st.mode & sys.S_IFMT;
    if (type === sys.S_IFREG) copyFile(a, src, dst, name, st);
    else if (type === sys.S_IFLNK) {
      sys.symlinkat(sys.readlinkat(src, name), dst, name);
      if (a.opts.chown) sys.fchownat(dst, name, st.uid, st.gid, sys.AT_SYMLINK_NOFOLLOW);
      sys.utimensat(dst, name, st.atime, st.mtime, sys.AT_SYMLINK_NOFOLLOW);
    } else if (type === sys.S_IFIFO || type === sys.S_IFCHR || type === sys.S_IFBLK) {
      sys.mknodat(dst, name, type | (st.mode & 0o7777), st.rdevMajor, st.rdevMinor);
      if (a.opts.chown) sys.fchownat(dst, name, st.uid, st.gid, sys.AT_SYMLINK_NOFOLLOW);
      sys.fchmodat(dst, name, st.mode & 0o7777, sys.AT_SYMLINK_NOFOLLOW);
      sys.utimensat(dst, name, st.atime, st.mtime, sys.AT_SYMLINK_NOFOLLOW);
    } else {
      throw invalidArgument('unpack.link_target', `hard link target "${shownName(target.path)}" cannot be linked (not a file)`);
    }
    a.markUpper(target.path);
  } finally {
    sys.close(src);
  }
}

function copyFile(a: LayerApplier, src: number, dst: number, name: Buffer, st: sys.Statx): void {
  const input = sys.openat(src, name, sys.O_RDONLY | sys.O_NOFOLLOW);
  let output = -1;
  try {
    output = sys.openat(dst, name, sys.O_WRONLY | sys.O_CREAT | sys.O_EXCL | sys.O_NOFOLLOW, 0o600);
    const buf = Buffer.allocUnsafe(CHUNK);
    for (let n = readSync(input, buf, 0, CHUNK, null); n > 0; n = readSync(input, buf, 0, CHUNK, null)) {
      for (let off = 0; off < n; ) off += writeSync(output, buf, off, n - off);
    }
    if (a.opts.chown) sys.fchown(output, st.uid, st.gid);
    // After the chown, which clears setuid and setgid.
    sys.fchmod(output, st.mode & 0o7777);
    for (const [k, v] of sys.xattrsAt(src, name) ?? []) {
      if (!isOverlayXattr(k) && !k.startsWith('security.selinux')) sys.fsetxattr(output, k, v);
    }
    sys.utimensat(output, null, st.atime, st.mtime);
  } finally {
    if (output >= 0) sys.close(output);
    sys.close(input);
  }
}
