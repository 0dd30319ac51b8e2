/**
 * `PUT /containers/{id}/archive`: a tar stream's entries written into a
 * directory of a container, by dockerd's rules (its archive.Untar):
 * - names are taken relative to the destination (a leading "/" dropped); a
 *   name, a hard link target or a relative symlink target that climbs out
 *   of the destination is refused ("breakout");
 * - a missing parent is created (0755); what exists at a name is replaced
 *   unless both are directories, or refused with noOverwriteDirNonDir;
 * - owners are the archive's, or the container user's with copyUIDGID;
 *   modes (setuid included), xattrs (where the file system takes them) and
 *   times are the archive's; directories get their times last.
 * Every parent is resolved in the container's view (ContainerFs: symlinks
 * inside the container, mounts crossed), then the entry is made relative to
 * the parent's fd with O_EXCL / O_NOFOLLOW / *at calls, so neither a symlink
 * in the archive nor one in the container leads out of it.
 * Where berth is stricter than dockerd, because dockerd relies on the kernel
 * (the mounts are really there in its case) and berth writes into the
 * mounts' host directories: a write into a read-only mount or a read-only
 * rootfs is refused entry by entry, wherever a symlink leads; a hard link
 * between two mounts is refused (the kernel's EXDEV under dockerd); a device
 * node is refused inside a bind mount or volume (a host directory outside
 * the container's device cgroup) and made only in the rootfs, as dockerd does.
 */
import { writeSync } from 'node:fs';
import * as sys from '../../sys/index.ts';
import { BerthError, describeError, errnoCode, ErrorKind, failedPrecondition, invalidArgument } from '../../errors.ts';
import { cbytes, displayName, shownName, type TarEntry } from '../../image/unpack/entry.ts';
import { cleanEntryPath, type CleanPath } from '../../image/unpack/paths.ts';
import { removeTree } from '../../image/unpack/rootfs.ts';
import type { TarHandler } from '../../image/tar/reader.ts';
import type { ContainerFs, ContainerMount, Node } from './container-fs.ts';

export interface Owner {
  uid: number;
  gid: number;
}

export interface ExtractOptions {
  /** Refuse to replace a directory with a non-directory or the reverse (the API's noOverwriteDirNonDir). */
  noOverwriteDirNonDir?: boolean;
  /** Every entry owned by this user (the API's copyUIDGID: dockerd gives the container's user); else the archive's owners. */
  owner?: Owner | undefined;
}

const MAX_PARENTS = 64;

function joinPath(parent: string, rel: string): string {
  if (rel === '') return parent;
  return parent === '/' ? `/${rel}` : `${parent}/${rel}`;
}

/** Refuses a write at `path` on a read-only mount or a read-only rootfs (permission_denied `cp_read_only`, dockerd's 403). */
export function refuseReadonly(node: { readonly: boolean; mount: ContainerMount | undefined }, path: string): void {
  if (!node.readonly) return;
  const where = node.mount !== undefined ? `the mount at "${displayName(node.mount.target)}" is read-only` : "the container's root file system is read-only";
  throw new BerthError(ErrorKind.PermissionDenied, 'cp_read_only', `container path "${displayName(path)}": ${where}`);
}

export class Extractor implements TarHandler {
  private readonly cfs: ContainerFs;
  private readonly dest: Node;
  private readonly opts: ExtractOptions;
  private fileFd = -1;
  private current: TarEntry | undefined;
  /** Directories whose times are set at the end (container paths). */
  private readonly dirTimes = new Map<string, TarEntry>();
  /** Resolved parents by their path in the archive. */
  private readonly parents = new Map<string, Node>();
  private staleParents = false;
  entries = 0;

  constructor(cfs: ContainerFs, dest: Node, opts: ExtractOptions) {
    this.cfs = cfs;
    this.dest = dest;
    this.opts = opts;
  }

  entry(e: TarEntry): void {
    this.current = e;
    this.entries++;
    try {
      this.apply(e);
    } catch (err) {
      throw this.fail(err);
    }
  }

  data(chunk: Buffer): void {
    if (this.fileFd < 0) return;
    try {
      for (let off = 0; off < chunk.length; ) off += writeSync(this.fileFd, chunk, off);
    } catch (err) {
      throw this.fail(err);
    }
  }

  entryEnd(e: TarEntry): void {
    if (this.fileFd < 0) return;
    const fd = this.fileFd;
    this.fileFd = -1;
    try {
      this.meta(fd, e, true);
    } catch (err) {
      throw this.fail(err);
    } finally {
      sys.close(fd);
    }
  }

  /** Sets the directories' times, after their children changed them; call when the stream has ended. */
  finish(): void {
    for (const [path, e] of this.dirTimes) {
      let node: Node;
      try {
        node = this.cfs.resolve(path, { followLast: false });
      } catch {
        continue; // replaced or removed later in the archive
      }
      try {
        if ((node.st.mode & sys.S_IFMT) !== sys.S_IFDIR) continue;
        const fd = sys.openat(node.fd, '.', sys.O_RDONLY | sys.O_DIRECTORY);
        try {
          sys.utimensat(fd, null, e.atime ?? e.mtime, e.mtime);
        } finally {
          sys.close(fd);
        }
      } finally {
        node.close();
      }
    }
  }

  /** Closes what is still open; call when done, whatever happened. */
  abort(): void {
    if (this.fileFd >= 0) sys.close(this.fileFd);
    this.fileFd = -1;
    this.forgetParents();
  }

  private fail(err: unknown): Error {
    const name = this.current === undefined ? '' : `: entry "${shownName(this.current.path)}"`;
    const message = `copy into container path "${displayName(this.dest.path)}"${name}: ${describeError(err)}`;
    if (err instanceof BerthError) return new BerthError(err.kind, err.code, message, { cause: err, details: err.details });
    return failedPrecondition('cp_extract', message, { cause: err });
  }

  private breakout(what: string): Error {
    return invalidArgument('cp_archive_breakout', `${what} leads out of the destination`);
  }

  private apply(e: TarEntry): void {
    if (e.path.includes('\0') || e.linkname.includes('\0')) throw invalidArgument('cp_archive_invalid', 'a NUL byte in the name or link target');
    const cp = cleanEntryPath(e.path);
    if (cp === undefined) throw this.breakout(`the name "${shownName(e.path)}"`);
    // The destination itself ("." or "./"): dockerd leaves it as it is.
    if (cp.path === '') return;
    if (e.type === 'symlink' && !e.linkname.startsWith('/') && cleanEntryPath(`${cp.parent}/${e.linkname}`) === undefined) {
      throw this.breakout(`the symlink target "${shownName(e.linkname)}"`);
    }
    // Symlinks and directories of the archive can change what a parent path resolves to.
    if (this.staleParents || (e.type !== 'file' && e.type !== 'hardlink')) this.forgetParents();
    const parent = this.parentDir(cp);
    const path = joinPath(parent.path, cp.base);
    refuseReadonly(parent, path);
    const name = cbytes(cp.base);
    this.clear(parent, cp.base, e, path);
    switch (e.type) {
      case 'file':
        this.fileFd = sys.openat(parent.fd, name, sys.O_WRONLY | sys.O_CREAT | sys.O_EXCL | sys.O_NOFOLLOW, e.mode & 0o777);
        break;
      case 'dir':
        this.makeDir(parent, cp.base, e, path);
        break;
      case 'symlink':
        sys.symlinkat(cbytes(e.linkname), parent.fd, name);
        this.nodeMeta(parent.fd, name, e, false);
        break;
      case 'hardlink':
        this.hardlink(parent, name, e);
        break;
      case 'char':
      case 'block':
      case 'fifo':
        if (e.type !== 'fifo' && parent.mount !== undefined) {
          throw invalidArgument('cp_device_in_mount', `${e.type} device ${e.devmajor}:${e.devminor}: device nodes are not made in a bind mount or volume (a host directory)`);
        }
        sys.mknodat(parent.fd, name, (e.type === 'char' ? sys.S_IFCHR : e.type === 'block' ? sys.S_IFBLK : sys.S_IFIFO) | (e.mode & 0o777), e.devmajor, e.devminor);
        this.nodeMeta(parent.fd, name, e, true);
        break;
    }
  }

  /**
   * The entry's parent directory in the container, made (0755, as dockerd's
   * MkdirAll) where missing. Kept for the next entries (an archive writes
   * many files into few directories); held fds stay inside the container
   * whatever it renames meanwhile.
   */
  private parentDir(cp: CleanPath): Node {
    const hit = this.parents.get(cp.parent);
    if (hit !== undefined) return hit;
    const node = this.resolveParent(cp);
    if (this.parents.size >= MAX_PARENTS) this.forgetParents();
    this.parents.set(cp.parent, node);
    return node;
  }

  private forgetParents(): void {
    for (const node of this.parents.values()) node.close();
    this.parents.clear();
    this.staleParents = false;
  }

  /**
   * Walks down from the destination held since the start, so a directory
   * the container swaps for a symlink meanwhile is seen as the symlink it
   * now is and followed as the container would (from its root when
   * absolute), never by a path string on the host.
   */
  private resolveParent(cp: CleanPath): Node {
    let node = this.cfs.reopen(this.dest);
    try {
      for (const part of cp.parent === '' ? [] : cp.parent.split('/')) {
        const path = joinPath(node.path, part);
        let next = this.cfs.step(node, part);
        if (next === undefined) {
          refuseReadonly(node, path);
          sys.mkdirat(node.fd, cbytes(part), 0o755);
          next = this.cfs.step(node, part);
          if (next === undefined) throw failedPrecondition('cp_extract', `directory "${displayName(path)}" vanished while it was made`);
        }
        if ((next.st.mode & sys.S_IFMT) === sys.S_IFLNK) {
          next.close();
          next = this.cfs.resolve(path, { followLast: true });
        }
        node.close();
        node = next;
        if ((node.st.mode & sys.S_IFMT) !== sys.S_IFDIR) throw invalidArgument('cp_not_a_directory', `"${displayName(path)}" is not a directory`);
      }
    } catch (err) {
      node.close();
      throw err;
    }
    return node;
  }

  /** Removes what is at the name unless both are directories; a mount point is never removed. */
  private clear(parent: Node, base: string, e: TarEntry, path: string): void {
    const there = this.cfs.openChild(parent, base);
    if (there === undefined) return;
    try {
      const isDir = (there.st.mode & sys.S_IFMT) === sys.S_IFDIR;
      const wantDir = e.type === 'dir';
      if (isDir && wantDir) return;
      if (this.opts.noOverwriteDirNonDir === true && isDir !== wantDir) {
        throw invalidArgument(
          'cp_overwrite_dir',
          isDir ? `cannot overwrite directory "${displayName(path)}" with non-directory` : `cannot overwrite non-directory "${displayName(path)}" with directory`,
        );
      }
      if (there.mount !== parent.mount) throw invalidArgument('cp_mount_point', `"${displayName(path)}" is a mount point and cannot be replaced`);
      const name = cbytes(base);
      if (isDir) removeTree(parent.fd, name);
      else sys.unlinkat(parent.fd, name, 0);
      // A kept parent may have been what went; forgotten before the next entry (this one still uses `parent`).
      this.staleParents = true;
    } finally {
      there.close();
    }
  }

  private makeDir(parent: Node, base: string, e: TarEntry, path: string): void {
    const name = cbytes(base);
    try {
      sys.mkdirat(parent.fd, name, e.mode & 0o777);
    } catch (err) {
      if (errnoCode(err) !== 'EEXIST') throw err;
    }
    // The directory as the container sees it (a mount's root when one is there).
    const there = this.cfs.openChild(parent, base);
    if (there === undefined) throw failedPrecondition('cp_extract', `directory "${displayName(path)}" vanished while it was written`);
    try {
      if (there.mount !== parent.mount) refuseReadonly({ mount: there.mount, readonly: there.mount?.readonly ?? false }, path);
      const fd = sys.openat(there.fd, '.', sys.O_RDONLY | sys.O_DIRECTORY);
      try {
        this.meta(fd, e, false);
      } finally {
        sys.close(fd);
      }
    } finally {
      there.close();
    }
    this.dirTimes.set(path, e);
  }

  private owner(e: TarEntry): Owner {
    return this.opts.owner ?? { uid: e.uid, gid: e.gid };
  }

  /** Owner, then mode (a chown clears setuid), xattrs and, for files, times: all through the fd. */
  private meta(fd: number, e: TarEntry, times: boolean): void {
    const o = this.owner(e);
    sys.fchown(fd, o.uid, o.gid);
    sys.fchmod(fd, e.mode & 0o7777);
    for (const [k, v] of e.xattrs ?? []) {
      try {
        sys.fsetxattr(fd, k, v);
      } catch (err) {
        // dockerd ignores what the file system does not take.
        if (errnoCode(err) !== 'ENOTSUP' && errnoCode(err) !== 'EPERM') throw err;
      }
    }
    if (times) sys.utimensat(fd, null, e.atime ?? e.mtime, e.mtime);
  }

  /** Symlinks and nodes: owner and times without following; a node's mode again after the chown. */
  private nodeMeta(dirfd: number, name: Buffer, e: TarEntry, chmod: boolean): void {
    const o = this.owner(e);
    sys.fchownat(dirfd, name, o.uid, o.gid, sys.AT_SYMLINK_NOFOLLOW);
    if (chmod) sys.fchmodat(dirfd, name, e.mode & 0o7777, sys.AT_SYMLINK_NOFOLLOW);
    sys.utimensat(dirfd, name, e.atime ?? e.mtime, e.mtime, sys.AT_SYMLINK_NOFOLLOW);
  }

  private hardlink(parent: Node, name: Buffer, e: TarEntry): void {
    const target = cleanEntryPath(e.linkname);
    if (target === undefined || target.path === '') throw this.breakout(`the hard link target "${shownName(e.linkname)}"`);
    using tparent = this.cfs.resolve(joinPath(this.dest.path, target.parent), { followLast: true });
    using linked = this.cfs.openChild(tparent, target.base);
    if (linked === undefined) throw invalidArgument('cp_link_target', `hard link target "${shownName(e.linkname)}" does not exist`);
    if (linked.mount !== parent.mount) throw invalidArgument('cp_link_cross_mount', `hard link target "${shownName(e.linkname)}" is on another mount`);
    // Without AT_SYMLINK_FOLLOW a symlink is linked itself, never what it points to.
    sys.linkat(tparent.fd, cbytes(target.base), parent.fd, name, 0);
  }
}
