/**
 * Random access to the members of an archive file (docker-archive,
 * oci-archive): one pass with the tar reader of src/image/unpack records
 * where each regular file's content starts, and keeps the archive's own
 * top-level files (manifest.json, index.json) in memory when small (only
 * those: a hostile archive of many small members must not fill memory); blobs are then read straight from
 * the archive by offset, never extracted. Names are cleaned ("./x" → "x");
 * a member whose name climbs out ("../x") is ignored, never resolved.
 */
import { createReadStream } from 'node:fs';
import { Readable } from 'node:stream';
import { notFound } from '../../errors.ts';
import { displayName, type TarEntry } from '../unpack/entry.ts';
import { TarReader } from '../unpack/tar-reader.ts';

export interface ArchiveMember {
  name: string;
  /** Offset of the first content byte in the archive file. */
  offset: number;
  size: number;
}

const SMALL = 4 * 1024 * 1024;
const KEPT = new Set(['index.json', 'manifest.json', 'oci-layout', 'repositories']);

export function cleanMemberName(name: string): string | undefined {
  const parts: string[] = [];
  for (const p of name.split('/')) {
    if (p === '' || p === '.') continue;
    if (p === '..') return undefined;
    parts.push(p);
  }
  return parts.length === 0 ? undefined : parts.join('/');
}

export class ArchiveIndex {
  readonly file: string;
  private readonly members = new Map<string, ArchiveMember>();
  private readonly small = new Map<string, Buffer>();

  private constructor(file: string) {
    this.file = file;
  }

  static async open(file: string): Promise<ArchiveIndex> {
    const index = new ArchiveIndex(file);
    let current: { name: string; chunks: Buffer[] | undefined } | undefined;
    const reader = new TarReader(
      {
        entry: (e: TarEntry) => {
          const name = cleanMemberName(displayName(e.path));
          current = undefined;
          if (e.type !== 'file' || name === undefined) return;
          index.members.set(name, { name, offset: e.offset + 512, size: e.size });
          current = { name, chunks: KEPT.has(name) && e.size <= SMALL ? [] : undefined };
        },
        data: (chunk: Buffer) => {
          current?.chunks?.push(Buffer.from(chunk));
        },
        entryEnd: () => {
          if (current?.chunks !== undefined) index.small.set(current.name, Buffer.concat(current.chunks));
          current = undefined;
        },
      },
      `archive ${file}`,
    );
    for await (const chunk of createReadStream(file, { highWaterMark: 1 << 20 })) reader.push(chunk as Buffer);
    reader.end();
    return index;
  }

  has(name: string): boolean {
    return this.members.has(name);
  }

  member(name: string): ArchiveMember {
    const m = this.members.get(name);
    if (m === undefined) throw notFound('archive_member_not_found', `archive ${this.file}: no member "${name}"`);
    return m;
  }

  /** A small JSON member's bytes (read during indexing). */
  smallFile(name: string): Buffer {
    const b = this.small.get(name);
    if (b === undefined) throw notFound('archive_member_not_found', `archive ${this.file}: no member "${name}"`);
    return b;
  }

  open(name: string, start = 0): Readable {
    const m = this.member(name);
    if (m.size === 0 || start >= m.size) return Readable.from([]);
    return createReadStream(this.file, { start: m.offset + start, end: m.offset + m.size - 1, highWaterMark: 256 * 1024 });
  }
}
