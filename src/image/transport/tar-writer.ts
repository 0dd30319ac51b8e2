/**
 * A streaming tar writer for what berth produces: layers made by `berth
 * import` and the docker-archive and oci-archive files of `berth save`.
 * ustar headers, with a PAX record ahead of an entry whose name, link,
 * size or ids do not fit ustar (names are binary strings, one character
 * per byte, as the tar reader in src/image/unpack gives them).
 *
 * Written by hand: the tar-stream dependency was dropped from the project,
 * node-tar's packer reads from the file system itself (it cannot write an
 * entry from a blob stream we already hold), and a writer is ~100 lines.
 */
import { failedPrecondition } from '../../errors.ts';
import { Readable } from 'node:stream';

export type TarEntryType = 'file' | 'hardlink' | 'symlink' | 'char' | 'block' | 'dir' | 'fifo';

export interface TarHeader {
  /** Binary string (latin1, one char per byte). */
  name: string;
  type: TarEntryType;
  mode: number;
  uid?: number;
  gid?: number;
  uname?: string;
  gname?: string;
  size?: number;
  /** Seconds since the epoch. */
  mtime?: number;
  linkname?: string;
  devmajor?: number;
  devminor?: number;
}

const TYPEFLAG: Record<TarEntryType, string> = { file: '0', hardlink: '1', symlink: '2', char: '3', block: '4', dir: '5', fifo: '6' };
const BLOCK = 512;
const MAX_OCTAL_8 = 0o7777777;
const MAX_OCTAL_12 = 0o77777777777;

function octal(buf: Buffer, value: number, offset: number, length: number): void {
  buf.write(`${value.toString(8).padStart(length - 1, '0')}\0`, offset, length, 'latin1');
}

function paxRecord(key: string, value: string): Buffer {
  const body = ` ${key}=${value}\n`;
  const bodyLen = Buffer.byteLength(body, 'latin1');
  // The length counts its own digits: one more digit when adding them carries over.
  const digits = String(bodyLen).length;
  let len = bodyLen + digits;
  if (String(len).length > digits) len++;
  return Buffer.from(`${len}${body}`, 'latin1');
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

/** The header block(s) for one entry: a PAX extended header first when ustar cannot hold it. */
export function tarHeader(h: TarHeader): Buffer {
  const size = h.type === 'file' ? (h.size ?? 0) : 0;
  const linkname = h.linkname ?? '';
  const pax: Buffer[] = [];
  let name = h.name;
  if (Buffer.byteLength(name, 'latin1') > 100) {
    pax.push(paxRecord('path', name));
    // The PAX path wins; the ustar field only needs to keep the entry's kind
    // (a trailing "/" would make old readers take a file for a directory).
    const base = name.replace(/\/+$/, '').split('/').pop() ?? 'entry';
    name = h.type === 'dir' ? `${base.slice(0, 98)}/` : base.slice(0, 99);
  }
  if (linkname.length > 100) pax.push(paxRecord('linkpath', linkname));
  if (size > MAX_OCTAL_12) pax.push(paxRecord('size', String(size)));
  if ((h.uid ?? 0) > MAX_OCTAL_8) pax.push(paxRecord('uid', String(h.uid)));
  if ((h.gid ?? 0) > MAX_OCTAL_8) pax.push(paxRecord('gid', String(h.gid)));
  const main = rawHeader(h, name, linkname.slice(0, 100), TYPEFLAG[h.type], size);
  if (pax.length === 0) return main;
  const body = Buffer.concat(pax);
  const paxHead = rawHeader({ name: 'PaxHeader', type: 'file', mode: 0o644 }, `PaxHeaders/${name}`.slice(0, 100), '', 'x', body.byteLength);
  return Buffer.concat([paxHead, body, padding(body.byteLength), main]);
}

export function padding(size: number): Buffer {
  const rest = size % BLOCK;
  return rest === 0 ? Buffer.alloc(0) : Buffer.alloc(BLOCK - rest);
}

/** Two zero blocks end an archive. */
export const TAR_END = Buffer.alloc(2 * BLOCK);

export interface TarMember {
  header: TarHeader;
  /** File content: bytes in hand, or a function opening a stream of exactly header.size bytes. */
  data?: Buffer | (() => Promise<AsyncIterable<Uint8Array> | Iterable<Uint8Array>>);
}

/** A tar stream of the given members, produced lazily (nothing is held beyond one chunk). */
export function tarStream(members: AsyncIterable<TarMember> | Iterable<TarMember>): Readable {
  async function* generate(): AsyncGenerator<Buffer> {
    for await (const m of members) {
      const size = m.header.type === 'file' ? (m.data === undefined ? 0 : Buffer.isBuffer(m.data) ? m.data.byteLength : (m.header.size ?? 0)) : 0;
      yield tarHeader({ ...m.header, size });
      if (m.header.type !== 'file' || m.data === undefined) continue;
      if (Buffer.isBuffer(m.data)) {
        yield m.data;
      } else {
        let written = 0;
        for await (const chunk of await m.data()) {
          written += chunk.byteLength;
          if (written > size) throw failedPrecondition('tar_size_mismatch', `tar member "${m.header.name}": content longer than its size ${size}`);
          yield Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
        }
        if (written !== size) throw failedPrecondition('tar_size_mismatch', `tar member "${m.header.name}": content is ${written} bytes, header says ${size}`);
      }
      yield padding(size);
    }
    yield TAR_END;
  }
  return Readable.from(generate(), { objectMode: false });
}
