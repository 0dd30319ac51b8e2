/**
 * One entry of a layer tarball, as the tar reader hands it to the applier.
 * Paths and link targets are "binary strings": one JS character per byte of
 * the archive (latin1), so names that are not UTF-8 reach the file system
 * byte for byte, as Go's archive/tar (umoci, containerd) keeps them. Use
 * `bytesOf`/`displayName` at the edges.
 */
import type { Timespec } from '../../sys/meta.ts';
import { shortenMiddle } from '../../sys/error.ts';

export type { Timespec } from '../../sys/meta.ts';

export type EntryType = 'file' | 'dir' | 'symlink' | 'hardlink' | 'char' | 'block' | 'fifo';

export interface TarEntry {
  /** The name as stored (PAX `path`, GNU long name or ustar prefix/name), binary string. */
  path: string;
  type: EntryType;
  /** Permission bits including setuid, setgid and sticky (no S_IF* type bits). */
  mode: number;
  uid: number;
  gid: number;
  uname: string;
  gname: string;
  /** Bytes of content that follow (files only; 0 for the other types). */
  size: number;
  mtime: Timespec;
  /** Only when the archive gives one (PAX `atime`, GNU header). */
  atime: Timespec | undefined;
  /** Symlink target or hard-link target path, binary string; '' otherwise. */
  linkname: string;
  devmajor: number;
  devminor: number;
  /** `SCHILY.xattr.*` records: name → raw value bytes. */
  xattrs: Map<string, Buffer> | undefined;
  /** Byte offset of the entry's header in the uncompressed stream (for messages). */
  offset: number;
}

/** The raw bytes of a binary string, NUL-terminated for system calls. */
export function cbytes(s: string): Buffer {
  const b = Buffer.allocUnsafe(s.length + 1);
  b.write(s, 0, 'latin1');
  b[s.length] = 0;
  return b;
}

/** A binary string shown as UTF-8 text (for messages and the JSON of results). */
export function displayName(s: string): string {
  return Buffer.from(s, 'latin1').toString('utf8');
}

/** A binary string for an error message: as text, a long one cut in its middle. */
export function shownName(s: string): string {
  return shortenMiddle(displayName(s));
}

/** A UTF-8 JS string as a binary string (names given by callers, e.g. "etc/passwd"). */
export function binaryOf(s: string): string {
  return Buffer.from(s, 'utf8').toString('latin1');
}
