/**
 * OCI whiteouts (image-spec layer.md): `.wh.NAME` hides NAME of the lower
 * layers, `.wh..wh..opq` hides everything the lower layers put in its
 * directory. Either applies only to lower layers: what this layer itself
 * wrote (tracked in `upper`, with ancestors) stays, as umoci does it. Other
 * `.wh..wh.` names are AUFS bookkeeping and are skipped.
 */
import * as sys from '../../sys/index.ts';
import { errnoCode, invalidArgument } from '../../errors.ts';
import { cbytes, shownName } from './entry.ts';
import type { CleanPath } from './paths.ts';
import type { LayerApplier } from './layer-applier.ts';

export const WHITEOUT_PREFIX = '.wh.';
export const OPAQUE_WHITEOUT = '.wh..wh..opq';
const META_PREFIX = '.wh..wh.';

/** The whiteout's target name, or undefined for AUFS metadata and opaque markers. */
function hiddenName(cp: CleanPath): string | undefined {
  if (cp.base.startsWith(META_PREFIX)) return undefined;
  const name = cp.base.slice(WHITEOUT_PREFIX.length);
  if (name === '' || name === '.' || name === '..') {
    throw invalidArgument('unpack.whiteout', `whiteout "${shownName(cp.base)}" names no file`);
  }
  return name;
}

const isMissing = (err: unknown): boolean => ['ENOENT', 'ENOTDIR'].includes(errnoCode(err) ?? '');

/** Whiteouts applied to one tree: the lower files are removed. */
export function applyWhiteout(a: LayerApplier, cp: CleanPath): void {
  const opaque = cp.base === OPAQUE_WHITEOUT;
  const name = opaque ? undefined : hiddenName(cp);
  if (!opaque && name === undefined) return;
  // A whiteout hides names in the directory its path names literally; behind a symlink (or nowhere) it hides nothing.
  if (!a.view.isDir(cp.parent)) return;
  const dirfd = a.parentFd(cp.parent);
  if (opaque) removeLowerChildren(a, dirfd, cp.parent);
  else if (name !== undefined) removeLower(a, dirfd, cp.parent === '' ? name : `${cp.parent}/${name}`, name);
}

/** Removes `path` (named `name` in `dirfd`) unless this layer wrote it; a written directory keeps only what this layer wrote. */
function removeLower(a: LayerApplier, dirfd: number, path: string, name: string): void {
  const cname = cbytes(name);
  if (!a.upper.has(path)) {
    a.root.removeAt(dirfd, cname);
    return;
  }
  let fd: number;
  try {
    fd = sys.openat(dirfd, cname, sys.O_RDONLY | sys.O_DIRECTORY | sys.O_NOFOLLOW);
  } catch (err) {
    // Not a directory (or gone): this layer's own file stays as it is.
    if (isMissing(err) || errnoCode(err) === 'ELOOP') return;
    throw err;
  }
  try {
    removeLowerChildren(a, fd, path);
  } finally {
    sys.close(fd);
  }
}

function removeLowerChildren(a: LayerApplier, dirfd: number, dir: string): void {
  for (const child of sys.listdirfd(dirfd)) {
    const name = child.toString('latin1');
    removeLower(a, dirfd, dir === '' ? name : `${dir}/${name}`, name);
  }
}

/**
 * Whiteouts for a layer unpacked into its own overlay upper directory: a
 * 0:0 character device hides a name, the `opaque` xattr hides a directory's
 * lower contents (what overlayfs itself writes).
 */
export function applyOverlayWhiteout(a: LayerApplier, cp: CleanPath): void {
  // As applyWhiteout: a parent that is no directory in the merged tree (a lower symlink) is never made one.
  if (!a.view.isDir(cp.parent)) return;
  const dirfd = a.parentFd(cp.parent);
  if (cp.base === OPAQUE_WHITEOUT) {
    sys.fsetxattr(dirfd, `${a.opts.overlayXattrPrefix}opaque`, Buffer.from('y'));
    a.markUpper(cp.parent);
    return;
  }
  const name = hiddenName(cp);
  if (name === undefined) return;
  const path = cp.parent === '' ? name : `${cp.parent}/${name}`;
  // A name this layer wrote itself is not hidden by its own whiteout.
  if (a.upper.has(path)) return;
  try {
    sys.mknodat(dirfd, cbytes(name), sys.S_IFCHR, 0, 0);
  } catch (err) {
    if (errnoCode(err) !== 'EEXIST') throw err;
  }
  a.markUpper(path);
}
