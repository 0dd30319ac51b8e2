/**
 * The one tar writer of berth: the layers a build writes, the layers of
 * `berth import`, the docker-archive and oci-archive files of `berth save`.
 * ustar headers, with one PAX record block ahead of an entry whose name,
 * link, size or ids do not fit, or that carries extended attributes
 * (`SCHILY.xattr.NAME`, as Docker, containerd and umoci write file
 * capabilities). Names are binary strings (one character per byte, as the
 * reader in ./reader.ts gives them). Times are whole seconds and nothing
 * else varies, so the same members always give the same bytes (a build's
 * layer digests depend on it).
 *
 * Written by hand: node-tar's packer reads from the file system itself (it
 * cannot write an entry from a blob stream already in hand), tar-stream was
 * dropped from the project, and both decode PAX values as UTF-8, which
 * corrupts binary xattr values; the writer is ~120 lines.
 */
import { failedPrecondition, internal } from '../../errors.ts';
import { Readable } from 'node:stream';

export type TarEntryType = 'file' | 'hardlink' | 'symlink' | 'char' | 'block' | 'dir' | 'fifo';

export interface TarHeader {
  /** Binary string (one character per byte); directories end in "/". */
  name: string;
  type: TarEntryType;
  mode: number;
  uid?: number;
  gid?: number;
  uname?: string;
  gname?: string;
  /** Content length of a file; other types have none. */
  size?: number;
  /** Whole seconds since the epoch. */
  mtime?: number;
  linkname?: string;
  devmajor?: number;
  devminor?: number;
  /** Written as PAX `SCHILY.xattr.NAME` records, sorted by name, values byte for byte. */
  xattrs?: ReadonlyMap<string, Buffer> | undefined;
}

type Chunks = AsyncIterable<Uint8Array> | Iterable<Uint8Array>;

export interface TarMember {
  header: TarHeader;
  /** File content: bytes in hand, or a function opening exactly header.size bytes (called when the member is written). */
  data?: Buffer | (() => Chunks | Promise<Chunks>);
}

const BLOCK = 512;
const TYPEFLAG: Record<TarEntryType, string> = { file: '0', hardlink: '1', symlink: '2', char: '3', block: '4', dir: '5', fifo: '6' };
const MAX_OCTAL_8 = 0o7777777;
const MAX_OCTAL_12 = 0o77777777777;

/** Two zero blocks end an archive. */
export const TAR_END = Buffer.alloc(2 * BLOCK);

function octal(buf: Buffer, value: number, offset: number, length: number): void {
  buf.write(`${value.toString(8).padStart(length - 1, '0')}\0`, offset, length, 'latin1');
}

/** "LEN key=value\n" where LEN counts its own digits; the value's bytes as given. */
export function paxRecord(key: string, value: Buffer): Buffer {
  const body = Buffer.concat([Buffer.from(` ${key}=`, 'latin1'), value, Buffer.from('\n')]);
  const digits = String(body.length).length;
  let len = body.length + digits;
  // One more digit when adding them carries over (99 -> 100).
  if (String(len).length > digits) len++;
  return Buffer.concat([Buffer.from(String(len), 'latin1'), body]);
}

function rawHeader(h: TarHeader, name: string, linkname: string, typeflag: string, size: number): Buffer {
  const b = Buffer.alloc(BLOCK);
  b.write(name, 0, 100, 'latin1');
  octal(b, h.mode & 0o7777, 100, 8);
  octal(b, Math.min(h.uid ?? 0, MAX_OCTAL_8), 108, 8);
  octal(b, Math.min(h.gid ?? 0, MAX_OCTAL_8), 116, 8);
  octal(b, Math.min(size, MAX_OCTAL_12), 124, 12);
  octal(b, Math.max(0, Math.min(Math.floor(h.mtime ?? 0), MAX_OCTAL_12)), 136, 12);
  b.fill(' ', 148, 156);
  b.write(typeflag, 156, 1, 'latin1');
  b.write(linkname, 157, 100, 'latin1');
  b.write('ustar\x0000', 257, 8, 'latin1');
  b.write((h.uname ?? '').slice(0, 31), 265, 32, 'latin1');
  b.write((h.gname ?? '').slice(0, 31), 297, 32, 'latin1');
  octal(b, h.devmajor ?? 0, 329, 8);
  octal(b, h.devminor ?? 0, 337, 8);
  let sum = 0;
  for (const byte of b) sum += byte;
  b.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148, 8, 'latin1');
  return b;
}

const byName = ([a]: [string, Buffer], [b]: [string, Buffer]): number => (a < b ? -1 : a > b ? 1 : 0);

/** The header block(s) of one entry: a PAX extended header first when ustar cannot hold it. */
export function tarHeader(h: TarHeader): Buffer {
  const size = h.type === 'file' ? (h.size ?? 0) : 0;
  const linkname = h.linkname ?? '';
  const records: Buffer[] = [];
  let name = h.name;
  if (name.length > 100) {
    records.push(paxRecord('path', Buffer.from(name, 'latin1')));
    // The PAX path wins; the ustar field only needs to keep the entry's kind
    // (a trailing "/" would make old readers take a file for a directory).
    const base = name.replace(/\/+$/, '').split('/').pop() ?? 'entry';
    name = h.type === 'dir' ? `${base.slice(0, 98)}/` : base.slice(0, 99);
  }
  if (linkname.length > 100) records.push(paxRecord('linkpath', Buffer.from(linkname, 'latin1')));
  if (size > MAX_OCTAL_12) records.push(paxRecord('size', Buffer.from(String(size))));
  if ((h.uid ?? 0) > MAX_OCTAL_8) records.push(paxRecord('uid', Buffer.from(String(h.uid))));
  if ((h.gid ?? 0) > MAX_OCTAL_8) records.push(paxRecord('gid', Buffer.from(String(h.gid))));
  for (const [k, v] of [...(h.xattrs ?? [])].sort(byName)) records.push(paxRecord(`SCHILY.xattr.${k}`, v));
  const main = rawHeader(h, name, linkname.slice(0, 100), TYPEFLAG[h.type], size);
  if (records.length === 0) return main;
  const body = Buffer.concat(records);
  const pax = rawHeader({ name: '', type: 'file', mode: 0o644, mtime: h.mtime ?? 0 }, `PaxHeaders.0/${name}`.slice(0, 100), '', 'x', body.length);
  return Buffer.concat([pax, body, padding(body.length), main]);
}

/** Zeros up to the next block boundary after `size` bytes of content. */
export function padding(size: number): Buffer {
  const rest = size % BLOCK;
  return rest === 0 ? Buffer.alloc(0) : Buffer.alloc(BLOCK - rest);
}

/** A tar stream of `members`, pulled lazily: one member's content is open at a time, nothing held beyond one chunk. */
export function tarStream(members: AsyncIterable<TarMember> | Iterable<TarMember>): Readable {
  async function* generate(): AsyncGenerator<Buffer> {
    for await (const m of members) {
      const isFile = m.header.type === 'file';
      const size = !isFile ? 0 : Buffer.isBuffer(m.data) ? m.data.byteLength : (m.header.size ?? 0);
      yield tarHeader({ ...m.header, size });
      if (size === 0) continue;
      if (m.data === undefined) throw internal('tar_no_content', `tar member "${m.header.name}": no content for ${size} bytes`);
      if (Buffer.isBuffer(m.data)) {
        yield m.data;
      } else {
        let written = 0;
        for await (const chunk of await m.data()) {
          written += chunk.byteLength;
          if (written > size) throw failedPrecondition('tar_size_mismatch', `tar member "${m.header.name}": content longer than its size ${size}`);
          yield Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
        }
        // A file that changed between the listing and the reading, or a blob that is not its size.
        if (written !== size) throw failedPrecondition('tar_size_mismatch', `tar member "${m.header.name}": content is ${written} bytes, header says ${size}`);
      }
      yield padding(size);
    }
    yield TAR_END;
  }
  return Readable.from(generate(), { objectMode: false });
}
