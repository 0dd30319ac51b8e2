/**
 * Whether an ADD source is a tar archive to extract, told by content as
 * Docker does (not by name): gzip, zstd or nothing around a valid tar
 * header. bzip2 and xz archives are recognised and refused (Node has no
 * decoder for them); anything else is copied as a file.
 */
import { createReadStream } from 'node:fs';
import * as sys from '../../../sys/index.ts';
import { cbytes } from '../../unpack/entry.ts';
import { decompressor, detectCompression, type Compression } from '../../transport/compression.ts';
import type { SourceMatch, SourceRoot } from '../sources.ts';

export class UnsupportedArchive extends Error {}

/** A tar header block: its checksum (bytes summed, the checksum field as blanks) matches the one it records. */
export function isTarHeader(block: Buffer): boolean {
  if (block.length < 512 || block[0] === 0) return false;
  const field = block.subarray(148, 156).toString('latin1').replace(/[\0 ]+$/, '').trim();
  if (!/^[0-7]+$/.test(field)) return false;
  let sum = 0;
  for (let i = 0; i < 512; i++) sum += i >= 148 && i < 156 ? 0x20 : (block[i] ?? 0);
  return sum === parseInt(field, 8);
}

function openMatch(root: SourceRoot, match: SourceMatch): number {
  return sys.openInRoot(root.fd, cbytes(match.real), sys.O_RDONLY | sys.O_NOFOLLOW | sys.O_NONBLOCK);
}

async function firstBytes(stream: NodeJS.ReadableStream & { destroy(): void }, n: number): Promise<Buffer> {
  const parts: Buffer[] = [];
  let have = 0;
  try {
    for await (const chunk of stream) {
      parts.push(chunk as Buffer);
      have += (chunk as Buffer).length;
      if (have >= n) break;
    }
  } catch {
    // Not decodable after all: not an archive.
  } finally {
    stream.destroy();
  }
  return Buffer.concat(parts).subarray(0, n);
}

/** The compression of an archive to extract, or undefined for a plain file. */
export async function sniffArchive(root: SourceRoot, match: SourceMatch): Promise<Compression | undefined> {
  if (match.node.type !== 'file' || match.node.st.size < 8) return undefined;
  const head = await firstBytes(createReadStream('', { fd: openMatch(root, match), start: 0, end: 7, autoClose: true }), 8);
  if (head.subarray(0, 3).toString('latin1') === 'BZh') throw new UnsupportedArchive('bzip2-compressed archives cannot be extracted (gzip, zstd and plain tar can)');
  if (head.equals(Buffer.from([0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00, head[6] ?? 0, head[7] ?? 0]))) {
    throw new UnsupportedArchive('xz-compressed archives cannot be extracted (gzip, zstd and plain tar can)');
  }
  const compression = detectCompression(head);
  const raw = createReadStream('', { fd: openMatch(root, match), highWaterMark: 64 * 1024, autoClose: true });
  const stream = compression === 'none' ? raw : raw.pipe(decompressor(compression));
  const block = await firstBytes(stream, 512);
  raw.destroy();
  return isTarHeader(block) ? compression : undefined;
}
