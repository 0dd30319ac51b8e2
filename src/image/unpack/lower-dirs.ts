/**
 * Parents missing from an overlay upper layer take the metadata of the
 * lower directory they will cover (mode, owner, times), as containerd's
 * mkparent does: otherwise the merged view would show a default 0755 root
 * directory over the image's own. Lower directories are opened from their
 * own root fds (the caller's) with RESOLVE_IN_ROOT.
 */
import * as sys from '../../sys/index.ts';
import { cbytes } from './entry.ts';
import type { Rootfs } from './rootfs.ts';

const IN_ROOT = sys.RESOLVE_IN_ROOT | sys.RESOLVE_NO_MAGICLINKS;

/** `created` is told of each directory made, after its metadata is set (its times are restored at the layer's end). */
export function inheritLowerDirs(root: Rootfs, lowers: readonly number[], chown: boolean, created: (path: string, fd: number) => void): Disposable {
  if (lowers.length === 0) return { [Symbol.dispose]: () => undefined };
  root.onCreatedDir = (path, fd) => {
    for (const lower of lowers) {
      let src: number;
      try {
        src = sys.openat2(lower, cbytes(path), { flags: sys.O_RDONLY | sys.O_DIRECTORY | sys.O_NOFOLLOW, resolve: IN_ROOT });
      } catch {
        continue; // not in this lower (or not a directory there): look further down
      }
      try {
        const st = sys.statx(src, '', sys.AT_EMPTY_PATH);
        if (chown) sys.fchown(fd, st.uid, st.gid);
        sys.fchmod(fd, st.mode & 0o7777);
        sys.utimensat(fd, null, st.atime, st.mtime);
      } finally {
        sys.close(src);
      }
      break;
    }
    created(path, fd);
  };
  return {
    [Symbol.dispose]: () => {
      root.onCreatedDir = undefined;
    },
  };
}
