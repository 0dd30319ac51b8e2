/**
 * What a path names in the tree a layer is applied onto, taken literally:
 * every component before the last must be a directory, never a symlink
 * followed. With overlay whiteouts the tree is the layer's own upper
 * directory over the lower layers' directories, looked up as overlayfs does
 * (the nearest layer wins; a 0:0 character device hides a name; an opaque
 * directory or a non-directory hides what is below it); otherwise it is the
 * one directory being unpacked into.
 *
 * Whiteouts are looked up this way in both modes, so `image unpack` and
 * `image mount` agree: a whiteout behind a symlink hides nothing. Entries
 * and hard-link targets follow symlinks inside the root in both: the kernel
 * does it (RESOLVE_IN_ROOT) in one tree, `resolve` does it over the layers.
 */
import * as sys from '../../sys/index.ts';
import { errnoCode, invalidArgument } from '../../errors.ts';
import { cbytes, shownName } from './entry.ts';

export interface Found {
  /** The layer's root fd (0: the directory being written). */
  layerFd: number;
  st: sys.Statx;
}

const MISSING = new Set(['ENOENT', 'ENOTDIR', 'ELOOP']);
const ENOTDIR = 20;
const ELOOP = 40;
/** As the kernel's limit on symlinks followed in one lookup. */
const MAX_SYMLINKS = 40;

export class MergedView implements Disposable {
  readonly upper: number;
  /** The lower layers' root fds, nearest first (none when unpacking into one tree). */
  readonly lowers: readonly number[];
  private readonly opaqueName: string | undefined;
  /** Directories looked up, with how many layers merge below them. */
  private readonly dirs = new Map<string, { found: Found; depth: number }>();

  /** `overlayPrefix` is set when the upper holds overlay whiteouts (their xattr prefix). */
  constructor(upper: number, lowerDirs: readonly string[], overlayPrefix: string | undefined) {
    this.upper = upper;
    this.opaqueName = overlayPrefix === undefined ? undefined : `${overlayPrefix}opaque`;
    const lowers: number[] = [];
    try {
      for (const d of lowerDirs) lowers.push(sys.openat(sys.AT_FDCWD, d, sys.O_RDONLY | sys.O_DIRECTORY));
    } catch (err) {
      for (const fd of lowers) sys.close(fd);
      throw err;
    }
    this.lowers = lowers;
  }

  /** The nearest object at `path` ('' for the root), or undefined when the path does not resolve literally to one. */
  lookup(path: string): Found | undefined {
    if (path === '') return { layerFd: this.upper, st: sys.statx(this.upper, '', sys.AT_EMPTY_PATH) };
    const layers = [this.upper, ...this.lowers];
    let depth = layers.length;
    let prefix = '';
    let found: Found | undefined;
    for (const part of path.split('/')) {
      if (found !== undefined && (found.st.mode & sys.S_IFMT) !== sys.S_IFDIR) return undefined;
      prefix = prefix === '' ? part : `${prefix}/${part}`;
      const known = this.dirs.get(prefix);
      if (known !== undefined) {
        ({ found, depth } = known);
        continue;
      }
      found = undefined;
      let below = depth;
      for (let i = 0; i < depth; i++) {
        const fd = layers[i] ?? -1;
        const st = this.lstat(fd, prefix);
        if (st === undefined) continue;
        const isDir = (st.mode & sys.S_IFMT) === sys.S_IFDIR;
        const last = i === depth - 1;
        if (found === undefined) {
          if (this.isWhiteout(st)) return undefined;
          found = { layerFd: fd, st };
          if (!isDir || (!last && this.isOpaque(fd, prefix))) {
            below = i + 1;
            break;
          }
        } else if (!isDir || (!last && this.isOpaque(fd, prefix))) {
          // A directory above merges with this one only; what is below it is hidden.
          below = isDir ? i + 1 : i;
          break;
        }
      }
      if (found === undefined) return undefined;
      depth = below;
      if ((found.st.mode & sys.S_IFMT) === sys.S_IFDIR) this.dirs.set(prefix, { found, depth });
    }
    return found;
  }

  /**
   * Forgets the directories looked up; call when the upper layer changes
   * what a path names (a directory, symlink or whiteout made or removed).
   * Only directories are remembered, so a file made meanwhile is never
   * mistaken for missing.
   */
  forget(): void {
    this.dirs.clear();
  }

  /** True when the upper layer itself has the directory `path`, reached without following a symlink. */
  inUpper(path: string): boolean {
    try {
      sys.close(this.openDir(this.upper, path));
      return true;
    } catch (err) {
      if (MISSING.has(errnoCode(err) ?? '')) return false;
      throw err;
    }
  }

  /** True when `path` is a directory reached without following a symlink. */
  isDir(path: string): boolean {
    const f = this.lookup(path);
    return f !== undefined && (f.st.mode & sys.S_IFMT) === sys.S_IFDIR;
  }

  /**
   * The literal path of the directory `path` names once every symlink on the
   * way is followed inside the root, as RESOLVE_IN_ROOT follows them in an
   * unpacked tree; missing components of the entry's own path are kept (the
   * caller creates them). A symlink whose target is missing is refused, as
   * Rootfs.dirFd refuses it.
   */
  resolve(path: string): string {
    let out: string[] = [];
    let rest = path.split('/');
    // The components of `path` itself are the tail of `rest`; what precedes them came from symlinks.
    let own = rest.length;
    let links = 0;
    while (rest.length > 0) {
      const fromPath = rest.length <= own;
      if (fromPath) own--;
      const part = rest.shift() ?? '';
      if (part === '' || part === '.') continue;
      if (part === '..') {
        out.pop();
        continue;
      }
      const here = [...out, part].join('/');
      const f = this.lookup(here);
      if (f === undefined) {
        if (fromPath) return [...out, part, ...rest].filter((p) => p !== '' && p !== '.').join('/');
        throw invalidArgument('unpack.parent', `parent "${shownName(path)}" is a symlink whose target is not a directory inside the root`);
      }
      const type = f.st.mode & sys.S_IFMT;
      if (type === sys.S_IFLNK) {
        if (++links > MAX_SYMLINKS) throw new sys.SystemError(ELOOP, 'openat2', path);
        const dfd = this.openDir(f.layerFd, out.join('/'));
        let target: string;
        try {
          target = sys.readlinkat(dfd, cbytes(part)).toString('latin1');
        } finally {
          sys.close(dfd);
        }
        if (target.startsWith('/')) out = [];
        rest = [...target.split('/'), ...rest];
        continue;
      }
      if (type !== sys.S_IFDIR) throw new sys.SystemError(ENOTDIR, 'openat2', path);
      out.push(part);
    }
    return out.join('/');
  }

  /** An fd of the directory `dir` inside the layer `layerFd`, resolved without symlinks (the caller closes it). */
  openDir(layerFd: number, dir: string): number {
    if (dir === '') return sys.openat(layerFd, '.', sys.O_PATH | sys.O_DIRECTORY);
    return sys.openat2(layerFd, cbytes(dir), { flags: sys.O_PATH | sys.O_DIRECTORY, resolve: sys.RESOLVE_NO_SYMLINKS | sys.RESOLVE_BENEATH });
  }

  private lstat(fd: number, path: string): sys.Statx | undefined {
    try {
      return sys.statx(fd, cbytes(path), sys.AT_SYMLINK_NOFOLLOW);
    } catch (err) {
      if (MISSING.has(errnoCode(err) ?? '')) return undefined;
      throw err;
    }
  }

  private isWhiteout(st: sys.Statx): boolean {
    return this.opaqueName !== undefined && (st.mode & sys.S_IFMT) === sys.S_IFCHR && st.rdevMajor === 0 && st.rdevMinor === 0;
  }

  private isOpaque(fd: number, dir: string): boolean {
    if (this.opaqueName === undefined) return false;
    // Every component of `dir` is a directory in this layer (lookup checked each): one call through the layer's fd.
    const path = Buffer.concat([Buffer.from(`/proc/self/fd/${fd}/`), cbytes(dir)]);
    return sys.lgetxattr(path, this.opaqueName)?.toString('latin1') === 'y';
  }

  [Symbol.dispose](): void {
    for (const fd of this.lowers) sys.close(fd);
  }
}
