/**
 * One file system node as a layer entry: its type, metadata, link target
 * and the extended attributes a layer carries. Read relative to a directory
 * fd without following symlinks; xattrs through the parent's /proc fd entry
 * plus one plain name (symlinks and devices cannot be opened). Overlay's
 * own attributes and SELinux labels are host bookkeeping, never layer
 * content.
 */
import { unsupported } from '../../../errors.ts';
import * as sys from '../../../sys/index.ts';
import type { TarEntryType, TarHeader } from '../../tar/writer.ts';

/** A tar header with every field a layer entry sets (ids, no user or group names). */
export type LayerHeader = Required<Omit<TarHeader, 'uname' | 'gname' | 'xattrs'>> & { xattrs: Map<string, Buffer> | undefined };

export interface NodeInfo {
  type: TarEntryType | 'socket';
  st: sys.Statx;
  linkname: string;
  xattrs: Map<string, Buffer> | undefined;
}

const SKIPPED_XATTRS = ['trusted.overlay.', 'user.overlay.', 'security.selinux'];


/** The xattrs that belong in a layer. */
export function layerXattrs(all: Map<string, Buffer> | undefined): Map<string, Buffer> | undefined {
  if (all === undefined) return undefined;
  let out: Map<string, Buffer> | undefined;
  for (const [k, v] of all) {
    if (SKIPPED_XATTRS.some((p) => k.startsWith(p))) continue;
    (out ??= new Map()).set(k, v);
  }
  return out;
}

export function readNode(dirfd: number, name: Buffer): NodeInfo & { allXattrs: Map<string, Buffer> | undefined } {
  const st = sys.statx(dirfd, name, sys.AT_SYMLINK_NOFOLLOW);
  const type = sys.fileType(st.mode);
  const allXattrs = type === 'socket' ? undefined : sys.xattrsAt(dirfd, name);
  return {
    type,
    st,
    linkname: type === 'symlink' ? sys.readlinkat(dirfd, name).toString('latin1') : '',
    xattrs: layerXattrs(allXattrs),
    allXattrs,
  };
}

/** The tar header of a node at `path` (binary string, no trailing "/"). */
export function headerOf(path: string, n: NodeInfo): LayerHeader {
  if (n.type === 'socket') throw unsupported('build_socket_in_layer', `"${path}": sockets have no place in a layer`);
  const device = n.type === 'char' || n.type === 'block';
  return {
    name: n.type === 'dir' ? `${path}/` : path,
    type: n.type,
    mode: n.st.mode & 0o7777,
    uid: n.st.uid,
    gid: n.st.gid,
    size: n.type === 'file' ? n.st.size : 0,
    mtime: n.st.mtime.sec,
    linkname: n.linkname,
    devmajor: device ? n.st.rdevMajor : 0,
    devminor: device ? n.st.rdevMinor : 0,
    xattrs: n.xattrs,
  };
}

export function sameXattrs(a: Map<string, Buffer> | undefined, b: Map<string, Buffer> | undefined): boolean {
  const x = a ?? new Map<string, Buffer>();
  const y = b ?? new Map<string, Buffer>();
  if (x.size !== y.size) return false;
  for (const [k, v] of x) {
    const w = y.get(k);
    if (w === undefined || !w.equals(v)) return false;
  }
  return true;
}

export const WHITEOUT_PREFIX = '.wh.';
export const OPAQUE_WHITEOUT = '.wh..wh..opq';

/** An OCI whiteout: an empty file `.wh.NAME` beside the NAME it hides, or `.wh..wh..opq` in an opaque directory. */
export function whiteoutHeader(dir: string, name: string, opaque = false): LayerHeader {
  const base = opaque ? OPAQUE_WHITEOUT : `${WHITEOUT_PREFIX}${name}`;
  return {
    name: dir === '' ? base : `${dir}/${base}`,
    type: 'file',
    mode: 0,
    uid: 0,
    gid: 0,
    size: 0,
    mtime: 0,
    linkname: '',
    devmajor: 0,
    devminor: 0,
    xattrs: undefined,
  };
}
