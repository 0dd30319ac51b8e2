/**
 * Applies one layer's entries to a Rootfs as the tar reader hands them over,
 * synchronously: each entry's parent is resolved inside the root, the entry
 * is created relative to the parent's fd (O_EXCL|O_NOFOLLOW, mkdirat,
 * symlinkat, linkat, mknodat), and owner, mode, xattrs and times are set
 * through the new file's fd or with AT_SYMLINK_NOFOLLOW, so no step follows
 * a symlink that the layer planted. What existed at a name is removed first
 * unless both are directories. The metadata rules follow umoci's: hard
 * links take no metadata of their own, atime defaults to mtime, and a
 * directory's times are set when the layer ends (after its children have
 * changed them), restoring lower directories' times the layer touched.
 */
import { writeSync } from 'node:fs';
import * as sys from '../../sys/index.ts';
import { BerthError, describeError, errnoCode, invalidArgument, failedPrecondition, isBerthError } from '../../errors.ts';
import { cbytes, shownName, type TarEntry, type Timespec } from './entry.ts';
import { cleanEntryPath, parentOf, type CleanPath } from './paths.ts';
import type { ResolvedOptions } from './options.ts';
import type { Rootfs } from './rootfs.ts';
import type { TarHandler } from '../tar/reader.ts';
import { applyOverlayWhiteout, applyWhiteout, WHITEOUT_PREFIX } from './whiteout.ts';
import { MergedView } from './merged-view.ts';
import { copyUp } from './copy-up.ts';

export interface DirState {
  atime: Timespec;
  mtime: Timespec;
  setgid: boolean;
}

/**
 * overlayfs's own xattrs (opaque, redirect, origin, metacopy…) in a layer
 * would steer the mount of an image (a redirect shows another directory's
 * files) while an unpacked tree ignores them: they are dropped from layer
 * contents, so both show the same tree. Whiteouts are the layer's own way
 * to hide lower files.
 */
export function isOverlayXattr(name: string): boolean {
  return name.startsWith('trusted.overlay.') || name.startsWith('user.overlay.');
}

function listXattrs(list: () => string[]): string[] {
  try {
    return list();
  } catch (err) {
    if (errnoCode(err) === 'ENOTSUP') return [];
    throw err;
  }
}

export class LayerApplier implements TarHandler {
  readonly root: Rootfs;
  readonly opts: ResolvedOptions;
  readonly label: string;
  /** Paths this layer wrote, with their ancestors (whiteouts spare them). */
  readonly upper = new Set<string>();
  /** Directories whose times are set when the layer ends. */
  private readonly dirs = new Map<string, DirState>();
  private readonly dirsByInode = new Map<bigint, DirState>();
  readonly warnings: string[] = [];
  private readonly warned = new Set<string>();
  /** Parents resolved over the lower layers; cleared when a directory, symlink or whiteout may change them. */
  private readonly resolved = new Map<string, string>();
  private fileFd = -1;
  private fileInSetgidDir = false;
  private lastMarked = '';
  private current: TarEntry | undefined;
  private readonly euid = process.geteuid?.() ?? 0;
  private readonly egid = process.getegid?.() ?? 0;
  entries = 0;

  /** The tree the layer applies to, for whiteouts and hard-link targets. */
  readonly view: MergedView;

  constructor(root: Rootfs, opts: ResolvedOptions, label: string, view?: MergedView) {
    this.root = root;
    this.opts = opts;
    this.label = label;
    this.view = view ?? new MergedView(root.fd, [], opts.whiteouts === 'overlay' ? opts.overlayXattrPrefix : undefined);
  }


  entry(e: TarEntry): void {
    this.current = e;
    this.root.release();
    if (++this.entries > this.opts.limits.maxLayerEntries) {
      throw this.fail(invalidArgument('unpack_limit', `more than ${this.opts.limits.maxLayerEntries} entries (limit)`));
    }
    if (e.path.includes('\0') || e.linkname.includes('\0')) {
      throw this.fail(invalidArgument('unpack_path_nul', 'a NUL byte in the name or link target'));
    }
    const cp = cleanEntryPath(e.path);
    if (cp === undefined) throw this.fail(invalidArgument('unpack_path_escape', 'path escapes the root'));
    try {
      this.apply(e, cp);
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
      this.fileMeta(fd, e);
    } catch (err) {
      throw this.fail(err);
    } finally {
      sys.close(fd);
    }
  }

  /** Sets the directories' times; call once the stream has ended. */
  finish(): void {
    for (const [path, st] of this.dirs) {
      let fd: number;
      try {
        fd = this.root.dirFd(path, false);
      } catch (err) {
        // Removed or replaced later in the layer: nothing to restore.
        if (['ENOENT', 'ENOTDIR', 'ELOOP'].includes(errnoCode(err) ?? '')) continue;
        throw this.fail(err, path);
      }
      sys.utimensat(fd, null, st.atime, st.mtime);
    }
  }

  /** Closes what an interrupted entry left open. */
  abort(): void {
    if (this.fileFd >= 0) sys.close(this.fileFd);
    this.fileFd = -1;
  }

  /** An error naming the layer and the entry, with the cause chained. */
  fail(err: unknown, path?: string): Error {
    if (err instanceof BerthError && err.message.startsWith('layer ')) return err;
    const name = path ?? this.current?.path ?? '';
    const reason = describeError(err);
    const message = `layer ${this.label}: entry "${shownName(name)}": ${reason}`;
    if (err instanceof BerthError) return new BerthError(err.kind, err.code, message, { cause: err, details: err.details });
    return failedPrecondition('unpack_entry', message, { cause: err, details: { layer: this.label, entry: shownName(name) } });
  }

  warn(key: string, message: string): void {
    if (this.warned.has(key)) return;
    this.warned.add(key);
    this.warnings.push(`layer ${this.label}: ${message}`);
  }

  private apply(e: TarEntry, cp: CleanPath): void {
    if (cp.path === '') {
      if (e.type !== 'dir') throw invalidArgument('unpack_root_type', `refusing to turn the root into a ${e.type}`);
      this.dirMeta(this.root.fd, e, true);
      this.dirs.set('', { atime: e.atime ?? e.mtime, mtime: e.mtime, setgid: (e.mode & 0o2000) !== 0 });
      return;
    }
    if (cp.base.startsWith(WHITEOUT_PREFIX)) {
      this.forgetResolved();
      if (this.opts.whiteouts === 'apply') applyWhiteout(this, cp);
      else applyOverlayWhiteout(this, cp);
      this.forgetResolved();
      return;
    }
    if (e.type !== 'file' && e.type !== 'hardlink') this.forgetResolved();
    const rcp = this.resolveEntry(cp);
    const dirfd = this.parentFd(rcp.parent);
    const name = cbytes(rcp.base);
    switch (e.type) {
      case 'file':
        this.fileInSetgidDir = this.dirs.get(rcp.parent)?.setgid ?? false;
        this.fileFd = this.createFile(dirfd, name, e);
        break;
      case 'dir':
        this.makeDir(dirfd, name, e, rcp);
        break;
      case 'symlink':
        this.replace(dirfd, name, () => sys.symlinkat(cbytes(e.linkname), dirfd, name));
        this.linkMeta(dirfd, name, e);
        break;
      case 'hardlink':
        this.hardlink(dirfd, name, e, cp);
        break;
      case 'char':
      case 'block':
      case 'fifo':
        this.node(dirfd, name, e);
        break;
    }
    this.markUpper(rcp.path);
  }

  /** Whiteouts, directories and symlinks of this layer change what paths resolve to. */
  forgetResolved(): void {
    this.resolved.clear();
    this.view.forget();
  }

  /**
   * The entry's path with its parent resolved over the lower layers (an
   * overlay upper), so a symlink of a lower layer is followed as it is in
   * an unpacked tree; in one tree the kernel resolves it (RESOLVE_IN_ROOT).
   */
  private resolveEntry(cp: CleanPath): CleanPath {
    const parent = this.resolveParent(cp.parent);
    if (parent === cp.parent) return cp;
    return { path: parent === '' ? cp.base : `${parent}/${cp.base}`, parent, base: cp.base };
  }

  private resolveParent(parent: string): string {
    if (this.view.lowers.length === 0 || parent === '') return parent;
    const hit = this.resolved.get(parent);
    if (hit !== undefined) return hit;
    // A directory of this layer's own, reached literally, needs no resolving (one call); resolve walks the layers.
    const path = this.view.inUpper(parent) ? parent : this.view.resolve(parent);
    this.resolved.set(parent, path);
    return path;
  }

  /** The parent's fd; the first time in this layer, its times are noted for restoring. */
  parentFd(parent: string): number {
    const fd = this.root.dirFd(parent, true);
    this.noteDir(parent, fd);
    return fd;
  }

  /** Notes a directory's times (once per layer) so the layer's end restores them. */
  noteDir(path: string, fd: number): void {
    if (this.dirs.has(path)) return;
    const st = sys.statx(fd, '', sys.AT_EMPTY_PATH);
    // The same directory reached by another name (through a symlink) keeps the times noted first, before the layer changed it.
    const known = this.dirsByInode.get(st.ino);
    if (known !== undefined) {
      this.dirs.set(path, known);
      return;
    }
    const state = { atime: st.atime, mtime: st.mtime, setgid: (st.mode & 0o2000) !== 0 };
    this.dirsByInode.set(st.ino, state);
    this.dirs.set(path, state);
  }

  markUpper(path: string): void {
    // Entries come directory by directory: once a parent is marked, so are its ancestors.
    const parent = parentOf(path);
    this.upper.add(path);
    if (parent === this.lastMarked) return;
    for (let p = parent; p !== '' && !this.upper.has(p); p = parentOf(p)) this.upper.add(p);
    this.lastMarked = parent;
  }

  /** Runs `create`; if the name is taken, removes what is there (never a directory for a directory) and runs it again. */
  private replace(dirfd: number, name: Buffer, create: () => void): void {
    try {
      create();
    } catch (err) {
      if (errnoCode(err) !== 'EEXIST') throw err;
      const st = sys.statx(dirfd, name, sys.AT_SYMLINK_NOFOLLOW);
      const type = st.mode & sys.S_IFMT;
      this.root.removeAt(dirfd, name, type === sys.S_IFDIR || type === sys.S_IFLNK);
      create();
    }
  }

  private createFile(dirfd: number, name: Buffer, e: TarEntry): number {
    const flags = sys.O_WRONLY | sys.O_CREAT | sys.O_EXCL | sys.O_NOFOLLOW;
    let fd = -1;
    this.replace(dirfd, name, () => {
      fd = sys.openat(dirfd, name, flags, e.mode & 0o7777);
    });
    return fd;
  }

  private fileMeta(fd: number, e: TarEntry): void {
    this.chown(e, () => sys.fchown(fd, e.uid, e.gid), this.fileInSetgidDir);
    // A write without CAP_FSETID, and a chown, clear setuid and setgid: set those bits last.
    if ((e.mode & this.root.umask & 0o777) !== 0 || (e.mode & 0o6000) !== 0) sys.fchmod(fd, e.mode);
    if (e.xattrs !== undefined) this.setXattrs(e, (k, v) => sys.fsetxattr(fd, k, v));
    sys.utimensat(fd, null, e.atime ?? e.mtime, e.mtime);
  }

  /** Sets the owner when it differs from what creating gave; true when it did. */
  private chown(e: TarEntry, set: () => void, inSetgidDir: boolean): boolean {
    if (!this.opts.chown) return false;
    if (e.uid === this.euid && e.gid === this.egid && !inSetgidDir) return false;
    set();
    return true;
  }

  private makeDir(dirfd: number, name: Buffer, e: TarEntry, cp: CleanPath): void {
    let existed = false;
    try {
      sys.mkdirat(dirfd, name, e.mode & 0o7777);
    } catch (err) {
      if (errnoCode(err) !== 'EEXIST') throw err;
      const st = sys.statx(dirfd, name, sys.AT_SYMLINK_NOFOLLOW);
      if ((st.mode & sys.S_IFMT) === sys.S_IFDIR) existed = true;
      else {
        this.root.removeAt(dirfd, name, (st.mode & sys.S_IFMT) === sys.S_IFLNK);
        sys.mkdirat(dirfd, name, e.mode & 0o7777);
      }
    }
    const parentSetgid = this.dirs.get(cp.parent)?.setgid ?? false;
    const needsFd =
      existed ||
      e.xattrs !== undefined ||
      (this.opts.chown && (e.uid !== this.euid || e.gid !== this.egid || parentSetgid)) ||
      (e.mode & this.root.umask & 0o777) !== 0 ||
      (parentSetgid && (e.mode & 0o2000) === 0);
    if (needsFd) {
      const fd = sys.openat(dirfd, name, sys.O_RDONLY | sys.O_DIRECTORY | sys.O_NOFOLLOW);
      try {
        this.dirMeta(fd, e, existed);
      } finally {
        sys.close(fd);
      }
    }
    this.dirs.set(cp.path, { atime: e.atime ?? e.mtime, mtime: e.mtime, setgid: (e.mode & 0o2000) !== 0 });
  }

  /** Owner, mode and xattrs of a directory by fd; an existing one loses xattrs the entry does not list. */
  private dirMeta(fd: number, e: TarEntry, existed: boolean): void {
    if (this.opts.chown) sys.fchown(fd, e.uid, e.gid);
    sys.fchmod(fd, e.mode);
    if (existed) {
      // An opaque marker this layer's own whiteout set (overlay uppers) stays.
      const own = this.opts.whiteouts === 'overlay' ? this.opts.overlayXattrPrefix : undefined;
      for (const k of listXattrs(() => sys.flistxattr(fd))) {
        const kept = e.xattrs?.has(k) === true && !isOverlayXattr(k);
        if (!kept && !k.startsWith('security.selinux') && (own === undefined || !k.startsWith(own))) sys.fremovexattr(fd, k);
      }
    }
    if (e.xattrs !== undefined) this.setXattrs(e, (k, v) => sys.fsetxattr(fd, k, v));
  }

  /** Sets each xattr; EPERM (unprivileged, trusted.*) and ENOTSUP (the file system) become warnings, as in umoci. */
  setXattrs(e: TarEntry, set: (name: string, value: Buffer) => void): void {
    for (const [k, v] of e.xattrs ?? []) {
      if (isOverlayXattr(k)) {
        this.warn(`xattr:overlay:${k}`, `xattr "${k}" dropped (overlayfs's own), first on "${shownName(e.path)}"`);
        continue;
      }
      try {
        set(k, v);
      } catch (err) {
        const code = errnoCode(err);
        if (code !== 'EPERM' && code !== 'ENOTSUP') throw err;
        this.warn(`xattr:${code}:${k}`, `xattr "${k}" not set (${code}), first on "${shownName(e.path)}"`);
      }
    }
  }

  /** Symlinks: owner, xattrs and times, without following the link. */
  private linkMeta(dirfd: number, name: Buffer, e: TarEntry): void {
    this.chown(e, () => sys.fchownat(dirfd, name, e.uid, e.gid, sys.AT_SYMLINK_NOFOLLOW), false);
    this.nodeMeta(dirfd, name, e);
  }

  private hardlink(dirfd: number, name: Buffer, e: TarEntry, cp: CleanPath): void {
    const target = cleanEntryPath(e.linkname);
    if (target === undefined || target.path === '') {
      throw invalidArgument('unpack_link_escape', `hard link target "${shownName(e.linkname)}" escapes the root`);
    }
    if (target.path === cp.path) return;
    const missing = (cause?: unknown): Error =>
      invalidArgument('unpack_link_target', `hard link target "${shownName(e.linkname)}" does not exist`, cause === undefined ? undefined : { cause });
    let tdir: number;
    try {
      const rt = this.resolveEntry(target);
      if (this.view.lowers.length > 0) {
        // In an overlay upper the target may be a lower layer's file: it is copied up first.
        const found = this.view.lookup(rt.path);
        if (found === undefined) throw missing();
        if (found.layerFd !== this.root.fd && (found.st.mode & sys.S_IFMT) !== sys.S_IFDIR) copyUp(this, rt, found);
      }
      tdir = this.root.dirFd(rt.parent, false);
    } catch (err) {
      throw isBerthError(err, 'unpack_link_target') ? err : missing(err);
    }
    this.linkTo(tdir, cbytes(target.base), dirfd, name, e);
  }

  private linkTo(tdir: number, tname: Buffer, dirfd: number, name: Buffer, e: TarEntry): void {
    // linkat without AT_SYMLINK_FOLLOW links a symlink itself, never what it points to.
    this.replace(dirfd, name, () => {
      try {
        sys.linkat(tdir, tname, dirfd, name, 0);
      } catch (err) {
        if (errnoCode(err) === 'ENOENT') {
          throw invalidArgument('unpack_link_target', `hard link target "${shownName(e.linkname)}" does not exist`, { cause: err });
        }
        if (errnoCode(err) === 'EPERM') {
          throw invalidArgument('unpack_link_target', `hard link target "${shownName(e.linkname)}" is a directory`, { cause: err });
        }
        throw err;
      }
    });
  }

  private node(dirfd: number, name: Buffer, e: TarEntry): void {
    let type = e.type === 'char' ? sys.S_IFCHR : e.type === 'block' ? sys.S_IFBLK : sys.S_IFIFO;
    if (type !== sys.S_IFIFO && this.opts.devices === 'refuse') {
      throw invalidArgument('unpack_device_refused', `${e.type} device ${e.devmajor}:${e.devminor} refused (devices are not allowed)`);
    }
    let mode = e.mode & 0o7777;
    if (type !== sys.S_IFIFO && this.opts.devices === 'placeholder') {
      type = sys.S_IFREG;
      mode = 0;
      this.warn('device', `device nodes became empty files without permissions, first "${shownName(e.path)}" (${e.type} ${e.devmajor}:${e.devminor})`);
    }
    this.replace(dirfd, name, () => sys.mknodat(dirfd, name, type | mode, e.devmajor, e.devminor));
    const chowned = this.chown(e, () => sys.fchownat(dirfd, name, e.uid, e.gid, sys.AT_SYMLINK_NOFOLLOW), false);
    if ((mode & this.root.umask & 0o777) !== 0 || (chowned && (mode & 0o6000) !== 0)) {
      sys.fchmodat(dirfd, name, mode, sys.AT_SYMLINK_NOFOLLOW);
    }
    this.nodeMeta(dirfd, name, e);
  }

  /**
   * Xattrs and times of a symlink, device or fifo. No fd can be opened on
   * those without following or side effects; the parent's own /proc fd entry
   * plus one plain component names the node without leaving the root.
   */
  private nodeMeta(dirfd: number, name: Buffer, e: TarEntry): void {
    if (e.xattrs !== undefined) {
      const proc = Buffer.concat([Buffer.from(`/proc/self/fd/${dirfd}/`), name]);
      this.setXattrs(e, (k, v) => sys.lsetxattr(proc, k, v));
    }
    sys.utimensat(dirfd, name, e.atime ?? e.mtime, e.mtime, sys.AT_SYMLINK_NOFOLLOW);
  }
}
