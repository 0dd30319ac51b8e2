/**
 * Where COPY and ADD read from: the build context (a host directory, with
 * its .containerignore/.dockerignore applied) or the root of an earlier
 * stage or of an image (mounted read-only). Everything is read through
 * directory fds: a named source is resolved inside its root (a symlink in
 * the context cannot lead out of it), and below a named directory nothing
 * is followed — symlinks are copied as symlinks. The ignore rules are
 * matched on the path as written and on the path it resolves to, so a
 * symlink cannot bring in what they exclude (`innocent -> secret.txt`,
 * `docs -> secrets`).
 */
import { readSync, readFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import * as sys from '../../sys/index.ts';
import { describeError, errnoCode } from '../../errors.ts';
import { cbytes } from '../unpack/entry.ts';
import { IgnoreMatcher, readIgnoreLines } from './ignore.ts';
import { globMatch, hasWildcards } from './glob.ts';
import { cleanPath, joinRel } from './paths.ts';
import { readNode, type NodeInfo } from './layer/node.ts';

const CHUNK = 1 << 20;
/** One read buffer for every file: callers consume each chunk before the next read (a buffer per file was most of a COPY's time, in the garbage collector). */
const readBuffer = Buffer.allocUnsafe(CHUNK);

export class SourceProblem extends Error {}

export interface SourceRoot {
  fd: number;
  /** "the context", `stage "build"`, `image "alpine"`: for messages. */
  describe: string;
  ignore: IgnoreMatcher | undefined;
  /** Keep owners as found (COPY --from); the context's files become root's. */
  keepOwners: boolean;
}

export interface SourceMatch {
  /** The path as matched (relative to the root, unresolved): what the ignore rules see. */
  given: string;
  /** The path after symlinks were resolved inside the root ("" for the root). */
  real: string;
  node: NodeInfo;
}

export interface WalkEntry {
  /** Relative to the matched source, binary string ("" for the source itself). */
  path: string;
  node: NodeInfo;
  dirfd: number;
  name: Buffer;
}

/** The ignore file of a context: .containerignore, else .dockerignore (read inside the context). */
export function contextIgnore(rootFd: number): IgnoreMatcher | undefined {
  for (const name of ['.containerignore', '.dockerignore']) {
    let fd: number;
    try {
      fd = sys.openInRoot(rootFd, name, sys.O_RDONLY | sys.O_NONBLOCK);
    } catch (err) {
      if (errnoCode(err) === 'ENOENT') continue;
      throw err;
    }
    try {
      return new IgnoreMatcher(readIgnoreLines(readFileSync(fd, 'utf8')), name);
    } finally {
      sys.close(fd);
    }
  }
  return undefined;
}

export function openRootDir(path: string): number {
  return sys.openat(sys.AT_FDCWD, path, sys.O_RDONLY | sys.O_DIRECTORY);
}

function realOf(rootFd: number, fd: number): string {
  const real = sys.pathInRoot(rootFd, fd);
  if (real === undefined) throw new SourceProblem(`resolves outside its root`);
  return real;
}

/** The root directory itself (`COPY . /dest`): its metadata, no xattrs (they are not copied onto the destination). */
function rootNode(fd: number): NodeInfo {
  return { type: 'dir', st: sys.statx(fd, '', sys.AT_EMPTY_PATH), linkname: '', xattrs: undefined };
}

/** Whether the rules exclude a path, named as written or as resolved (a symlink must not lead to what they exclude). */
function excludedAs(ignore: IgnoreMatcher | undefined, given: string, real: string): boolean {
  if (ignore === undefined) return false;
  return ignore.excludes(given) || (real !== given && ignore.excludes(real));
}

function statIn(root: SourceRoot, given: string): SourceMatch | undefined {
  const excluded = root.ignore?.excludes(given) === true;
  // An excluded directory still counts when a "!" rule may bring back something below it.
  if (excluded && root.ignore?.hasExclusions !== true) return undefined;
  let fd: number;
  try {
    fd = given === '' ? sys.openat(root.fd, '.', sys.O_PATH) : sys.openInRoot(root.fd, cbytes(given), sys.O_PATH);
  } catch (err) {
    if (['ENOENT', 'ENOTDIR', 'ELOOP'].includes(errnoCode(err) ?? '')) return undefined;
    throw err;
  }
  try {
    const real = realOf(root.fd, fd);
    const excludedReal = excludedAs(root.ignore, given, real);
    if (excludedReal && root.ignore?.hasExclusions !== true) return undefined;
    const parentFd = real.includes('/') ? sys.openInRoot(root.fd, cbytes(real.slice(0, real.lastIndexOf('/'))), sys.O_PATH | sys.O_DIRECTORY) : undefined;
    try {
      const node = real === '' ? rootNode(fd) : readNode(parentFd ?? root.fd, Buffer.from(real.slice(real.lastIndexOf('/') + 1), 'latin1'));
      if (excludedReal && node.type !== 'dir') return undefined;
      return { given, real, node };
    } finally {
      if (parentFd !== undefined) sys.close(parentFd);
    }
  } finally {
    sys.close(fd);
  }
}

/** Names in a directory of the root that match one wildcard component, sorted, ignored ones left out. */
function matchComponent(root: SourceRoot, dir: string, pattern: string): string[] {
  let fd: number;
  try {
    fd = dir === '' ? sys.openat(root.fd, '.', sys.O_RDONLY | sys.O_DIRECTORY) : sys.openInRoot(root.fd, cbytes(dir), sys.O_RDONLY | sys.O_DIRECTORY);
  } catch (err) {
    if (['ENOENT', 'ENOTDIR'].includes(errnoCode(err) ?? '')) return [];
    throw err;
  }
  try {
    return sys
      .listdirfd(fd)
      .map((b) => b.toString('latin1'))
      .filter((n) => globMatch(pattern, Buffer.from(n, 'latin1').toString('utf8')))
      .sort()
      .map((n) => joinRel(dir, n))
      .filter((p) => root.ignore?.excludes(p) !== true);
  } finally {
    sys.close(fd);
  }
}

/**
 * What a COPY/ADD source names: one match, or several for a wildcard
 * (Go's filepath.Match per path component). Throws SourceProblem when the
 * path leaves the root or nothing matches.
 */
export function resolveSource(root: SourceRoot, source: string): SourceMatch[] {
  const rel = cleanPath(source.replace(/^\/+/, ''));
  if (rel === '..' || rel.startsWith('../')) throw new SourceProblem(`source "${source}" is outside ${root.describe}`);
  const path = rel === '.' ? '' : Buffer.from(rel, 'utf8').toString('latin1');
  let candidates = [path];
  if (hasWildcards(rel)) {
    candidates = [''];
    for (const part of path.split('/')) {
      const next: string[] = [];
      for (const dir of candidates) {
        if (hasWildcards(part)) {
          try {
            next.push(...matchComponent(root, dir, Buffer.from(part, 'latin1').toString('utf8')));
          } catch (err) {
            throw new SourceProblem(`source "${source}": ${describeError(err)}`, { cause: err });
          }
        } else next.push(joinRel(dir, part));
      }
      candidates = next;
    }
  }
  const out: SourceMatch[] = [];
  for (const c of candidates) {
    const m = statIn(root, c);
    if (m !== undefined) out.push(m);
  }
  if (out.length === 0) {
    throw new SourceProblem(hasWildcards(rel) ? `source "${source}" matches nothing in ${root.describe}` : `source "${source}" not found in ${root.describe}`);
  }
  return out;
}

const byBytes = (a: Buffer, b: Buffer): number => Buffer.compare(a, b);

/**
 * The entries of a matched source: itself (path ""), then, for a
 * directory, everything below, parents first, names sorted bytewise, what
 * the ignore rules exclude left out (an excluded directory is still walked
 * when a `!` rule could bring something below it back). `dirfd` and `name`
 * locate the node while its entry is being handled.
 */
export function* walkSource(root: SourceRoot, match: SourceMatch): Generator<WalkEntry> {
  const parentPath = match.real.includes('/') ? match.real.slice(0, match.real.lastIndexOf('/')) : '';
  const parentFd = parentPath === '' ? sys.openat(root.fd, '.', sys.O_RDONLY | sys.O_DIRECTORY) : sys.openInRoot(root.fd, cbytes(parentPath), sys.O_RDONLY | sys.O_DIRECTORY);
  const ignore = root.ignore;
  function* walk(dirfd: number, rel: string, given: string): Generator<WalkEntry> {
    // What the walk reaches through a symlinked source is matched under its real name too.
    const pending: WalkEntry[] = [];
    for (const name of sys.listdirfd(dirfd).sort(byBytes)) {
      const childRel = joinRel(rel, name.toString('latin1'));
      const childGiven = joinRel(given, name.toString('latin1'));
      const node = readNode(dirfd, name);
      const excluded = excludedAs(ignore, childGiven, joinRel(match.real, childRel));
      if (excluded && (node.type !== 'dir' || ignore?.hasExclusions !== true)) continue;
      const entry: WalkEntry = { path: childRel, node, dirfd, name };
      if (node.type !== 'dir') {
        yield entry;
        continue;
      }
      const fd = sys.openat(dirfd, name, sys.O_RDONLY | sys.O_DIRECTORY | sys.O_NOFOLLOW);
      try {
        if (!excluded) {
          yield entry;
          yield* walk(fd, childRel, childGiven);
          continue;
        }
        // Excluded, but an exception may bring back something below: the directory comes only with it.
        let announced = false;
        for (const inner of walk(fd, childRel, childGiven)) {
          if (!announced) {
            pending.push(entry);
            yield* pending.splice(0);
            announced = true;
          }
          yield inner;
        }
      } finally {
        sys.close(fd);
      }
    }
  }
  try {
    const name = match.real === '' ? Buffer.alloc(0) : Buffer.from(match.real.slice(match.real.lastIndexOf('/') + 1), 'latin1');
    if (match.node.type !== 'dir') {
      yield { path: '', node: match.node, dirfd: parentFd, name };
      return;
    }
    const fd = match.real === '' ? sys.openat(root.fd, '.', sys.O_RDONLY | sys.O_DIRECTORY) : sys.openat(parentFd, name, sys.O_RDONLY | sys.O_DIRECTORY | sys.O_NOFOLLOW);
    try {
      yield { path: '', node: match.node, dirfd: parentFd, name };
      yield* walk(fd, '', match.given);
    } finally {
      sys.close(fd);
    }
  } finally {
    sys.close(parentFd);
  }
}

/** Reads a regular file named `name` in `dirfd` chunk by chunk, without following a symlink; each chunk is valid only during its call. */
export function readFileAt(dirfd: number, name: Buffer, onChunk: (chunk: Buffer) => void): number {
  const fd = name.length === 0 ? sys.openat(dirfd, '.', sys.O_RDONLY) : sys.openat(dirfd, name, sys.O_RDONLY | sys.O_NOFOLLOW | sys.O_NONBLOCK);
  try {
    const st = sys.statx(fd, '', sys.AT_EMPTY_PATH);
    if ((st.mode & sys.S_IFMT) !== sys.S_IFREG) throw new SourceProblem(`"${name.toString('utf8')}" is no longer a regular file`);
    let total = 0;
    for (let n = readSync(fd, readBuffer, 0, CHUNK, null); n > 0; n = readSync(fd, readBuffer, 0, CHUNK, null)) {
      onChunk(readBuffer.subarray(0, n));
      total += n;
    }
    return total;
  } finally {
    sys.close(fd);
  }
}

/** A digest of what the matched sources hold (names, types, modes, sizes, link targets, contents; not times or owners). */
export function digestSources(root: SourceRoot, matches: SourceMatch[]): string {
  const h = createHash('sha256');
  for (const m of matches) {
    h.update(`match\0${m.given}\0`);
    for (const e of walkSource(root, m)) {
      const n = e.node;
      h.update(`${e.path}\0${n.type}\0${(n.st.mode & 0o7777).toString(8)}\0${n.type === 'file' ? n.st.size : 0}\0${n.linkname}\0`);
      if (root.keepOwners) h.update(`${n.st.uid}:${n.st.gid}\0`);
      if (n.type === 'file') {
        const fh = createHash('sha256');
        readFileAt(e.dirfd, e.name, (c) => fh.update(c));
        h.update(fh.digest());
      }
    }
  }
  return `sha256:${h.digest('hex')}`;
}
