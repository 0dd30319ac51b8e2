/**
 * A read-only view of a set of files by relative name, backed either by a
 * directory or by an archive's index, so the OCI layout and docker-archive
 * readers work the same on `oci:DIR` and on `oci-archive:FILE`. Names are
 * cleaned first; one that climbs out ("../") is refused. In a directory,
 * files are opened with openat2(RESOLVE_BENEATH): a symlink may point
 * elsewhere inside it, never out of it (an index.json linked to
 * /etc/shadow is refused, not read). Whole reads are capped (limits.ts).
 */
import { createReadStream, fstatSync, readSync } from 'node:fs';
import type { Readable } from 'node:stream';
import * as sys from '../../sys/index.ts';
import { errnoCode, invalidArgument, notFound, type BerthError } from '../../errors.ts';
import { checkDeclaredSize, readAtMost } from '../limits.ts';
import { cleanMemberName, type ArchiveIndex } from './tar-index.ts';

export interface FileSet {
  readonly label: string;
  size(name: string): Promise<number | undefined>;
  /** A file whole; one over `limit` bytes is refused before it is read. */
  read(name: string, limit: number): Promise<Buffer>;
  open(name: string, start?: number): Readable;
}

function clean(label: string, name: string): string {
  const c = cleanMemberName(name);
  if (c === undefined) throw invalidArgument('path_escapes', `${label}: "${name}" escapes the image directory`);
  return c;
}

/** How names below a user's directory are resolved: symlinks may move inside it, never out. */
export const BENEATH = sys.RESOLVE_BENEATH | sys.RESOLVE_NO_MAGICLINKS;

/** openat2(BENEATH)'s refusal (EXDEV, ELOOP) as an error naming the link; undefined for other failures. */
export function escapeError(label: string, name: string, err: unknown): BerthError | undefined {
  const code = errnoCode(err);
  if (code !== 'EXDEV' && code !== 'ELOOP') return undefined;
  return invalidArgument('path_escapes', `${label}: "${name}" is a symlink that leads out of the directory`, { cause: err });
}

export class DirFileSet implements FileSet {
  readonly label: string;
  private readonly dir: string;

  constructor(dir: string) {
    this.dir = dir;
    this.label = dir;
  }

  /** Opens `name` beneath the directory; undefined when it does not exist. */
  private openBeneath(name: string, flags: number): number | undefined {
    const rel = clean(this.label, name);
    const dirfd = sys.openat(sys.AT_FDCWD, this.dir, sys.O_PATH | sys.O_DIRECTORY);
    try {
      return sys.openat2(dirfd, rel, { flags, resolve: BENEATH });
    } catch (err) {
      const code = errnoCode(err);
      if (code === 'ENOENT' || code === 'ENOTDIR') return undefined;
      throw escapeError(this.label, name, err) ?? err;
    } finally {
      sys.close(dirfd);
    }
  }

  private openFile(name: string): number {
    const fd = this.openBeneath(name, sys.O_RDONLY | sys.O_NONBLOCK);
    if (fd === undefined) throw notFound('image_file_not_found', `${this.label}: no file "${name}"`);
    if (!fstatSync(fd).isFile()) {
      sys.close(fd);
      throw invalidArgument('not_a_file', `${this.label}: "${name}" is not a regular file`);
    }
    return fd;
  }

  size(name: string): Promise<number | undefined> {
    const fd = this.openBeneath(name, sys.O_PATH);
    if (fd === undefined) return Promise.resolve(undefined);
    try {
      const st = fstatSync(fd);
      return Promise.resolve(st.isFile() ? st.size : undefined);
    } finally {
      sys.close(fd);
    }
  }

  read(name: string, limit: number): Promise<Buffer> {
    const fd = this.openFile(name);
    try {
      const size = fstatSync(fd).size;
      checkDeclaredSize(`${this.label}: ${name}`, size, limit);
      // Never more than the size checked, even if the file grows meanwhile.
      const buf = Buffer.alloc(size);
      let n = 0;
      while (n < size) {
        const r = readSync(fd, buf, n, size - n, null);
        if (r === 0) break;
        n += r;
      }
      return Promise.resolve(buf.subarray(0, n));
    } finally {
      sys.close(fd);
    }
  }

  open(name: string, start = 0): Readable {
    return createReadStream('', { fd: this.openFile(name), start, highWaterMark: 256 * 1024 });
  }
}

export class ArchiveFileSet implements FileSet {
  readonly label: string;
  private readonly index: ArchiveIndex;

  constructor(index: ArchiveIndex) {
    this.index = index;
    this.label = index.file;
  }

  size(name: string): Promise<number | undefined> {
    const c = clean(this.label, name);
    return Promise.resolve(this.index.has(c) ? this.index.member(c).size : undefined);
  }

  async read(name: string, limit: number): Promise<Buffer> {
    const c = clean(this.label, name);
    checkDeclaredSize(`${this.label}: ${name}`, this.index.member(c).size, limit);
    try {
      return this.index.smallFile(c);
    } catch {
      return readAtMost(this.index.open(c), limit, `${this.label}: ${name}`);
    }
  }

  open(name: string, start = 0): Readable {
    return this.index.open(clean(this.label, name), start);
  }
}
