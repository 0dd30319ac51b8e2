/**
 * A directory that layers are written into, held by an fd. Every path
 * inside it is reached from that fd: parents are opened with openat2
 * RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS (so `..` and symlinks, absolute or
 * not, resolve inside the root, as they will for the container later), and
 * the final component is created or changed with an *at call relative to the
 * parent's fd, never through a path string.
 *
 * Parent fds are cached: a layer writes many files into few directories.
 * The cache is dropped whenever a directory or symlink is removed, since
 * either could change what a cached path resolves to. Dropped fds are only
 * closed at `release()` (between entries), so an fd in use by the entry
 * being applied is never closed under it, nor its number reused.
 */
import { readFileSync } from 'node:fs';
import * as sys from '../../sys/index.ts';
import { errnoCode, invalidArgument } from '../../errors.ts';
import { cbytes, shownName, type Timespec } from './entry.ts';
import { parentOf } from './paths.ts';

const MAX_CACHED = 64;

export class Rootfs implements Disposable {
  readonly path: string;
  readonly fd: number;
  /** The process umask, which the kernel applies to every mode we create with. */
  readonly umask: number;
  private readonly cache = new Map<string, number>();
  private retired: number[] = [];
  /**
   * Called with each directory dirFd had to create (a parent the layer did
   * not list); overlay uppers copy the lower directory's metadata there.
   */
  onCreatedDir: ((path: string, fd: number) => void) | undefined;

  private constructor(path: string, fd: number) {
    this.path = path;
    this.fd = fd;
    this.umask = readUmask();
  }

  /** Opens an existing directory (the caller's own path, trusted) as a root. */
  static open(path: string): Rootfs {
    return new Rootfs(path, sys.openat(sys.AT_FDCWD, path, sys.O_RDONLY | sys.O_DIRECTORY));
  }

  /**
   * An fd for the directory at `path` (binary string, cleaned, '' for the
   * root), resolved inside the root. With `create`, missing directories are
   * made (0755, as umoci's MkdirAll does before the umask).
   */
  dirFd(path: string, create: boolean): number {
    if (path === '') return this.fd;
    const hit = this.cache.get(path);
    if (hit !== undefined) return hit;
    let fd: number;
    try {
      fd = this.openDir(path);
    } catch (err) {
      if (!create || errnoCode(err) !== 'ENOENT') throw err;
      const parent = this.dirFd(parentOf(path), true);
      try {
        sys.mkdirat(parent, cbytes(path.slice(path.lastIndexOf('/') + 1)), 0o755);
      } catch (mkErr) {
        if (errnoCode(mkErr) !== 'EEXIST') throw mkErr;
        // Something is there that does not resolve: a symlink to a missing
        // target. Creating the target through it is not done.
        throw invalidArgument('unpack_parent', `parent "${shownName(path)}" is a symlink whose target is not a directory inside the root`, {
          cause: err,
        });
      }
      fd = this.openDir(path);
      this.onCreatedDir?.(path, fd);
    }
    this.cache.set(path, fd);
    if (this.cache.size > MAX_CACHED) {
      for (const [key, old] of this.cache) {
        this.cache.delete(key);
        this.retired.push(old);
        break;
      }
    }
    return fd;
  }

  private openDir(path: string): number {
    return sys.openInRoot(this.fd, cbytes(path), sys.O_RDONLY | sys.O_DIRECTORY);
  }

  /** Opens any path inside the root (for reading, e.g. /etc/passwd). */
  openIn(path: string, flags: number): number {
    return sys.openInRoot(this.fd, cbytes(path), flags);
  }

  /** Forgets cached parents; call after removing a directory or a symlink. */
  invalidate(): void {
    for (const fd of this.cache.values()) this.retired.push(fd);
    this.cache.clear();
  }

  /** Closes the fds dropped from the cache; call when no fd from dirFd is in use. */
  release(): void {
    if (this.retired.length === 0) return;
    for (const fd of this.retired) sys.close(fd);
    this.retired = [];
  }

  /**
   * Removes `name` in the directory `dirfd` whatever it is, a directory with
   * all it holds included, without following any symlink on the way.
   */
  removeAt(dirfd: number, name: Buffer, wasDirOrLink = true): void {
    try {
      sys.unlinkat(dirfd, name, 0);
    } catch (err) {
      const code = errnoCode(err);
      if (code === 'ENOENT') return;
      if (code !== 'EISDIR') throw err;
      removeTree(dirfd, name);
      this.invalidate();
      return;
    }
    // A directory or symlink that went may have been on a cached path.
    if (wasDirOrLink) this.invalidate();
  }

  setTimes(fd: number, atime: Timespec, mtime: Timespec): void {
    sys.utimensat(fd, null, atime, mtime);
  }

  close(): void {
    this.invalidate();
    this.release();
    sys.close(this.fd);
  }

  [Symbol.dispose](): void {
    this.close();
  }
}

/** Removes the directory `name` in `dirfd` and all it holds, following no symlink (also used by the engine's `cp`). */
export function removeTree(dirfd: number, name: Buffer): void {
  const fd = sys.openat(dirfd, name, sys.O_RDONLY | sys.O_DIRECTORY | sys.O_NOFOLLOW);
  try {
    for (const child of sys.listdirfd(fd)) {
      try {
        sys.unlinkat(fd, child, 0);
      } catch (err) {
        if (errnoCode(err) !== 'EISDIR') throw err;
        removeTree(fd, child);
      }
    }
  } finally {
    sys.close(fd);
  }
  sys.unlinkat(dirfd, name, sys.AT_REMOVEDIR);
}

/** The umask, from /proc (process.umask() without an argument is deprecated). */
function readUmask(): number {
  const m = /^Umask:\s*([0-7]+)$/m.exec(readFileSync('/proc/self/status', 'latin1'));
  return m?.[1] === undefined ? 0o022 : parseInt(m[1], 8);
}
