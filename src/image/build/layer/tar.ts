/**
 * The tar format of the layers a build writes: ustar headers, with one PAX
 * record block ahead of an entry whose name, link, size or ids do not fit,
 * or that carries extended attributes (`SCHILY.xattr.NAME`, as Docker,
 * containerd and umoci write file capabilities). Names are binary strings
 * (one character per byte). uname/gname stay empty and times are whole
 * seconds, so the same tree always gives the same bytes.
 *
 * src/image/transport/tar-writer.ts writes the archives of `berth import`
 * and `berth save`; it has no xattrs (which RUN steps produce, e.g. setcap),
 * and belongs to the image transport code, so layers get this writer.
 */
import { failedPrecondition, internal } from '../../../errors.ts';
import { Readable } from 'node:stream';

export type LayerEntryType = 'file' | 'hardlink' | 'symlink' | 'char' | 'block' | 'dir' | 'fifo';

export interface LayerHeader {
  /** Binary string; directories end in "/". */
  name: string;
  type: LayerEntryType;
  mode: number;
  uid: number;
  gid: number;
  size: number;
  /** Whole seconds since the epoch. */
  mtime: number;
  linkname: string;
  devmajor: number;
  devminor: number;
  xattrs: Map<string, Buffer> | undefined;
}

export interface LayerMember {
  header: LayerHeader;
  /** Opens the file's content (exactly header.size bytes); files only. */
  open?: () => AsyncIterable<Uint8Array> | Iterable<Uint8Array>;
}

const BLOCK = 512;
const TYPEFLAG: Record<LayerEntryType, string> = { file: '0', hardlink: '1', symlink: '2', char: '3', block: '4', dir: '5', fifo: '6' };
const MAX_OCTAL_8 = 0o7777777;
const MAX_OCTAL_12 = 0o77777777777;

function octal(buf: Buffer, value: number, offset: number, length: number): void {
  buf.write(`${value.toString(8).padStart(length - 1, '0')}\0`, offset, length, 'latin1');
}

/** "LEN key=value\n" where LEN counts its own digits; value bytes as given. */
function paxRecord(key: string, value: Buffer): Buffer {
  const body = Buffer.concat([Buffer.from(` ${key}=`, 'latin1'), value, Buffer.from('\n')]);
  const digits = String(body.length).length;
  let len = body.length + digits;
  if (String(len).length > digits) len++;
  return Buffer.concat([Buffer.from(String(len), 'latin1'), body]);
}

function rawHeader(name: string, h: Pick<LayerHeader, 'mode' | 'uid' | 'gid' | 'mtime' | 'devmajor' | 'devminor'>, linkname: string, typeflag: string, size: number): Buffer {
  const b = Buffer.alloc(BLOCK);
  b.write(name, 0, 100, 'latin1');
  octal(b, h.mode & 0o7777, 100, 8);
  octal(b, Math.min(h.uid, MAX_OCTAL_8), 108, 8);
  octal(b, Math.min(h.gid, MAX_OCTAL_8), 116, 8);
  octal(b, Math.min(size, MAX_OCTAL_12), 124, 12);
  octal(b, Math.max(0, Math.min(Math.floor(h.mtime), MAX_OCTAL_12)), 136, 12);
  b.fill(' ', 148, 156);
  b.write(typeflag, 156, 1, 'latin1');
  b.write(linkname, 157, 100, 'latin1');
  b.write('ustar\x0000', 257, 8, 'latin1');
  octal(b, h.devmajor, 329, 8);
  octal(b, h.devminor, 337, 8);
  let sum = 0;
  for (const byte of b) sum += byte;
  b.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148, 8, 'latin1');
  return b;
}

/** The header block(s) of one entry. */
export function layerHeader(h: LayerHeader): Buffer {
  const size = h.type === 'file' ? h.size : 0;
  const records: Buffer[] = [];
  let name = h.name;
  if (name.length > 100) {
    records.push(paxRecord('path', Buffer.from(name, 'latin1')));
    const base = name.replace(/\/+$/, '').split('/').pop() ?? 'entry';
    name = h.type === 'dir' ? `${base.slice(0, 98)}/` : base.slice(0, 99);
  }
  if (h.linkname.length > 100) records.push(paxRecord('linkpath', Buffer.from(h.linkname, 'latin1')));
  if (size > MAX_OCTAL_12) records.push(paxRecord('size', Buffer.from(String(size))));
  if (h.uid > MAX_OCTAL_8) records.push(paxRecord('uid', Buffer.from(String(h.uid))));
  if (h.gid > MAX_OCTAL_8) records.push(paxRecord('gid', Buffer.from(String(h.gid))));
  for (const [k, v] of [...(h.xattrs ?? [])].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) records.push(paxRecord(`SCHILY.xattr.${k}`, v));
  const main = rawHeader(name, h, h.linkname.slice(0, 100), TYPEFLAG[h.type], size);
  if (records.length === 0) return main;
  const body = Buffer.concat(records);
  const pax = rawHeader(`PaxHeaders.0/${name}`.slice(0, 100), { mode: 0o644, uid: 0, gid: 0, mtime: h.mtime, devmajor: 0, devminor: 0 }, '', 'x', body.length);
  return Buffer.concat([pax, body, padding(body.length), main]);
}

function padding(size: number): Buffer {
  const rest = size % BLOCK;
  return rest === 0 ? Buffer.alloc(0) : Buffer.alloc(BLOCK - rest);
}

/** A tar stream of `members`, pulled lazily: one member's data is open at a time. */
export function layerTar(members: AsyncIterable<LayerMember> | Iterable<LayerMember>): Readable {
  async function* generate(): AsyncGenerator<Buffer> {
    for await (const m of members) {
      const size = m.header.type === 'file' ? m.header.size : 0;
      yield layerHeader(m.header);
      if (size === 0) continue;
      if (m.open === undefined) throw internal('tar_no_content', `layer entry "${m.header.name}": no content for ${size} bytes`);
      let written = 0;
      for await (const chunk of m.open()) {
        const take = Math.min(chunk.byteLength, size - written);
        if (take > 0) yield Buffer.from(chunk.buffer, chunk.byteOffset, take);
        written += take;
        if (written === size) break;
      }
      if (written < size) throw failedPrecondition('tar_content_changed', `layer entry "${m.header.name}": ${size - written} bytes shorter than when it was listed (changed while being read)`);
      yield padding(size);
    }
    yield Buffer.alloc(2 * BLOCK);
  }
  return Readable.from(generate(), { objectMode: false });
}
