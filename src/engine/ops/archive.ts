/**
 * `docker cp`'s server side, the Docker Engine API's container archive:
 *
 *   HEAD /containers/{id}/archive?path=P  statPath(view, P)       → X-Docker-Container-Path-Stat: encodePathStat(stat)
 *   GET  /containers/{id}/archive?path=P  getArchive(view, P)     → { stat, stream } (tar; the same header)
 *   PUT  /containers/{id}/archive?path=P  putArchive(view, P, body, { noOverwriteDirNonDir, owner })
 *
 * `view` is the container's file system as the host reaches it: its rootfs
 * directory, its bind mounts and volumes (target in the container, source
 * on the host, in mount order) and whether the rootfs is read-only (see
 * container-fs.ts for how every path stays inside it). Paths are
 * container paths as the API receives them (UTF-8; relative ones are taken
 * from the root).
 *
 * dockerd's path rules, kept here: ".." is cleaned lexically first; HEAD
 * and GET follow symlinks in every component but the last, unless the path
 * ends in "/" or "/." (then the last is followed too); PUT follows all and
 * needs a directory. The stat's `linkTarget` is where a symlink fully
 * resolves in the container. The archive's entries are named from the
 * requested path's base ("foo/...", "./..." for "foo/."; for "/" the
 * children are "/bin", ...); "copy the contents" is the client's business.
 * PUT takes plain, gzip or zstd tar (dockerd also takes bzip2 and xz, which
 * Node cannot decode: refused by name). Entries are written as they come:
 * an archive refused half-way leaves the entries before it, as under dockerd.
 *
 * Owners on PUT: the archive's (dockerd's default), or with the API's
 * copyUIDGID the container user's uid/gid, which the caller resolves and
 * passes as `owner` (dockerd does the same, from the container's User).
 */
import { posix } from 'node:path';
import type { Readable } from 'node:stream';
import { binaryOf, displayName } from '../../image/unpack/entry.ts';
import { decompressed } from '../../image/unpack/decompress.ts';
import { TarReader } from '../../image/tar/reader.ts';
import { tarStream } from '../../image/tar/writer.ts';
import { BerthError, invalidArgument, unsupported } from '../../errors.ts';
import * as sys from '../../sys/index.ts';
import { ContainerFs, type ContainerView, type Node } from './container-fs.ts';
import { goBase, goFileMode, goTime, type PathStat } from './path-stat.ts';
import { archiveMembers } from './archive-members.ts';
import { Extractor, refuseReadonly, type ExtractOptions } from './extract.ts';

export type { ContainerView, ContainerMount } from './container-fs.ts';
export { encodePathStat, decodePathStat, type PathStat } from './path-stat.ts';
export type { ExtractOptions, Owner } from './extract.ts';

/** dockerd's absPath: cleaned as if absolute, a trailing "/" or "/." kept (they mean "follow the last symlink"). */
export function absPath(path: string): string {
  const clean = posix.normalize(posix.join('/', path)).replace(/\/+$/, '') || '/';
  if ((path.endsWith('/.') || path === '.') && clean !== '/') return `${clean}/.`;
  if (path.endsWith('/') && clean !== '/') return `${clean}/`;
  return clean;
}

function followsLast(abs: string): boolean {
  return abs === '/' || abs.endsWith('/') || abs.endsWith('/.');
}

function statOf(cfs: ContainerFs, node: Node, abs: string): PathStat {
  const isLink = (node.st.mode & sys.S_IFMT) === sys.S_IFLNK;
  return {
    name: goBase(abs),
    size: node.st.size,
    mode: goFileMode(node.st.mode),
    mtime: goTime(node.st.mtime.sec, node.st.mtime.nsec),
    linkTarget: isLink ? displayName(cfs.canonical(abs)) : '',
  };
}

function lookup(cfs: ContainerFs, abs: string): Node {
  return cfs.resolve(binaryOf(abs), { followLast: followsLast(abs) });
}

/** HEAD: what is at `path` (not_found `cp_path_not_found` when nothing). */
export function statPath(view: ContainerView, path: string): PathStat {
  using cfs = ContainerFs.open(view);
  const abs = absPath(path);
  using node = lookup(cfs, abs);
  return statOf(cfs, node, abs);
}

/**
 * GET: the stat and a tar stream of what is at `path`. Nothing is read
 * before the stream is; errors before it (not found) are thrown, errors
 * while reading end the stream with that error. The stream holds the
 * view's fds until it ends or is destroyed.
 */
export function getArchive(view: ContainerView, path: string): { stat: PathStat; stream: Readable } {
  const abs = absPath(path);
  return archiveOf(view, abs, abs === '/' ? '' : binaryOf(goBase(abs)));
}

/** `docker export`: the whole root, its members named "./bin", ... (give a view without mounts for the root filesystem alone). */
export function exportArchive(view: ContainerView): Readable {
  return archiveOf(view, '/', '.').stream;
}

function archiveOf(view: ContainerView, abs: string, top: string): { stat: PathStat; stream: Readable } {
  const cfs = ContainerFs.open(view);
  let node: Node;
  let stat: PathStat;
  try {
    node = lookup(cfs, abs);
    stat = statOf(cfs, node, abs);
  } catch (err) {
    cfs.close();
    throw err;
  }
  async function* members(): ReturnType<typeof archiveMembers> {
    try {
      yield* archiveMembers(cfs, node, top);
    } finally {
      node.close();
      cfs.close();
    }
  }
  return { stat, stream: tarStream(members()) };
}

/** PUT: extracts the tar stream `tar` into the directory at `path` (symlinks followed, in the container). */
export async function putArchive(view: ContainerView, path: string, tar: Readable, options: ExtractOptions = {}): Promise<{ entries: number }> {
  using cfs = ContainerFs.open(view);
  const abs = absPath(path);
  using dest = cfs.resolve(binaryOf(abs), { followLast: true });
  if ((dest.st.mode & sys.S_IFMT) !== sys.S_IFDIR) {
    throw invalidArgument('cp_not_a_directory', `container path "${displayName(dest.path)}": not a directory (the archive is extracted into a directory)`);
  }
  refuseReadonly(dest, dest.path);
  const extractor = new Extractor(cfs, dest, options);
  const label = `archive for container path "${abs}"`;
  const reader = new TarReader(extractor, label);
  let first = true;
  try {
    for await (const chunk of decompressed(tar, label)) {
      if (first) refuseCompression(chunk, label);
      first = false;
      reader.push(chunk);
    }
    reader.end();
    extractor.finish();
  } catch (err) {
    // The tar reader names a layer; here it read what a client sent.
    if (err instanceof BerthError && err.message.startsWith(`layer ${label}`)) {
      throw new BerthError(err.kind, err.code, err.message.slice('layer '.length), { cause: err.cause, details: err.details });
    }
    throw err;
  } finally {
    extractor.abort();
  }
  return { entries: extractor.entries };
}

/** bzip2 and xz, which dockerd takes and Node cannot decode, are named rather than read as a broken tar. */
function refuseCompression(head: Buffer, label: string): void {
  const kind = head.subarray(0, 3).toString('latin1') === 'BZh' ? 'bzip2' : head.subarray(0, 6).equals(XZ_MAGIC) ? 'xz' : undefined;
  if (kind !== undefined) throw unsupported('cp_archive_compression', `${label}: ${kind}-compressed archives are not supported (send plain, gzip or zstd tar)`);
}

const XZ_MAGIC = Buffer.from([0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00]);
