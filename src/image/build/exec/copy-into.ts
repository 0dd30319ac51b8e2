/**
 * COPY and ADD writing into a step's mounted root, through the same layer
 * applier that unpacks pulled layers: every destination is resolved inside
 * the root and created relative to its parent's fd, nothing the image
 * planted (a symlink aimed at the host) is followed out. Directories the
 * copy needs are created with the given owner and berth's fixed time, and
 * the parents it writes into keep their times: a COPY of the same files
 * onto the same state always yields the same layer.
 */
import { createReadStream } from 'node:fs';
import { pipeline } from 'node:stream/promises';
import * as sys from '../../../sys/index.ts';
import { BerthError, invalidArgument } from '../../../errors.ts';
import { cbytes, displayName, type TarEntry } from '../../unpack/entry.ts';
import { LayerApplier } from '../../unpack/layer-applier.ts';
import { resolveOptions } from '../../unpack/options.ts';
import { cleanEntryPath } from '../../unpack/paths.ts';
import type { Rootfs } from '../../unpack/rootfs.ts';
import { TarReader } from '../../tar/reader.ts';
import { decompressor, type Compression } from '../../transport/compression.ts';
import { readFileAt, walkSource, type SourceMatch, type SourceRoot } from '../sources.ts';
import { joinRel } from '../paths.ts';
import type { NodeInfo } from '../layer/node.ts';

export interface Owner {
  uid: number;
  gid: number;
}

export interface CopyOp {
  root: SourceRoot;
  match: SourceMatch;
  /** Destination inside the target root (relative, resolved, binary string). */
  dest: string;
  /** The source is a directory whose contents go into `dest`. */
  contents: boolean;
  /** ADD: the source is a tar archive (compressed like this) to extract into `dest`. */
  extract?: Compression;
}

export interface CopyOptions {
  owner: Owner | undefined;
  /** --chmod: permission bits for files and directories copied. */
  mode: number | undefined;
  /** Time of the directories berth creates itself (seconds). */
  epoch: number;
  /** Directories to create first (missing parts of destinations, parents first). */
  createDirs: string[];
}

const WHITEOUT = '.wh.';
const LABEL = 'copy';

function refuseWhiteout(path: string): void {
  const base = path.slice(path.lastIndexOf('/') + 1);
  if (base.startsWith(WHITEOUT)) {
    throw invalidArgument('build_whiteout_name', `"${displayName(path)}": names starting with "${WHITEOUT}" mark deletions in image layers and cannot be copied`);
  }
}

function baseEntry(path: string, type: TarEntry['type'], mode: number, owner: Owner, mtime: sys.Timespec): TarEntry {
  return { path, type, mode, uid: owner.uid, gid: owner.gid, uname: '', gname: '', size: 0, mtime, atime: undefined, linkname: '', devmajor: 0, devminor: 0, xattrs: undefined, offset: 0 };
}

class Copier {
  private readonly applier: LayerApplier;
  private readonly links = new Map<string, string>();
  private readonly options: CopyOptions;

  constructor(target: Rootfs, options: CopyOptions) {
    this.applier = new LayerApplier(target, resolveOptions({ whiteouts: 'apply' }), LABEL);
    this.options = options;
  }

  private owner(root: SourceRoot, n: NodeInfo): Owner {
    return this.options.owner ?? (root.keepOwners ? { uid: n.st.uid, gid: n.st.gid } : { uid: 0, gid: 0 });
  }

  createDirs(): void {
    const owner = this.options.owner ?? { uid: 0, gid: 0 };
    for (const d of this.options.createDirs) this.put(baseEntry(d, 'dir', 0o755, owner, { sec: this.options.epoch, nsec: 0 }));
  }

  private put(e: TarEntry, data?: (sink: (chunk: Buffer) => void) => void): void {
    refuseWhiteout(e.path);
    this.applier.entry(e);
    data?.((chunk) => this.applier.data(chunk));
    this.applier.entryEnd(e);
  }

  copy(op: CopyOp): void {
    for (const w of walkSource(op.root, op.match)) {
      if (w.path === '' && op.contents) continue;
      const dest = op.contents ? joinRel(op.dest, w.path) : op.dest;
      const n = w.node;
      if (n.type === 'socket') continue;
      const owner = this.owner(op.root, n);
      const mode = this.options.mode !== undefined && n.type !== 'symlink' ? this.options.mode : n.st.mode & 0o7777;
      const e = baseEntry(dest, n.type, mode, owner, n.st.mtime);
      e.linkname = n.linkname;
      e.devmajor = n.st.rdevMajor;
      e.devminor = n.st.rdevMinor;
      if (op.root.keepOwners) e.xattrs = n.xattrs;
      if (n.type === 'file' && n.st.nlink > 1) {
        const id = `${n.st.devMajor}:${n.st.devMinor}:${n.st.ino}`;
        const first = this.links.get(id);
        if (first !== undefined) {
          this.put({ ...e, type: 'hardlink', linkname: first });
          continue;
        }
        this.links.set(id, dest);
      }
      if (n.type === 'file') {
        e.size = n.st.size;
        this.put(e, (sink) => readFileAt(w.dirfd, w.name, sink));
      } else {
        this.put(e);
      }
    }
  }

  /** Extracts a tar archive (ADD) into `dest`: names made relative to it, ".." refused, owners kept unless --chown. */
  async extract(op: CopyOp, compression: Compression): Promise<void> {
    const parentFd = op.match.real.includes('/')
      ? sys.openInRoot(op.root.fd, cbytes(op.match.real.slice(0, op.match.real.lastIndexOf('/'))), sys.O_RDONLY | sys.O_DIRECTORY)
      : sys.openat(op.root.fd, '.', sys.O_RDONLY | sys.O_DIRECTORY);
    let fd: number;
    try {
      fd = sys.openat(parentFd, cbytes(op.match.real.slice(op.match.real.lastIndexOf('/') + 1)), sys.O_RDONLY | sys.O_NOFOLLOW | sys.O_NONBLOCK);
    } finally {
      sys.close(parentFd);
    }
    const label = `archive "${displayName(op.match.given)}"`;
    const rename = (p: string): string => {
      const cp = cleanEntryPath(p);
      if (cp === undefined) throw invalidArgument('build_archive_path', `${label}: entry "${displayName(p)}" escapes the destination`);
      return cp.path === '' ? op.dest : joinRel(op.dest, cp.path);
    };
    let current: TarEntry | undefined;
    const reader = new TarReader(
      {
        entry: (e) => {
          const path = rename(e.path);
          if (path === op.dest && e.type === 'dir') {
            current = undefined;
            return;
          }
          const owner = this.options.owner ?? { uid: e.uid, gid: e.gid };
          current = { ...e, path, uid: owner.uid, gid: owner.gid, linkname: e.type === 'hardlink' ? rename(e.linkname) : e.linkname };
          if (this.options.mode !== undefined && e.type !== 'symlink' && e.type !== 'hardlink') current.mode = this.options.mode;
          refuseWhiteout(current.path);
          this.applier.entry(current);
        },
        data: (chunk) => {
          if (current !== undefined) this.applier.data(chunk);
        },
        entryEnd: () => {
          if (current !== undefined) this.applier.entryEnd(current);
          current = undefined;
        },
      },
      label,
    );
    await pipeline(createReadStream('', { fd, highWaterMark: 1 << 20, autoClose: true }), decompressor(compression), async (source: AsyncIterable<Buffer>) => {
      for await (const chunk of source) reader.push(chunk);
    });
    reader.end();
  }

  finish(): void {
    this.applier.finish();
  }

  abort(): void {
    this.applier.abort();
  }
}

const APPLIER_PREFIX = `layer ${LABEL}: `;

/** Performs the copies onto `target`, in order. */
export async function copyInto(target: Rootfs, ops: CopyOp[], options: CopyOptions): Promise<void> {
  const copier = new Copier(target, options);
  try {
    copier.createDirs();
    for (const op of ops) {
      if (op.extract !== undefined) await copier.extract(op, op.extract);
      else copier.copy(op);
    }
    copier.finish();
  } catch (err) {
    // The applier names a layer; here it wrote a COPY, and the step's location says which.
    if (err instanceof BerthError && err.message.startsWith(APPLIER_PREFIX)) {
      throw new BerthError(err.kind, err.code, err.message.slice(APPLIER_PREFIX.length), { cause: err.cause, details: err.details });
    }
    throw err;
  } finally {
    copier.abort();
  }
}
