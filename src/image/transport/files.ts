/**
 * A read-only view of a set of files by relative name, backed either by a
 * directory or by an archive's index, so the OCI layout and docker-archive
 * readers work the same on `oci:DIR` and on `oci-archive:FILE`. Names are
 * cleaned first; one that climbs out ("../") is refused.
 */
import { createReadStream } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { errnoCode, invalidArgument, notFound } from '../../errors.ts';
import { cleanMemberName, type ArchiveIndex } from './tar-index.ts';

export interface FileSet {
  readonly label: string;
  size(name: string): Promise<number | undefined>;
  read(name: string): Promise<Buffer>;
  open(name: string, start?: number): Readable;
}

function clean(label: string, name: string): string {
  const c = cleanMemberName(name);
  if (c === undefined) throw invalidArgument('path_escapes', `${label}: "${name}" escapes the image directory`);
  return c;
}

export class DirFileSet implements FileSet {
  readonly label: string;
  private readonly dir: string;

  constructor(dir: string) {
    this.dir = dir;
    this.label = dir;
  }

  async size(name: string): Promise<number | undefined> {
    try {
      const st = await stat(join(this.dir, clean(this.label, name)));
      return st.isFile() ? st.size : undefined;
    } catch (err) {
      if (errnoCode(err) === 'ENOENT') return undefined;
      throw err;
    }
  }

  async read(name: string): Promise<Buffer> {
    try {
      return await readFile(join(this.dir, clean(this.label, name)));
    } catch (err) {
      if (errnoCode(err) === 'ENOENT') throw notFound('image_file_not_found', `${this.label}: no file "${name}"`, { cause: err });
      throw err;
    }
  }

  open(name: string, start = 0): Readable {
    return createReadStream(join(this.dir, clean(this.label, name)), { start, highWaterMark: 256 * 1024 });
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

  read(name: string): Promise<Buffer> {
    const c = clean(this.label, name);
    try {
      return Promise.resolve(this.index.smallFile(c));
    } catch {
      return (async () => {
        const chunks: Buffer[] = [];
        for await (const chunk of this.index.open(c)) chunks.push(chunk as Buffer);
        return Buffer.concat(chunks);
      })();
    }
  }

  open(name: string, start = 0): Readable {
    return this.index.open(clean(this.label, name), start);
  }
}
