/**
 * The layer between two full trees, for the copying snapshotter (no
 * overlayfs, so no upper dir to read): what is new or changed in `upper`
 * (type, mode, owner, mtime to the nanosecond, size, link target, device
 * number, xattrs — content is not read, as Docker's naive diff), a `.wh.`
 * whiteout for what is gone, and the directories above any change, as an
 * overlay upper dir would hold them, so both snapshotters give the same
 * layer for the same change.
 */
import * as sys from '../../../sys/index.ts';
import { headerOf, readNode, sameXattrs, whiteoutHeader, type NodeInfo } from './node.ts';
import type { DiffItem } from './diff.ts';

const byBytes = (a: Buffer, b: Buffer): number => Buffer.compare(a, b);

function sameTime(a: sys.Timespec, b: sys.Timespec): boolean {
  return a.sec === b.sec && a.nsec === b.nsec;
}

function sameMeta(a: NodeInfo, b: NodeInfo): boolean {
  return a.st.mode === b.st.mode && a.st.uid === b.st.uid && a.st.gid === b.st.gid && sameTime(a.st.mtime, b.st.mtime) && sameXattrs(a.xattrs, b.xattrs);
}

function sameNode(a: NodeInfo, b: NodeInfo): boolean {
  if (a.type !== b.type || !sameMeta(a, b)) return false;
  // A new hard link to an unchanged file changes its link count: both names go into the layer, linked.
  if (a.type === 'file') return a.st.size === b.st.size && a.st.nlink === b.st.nlink;
  if (a.type === 'symlink') return a.linkname === b.linkname;
  if (a.type === 'char' || a.type === 'block') return a.st.rdevMajor === b.st.rdevMajor && a.st.rdevMinor === b.st.rdevMinor;
  return true;
}

function openDir(dirfd: number, name: Buffer): number {
  return sys.openat(dirfd, name, sys.O_RDONLY | sys.O_DIRECTORY | sys.O_NOFOLLOW);
}

class TreeDiff {
  private readonly links = new Map<bigint, string>();

  /** Everything under `dirfd` in `upper`, as added. */
  added(dirfd: number, prefix: string, out: DiffItem[]): void {
    for (const nameBuf of sys.listdirfd(dirfd).sort(byBytes)) {
      const path = prefix === '' ? nameBuf.toString('latin1') : `${prefix}/${nameBuf.toString('latin1')}`;
      this.emit(dirfd, nameBuf, path, readNode(dirfd, nameBuf), undefined, out);
    }
  }

  /** Emits the upper node at `path`; a directory with all it holds that `lowerFd` (the lower dir, when both are dirs) lacks. */
  private emit(dirfd: number, nameBuf: Buffer, path: string, n: NodeInfo, lowerFd: number | undefined, out: DiffItem[]): void {
    if (n.type === 'socket') return;
    if (n.type === 'file' && n.st.nlink > 1) {
      const first = this.links.get(n.st.ino);
      if (first !== undefined) {
        out.push({ header: { ...headerOf(path, n), type: 'hardlink', linkname: first, size: 0 } });
        return;
      }
      this.links.set(n.st.ino, path);
    }
    out.push({ header: headerOf(path, n), ...(n.type === 'file' ? { path } : {}) });
    if (n.type !== 'dir') return;
    const fd = openDir(dirfd, nameBuf);
    try {
      if (lowerFd === undefined) this.added(fd, path, out);
      else this.compare(lowerFd, fd, path, out);
    } finally {
      sys.close(fd);
    }
  }

  /** The changes from directory `lowerFd` to directory `upperFd`, both at `prefix`. */
  compare(lowerFd: number, upperFd: number, prefix: string, out: DiffItem[]): void {
    const lower = new Map(sys.listdirfd(lowerFd).map((b) => [b.toString('latin1'), b]));
    const upper = new Map(sys.listdirfd(upperFd).map((b) => [b.toString('latin1'), b]));
    const names = [...new Set([...lower.values(), ...upper.values()].map((b) => b.toString('latin1')))].map((s) => Buffer.from(s, 'latin1')).sort(byBytes);
    for (const nameBuf of names) {
      const name = nameBuf.toString('latin1');
      const path = prefix === '' ? name : `${prefix}/${name}`;
      const u = upper.get(name);
      const l = lower.get(name);
      if (u === undefined) {
        out.push({ header: whiteoutHeader(prefix, name) });
        continue;
      }
      const un = readNode(upperFd, u);
      if (l === undefined) {
        this.emit(upperFd, u, path, un, undefined, out);
        continue;
      }
      const ln = readNode(lowerFd, l);
      if (un.type === 'dir' && ln.type === 'dir') {
        const children: DiffItem[] = [];
        const lfd = openDir(lowerFd, l);
        const ufd = openDir(upperFd, u);
        try {
          this.compare(lfd, ufd, path, children);
        } finally {
          sys.close(lfd);
          sys.close(ufd);
        }
        if (children.length > 0 || !sameMeta(un, ln)) {
          out.push({ header: headerOf(path, un) });
          out.push(...children);
        }
        continue;
      }
      if (!sameNode(un, ln)) {
        this.emit(upperFd, u, path, un, undefined, out);
      }
    }
  }
}

/** The layer that turns the tree at `lowerFd` (undefined: nothing) into the tree at `upperFd`. */
export function treeDiff(lowerFd: number | undefined, upperFd: number): DiffItem[] {
  const out: DiffItem[] = [];
  const d = new TreeDiff();
  if (lowerFd === undefined) d.added(upperFd, '', out);
  else d.compare(lowerFd, upperFd, '', out);
  return out;
}
