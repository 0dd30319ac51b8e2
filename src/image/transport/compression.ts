/**
 * Layer compression, recognised by its magic bytes (as containerd and
 * c/image do, rather than trusting a media type): gzip, zstd, or none.
 * Node 24's zlib does both natively.
 */
import { createGunzip, createGzip, createZstdDecompress, constants as zlib } from 'node:zlib';
import { PassThrough, pipeline, Readable, type Transform } from 'node:stream';

export type Compression = 'gzip' | 'zstd' | 'none';

export function detectCompression(head: Uint8Array): Compression {
  if (head.length >= 2 && head[0] === 0x1f && head[1] === 0x8b) return 'gzip';
  if (head.length >= 4 && head[0] === 0x28 && head[1] === 0xb5 && head[2] === 0x2f && head[3] === 0xfd) return 'zstd';
  return 'none';
}

export function decompressor(c: Compression): Transform {
  if (c === 'gzip') return createGunzip({ chunkSize: 256 * 1024 });
  if (c === 'zstd') return createZstdDecompress({ chunkSize: 256 * 1024 });
  return new PassThrough();
}

/** Fast gzip (level 1 would bloat layers; 6 is the default of docker and skopeo alike). */
export function gzipCompressor(level = zlib.Z_DEFAULT_COMPRESSION): Transform {
  return createGzip({ level, chunkSize: 256 * 1024 });
}

/** Reads the first chunk to learn the compression, then yields the stream decompressed. */
export async function decompressed(source: AsyncIterable<unknown>): Promise<Readable> {
  const it = source[Symbol.asyncIterator]();
  const first = await it.next();
  if (first.done === true) return Readable.from([]);
  const head = first.value as Buffer;
  async function* all(): AsyncGenerator<Buffer> {
    yield head;
    for (;;) {
      const n = await it.next();
      if (n.done === true) return;
      yield n.value as Buffer;
    }
  }
  const kind = detectCompression(head);
  const raw = Readable.from(all(), { objectMode: false });
  if (kind === 'none') return raw;
  const out = decompressor(kind);
  // pipeline destroys `out` with the error when the source fails.
  pipeline(raw, out, () => undefined);
  return out;
}
