/**
 * Looking at and changing a step's mounted root from the host, always
 * resolved inside it (openat2 RESOLVE_IN_ROOT): the root is the image's to
 * shape, so any of its paths may be a symlink pointing anywhere.
 */
import * as sys from '../../../sys/index.ts';
import { errnoCode, failedPrecondition, notFound } from '../../../errors.ts';
import { cbytes } from '../../unpack/entry.ts';
import type { Rootfs } from '../../unpack/rootfs.ts';

export interface Resolved {
  /** The path with every symlink resolved inside the root, relative ("" for the root). */
  path: string;
  /** What is there: undefined when nothing (the path's parent exists, its last part does not). */
  type: 'dir' | 'file' | 'other' | undefined;
}

/** Opens `rel` inside the root with O_PATH; undefined when it does not exist. */
function openPath(root: Rootfs, rel: string): number | undefined {
  try {
    return sys.openInRoot(root.fd, cbytes(rel), sys.O_PATH);
  } catch (err) {
    if (errnoCode(err) === 'ENOENT' || errnoCode(err) === 'ENOTDIR') return undefined;
    throw err;
  }
}

/** Where `fd` is, relative to the root (the kernel tells through /proc). */
function pathOf(root: Rootfs, fd: number): string {
  const rel = sys.pathInRoot(root.fd, fd);
  if (rel === undefined) throw failedPrecondition('build_path_escape', `a path resolved in the root ${root.path} is not inside it`);
  return rel;
}

/**
 * Resolves an image path (relative, binary string) inside the root: the
 * longest existing prefix with symlinks followed in the root, plus the
 * rest as written. A missing part in the middle of the path is kept too
 * (it will be created). A dangling symlink in the way is an error.
 */
export function resolveInRoot(root: Rootfs, rel: string): Resolved {
  const parts = rel === '' ? [] : rel.split('/');
  for (let n = parts.length; n >= 0; n--) {
    const prefix = parts.slice(0, n).join('/');
    const fd = n === 0 ? sys.openat(root.fd, '.', sys.O_PATH) : openPath(root, prefix);
    if (fd === undefined) continue;
    try {
      const st = sys.statx(fd, '', sys.AT_EMPTY_PATH);
      const base = pathOf(root, fd);
      const rest = parts.slice(n);
      if (rest.length > 0 && (st.mode & sys.S_IFMT) !== sys.S_IFDIR) {
        throw failedPrecondition('build_not_a_directory', `"/${prefix}" is not a directory`);
      }
      if (rest.length > 0) {
        const next = rest[0] ?? '';
        // The next part exists but did not resolve: a symlink whose target is missing.
        if (isSymlinkAt(fd, next)) throw notFound('build_dangling_symlink', `"/${prefix === '' ? next : `${prefix}/${next}`}" is a symlink to something that does not exist`);
      }
      const path = [base, ...rest].filter((p) => p !== '').join('/');
      const kind = (st.mode & sys.S_IFMT) === sys.S_IFDIR ? 'dir' : (st.mode & sys.S_IFMT) === sys.S_IFREG ? 'file' : 'other';
      return { path, type: rest.length === 0 ? kind : undefined };
    } finally {
      sys.close(fd);
    }
  }
  throw failedPrecondition('build_root_unopenable', `the root ${root.path} itself cannot be opened`);
}

function isSymlinkAt(dirfd: number, name: string): boolean {
  try {
    const st = sys.statx(dirfd, cbytes(name), sys.AT_SYMLINK_NOFOLLOW);
    return (st.mode & sys.S_IFMT) === sys.S_IFLNK;
  } catch {
    return false;
  }
}
