/**
 * An overlayfs upper directory as an OCI layer: the upper dir already holds
 * exactly what changed, with overlay's markers for what was removed. A 0:0
 * character device (or a file with the `overlay.whiteout` xattr) hides a
 * lower name and becomes `.wh.NAME`; a directory with `overlay.opaque` = "y"
 * hides all lower content and gets a `.wh..wh..opq` entry right after it.
 * Redirected or metacopy entries cannot be expressed in a layer: mounts for
 * builds turn those features off, and meeting one here is an error.
 */
import * as sys from '../../../sys/index.ts';
import { internal } from '../../../errors.ts';
import { headerOf, readNode, whiteoutHeader } from './node.ts';
import type { DiffItem } from './diff.ts';

const PREFIXES = ['trusted.overlay.', 'user.overlay.'];

function overlayAttr(all: Map<string, Buffer> | undefined, name: string): string | undefined {
  for (const p of PREFIXES) {
    const v = all?.get(`${p}${name}`);
    if (v !== undefined) return v.toString('latin1');
  }
  return undefined;
}

const byBytes = (a: Buffer, b: Buffer): number => Buffer.compare(a, b);

/** The layer entries of an upper directory, parents first, names sorted bytewise. */
export function* overlayDiff(upperFd: number): Generator<DiffItem> {
  const links = new Map<bigint, string>();
  function* walk(dirfd: number, prefix: string): Generator<DiffItem> {
    for (const nameBuf of sys.listdirfd(dirfd).sort(byBytes)) {
      const name = nameBuf.toString('latin1');
      const path = prefix === '' ? name : `${prefix}/${name}`;
      const n = readNode(dirfd, nameBuf);
      if (overlayAttr(n.allXattrs, 'redirect') !== undefined || overlayAttr(n.allXattrs, 'metacopy') !== undefined) {
        throw internal('build_overlay_feature', `upper entry "${path}": overlay redirect_dir or metacopy in use; such an upper dir is not a layer`);
      }
      const whiteout =
        (n.type === 'char' && n.st.rdevMajor === 0 && n.st.rdevMinor === 0) || (n.type === 'file' && n.st.size === 0 && overlayAttr(n.allXattrs, 'whiteout') !== undefined);
      if (whiteout) {
        yield { header: whiteoutHeader(prefix, name) };
        continue;
      }
      if (n.type === 'socket') continue;
      if (n.type === 'file' && n.st.nlink > 1) {
        const first = links.get(n.st.ino);
        if (first !== undefined) {
          yield { header: { ...headerOf(path, n), type: 'hardlink', linkname: first, size: 0 } };
          continue;
        }
        links.set(n.st.ino, path);
      }
      yield { header: headerOf(path, n), ...(n.type === 'file' ? { path } : {}) };
      if (n.type !== 'dir') continue;
      if (overlayAttr(n.allXattrs, 'opaque') === 'y') yield { header: whiteoutHeader(path, '', true) };
      const fd = sys.openat(dirfd, nameBuf, sys.O_RDONLY | sys.O_DIRECTORY | sys.O_NOFOLLOW);
      try {
        yield* walk(fd, path);
      } finally {
        sys.close(fd);
      }
    }
  }
  yield* walk(upperFd, '');
}
