/**
 * The uncompressed tar stream of a layer blob. The compression is read from
 * the blob's first bytes (gzip 1f 8b, zstd 28 b5 2f fd), not only from the
 * media type, since registries serve Docker and OCI types loosely; a media
 * type that names a compression the bytes do not have is an error.
 * Node 24's zlib does both in its thread pool, off the thread that writes
 * the files.
 */
import { Readable } from 'node:stream';
import { createGunzip, createZstdDecompress } from 'node:zlib';
import { invalidArgument } from '../../errors.ts';

export type Compression = 'gzip' | 'zstd' | 'none';

const OUT_CHUNK = 256 * 1024;

export function sniffCompression(head: Buffer): Compression {
  if (head.length >= 2 && head[0] === 0x1f && head[1] === 0x8b) return 'gzip';
  if (head.length >= 4 && head.readUInt32LE(0) === 0xfd2fb528) return 'zstd';
  return 'none';
}

export function compressionOfMediaType(mediaType: string | undefined): Compression | undefined {
  if (mediaType === undefined) return undefined;
  if (/(\+|\.)gzip$/.test(mediaType)) return 'gzip';
  if (/\+zstd$/.test(mediaType)) return 'zstd';
  if (/(\.v1\.tar|\.diff\.tar)$/.test(mediaType)) return 'none';
  return undefined;
}

/** Chunks of the uncompressed stream. */
export async function* decompressed(input: Readable, label: string, mediaType?: string): AsyncGenerator<Buffer> {
  const it = input[Symbol.asyncIterator]() as AsyncIterator<Buffer>;
  const first = await it.next();
  if (first.done === true) return;
  const head = first.value;
  const kind = sniffCompression(head);
  const declared = compressionOfMediaType(mediaType);
  if (declared !== undefined && declared !== 'none' && declared !== kind) {
    input.destroy();
    throw invalidArgument('unpack.compression', `layer ${label}: media type ${mediaType} says ${declared} but the data is ${kind === 'none' ? 'not compressed' : kind}`);
  }
  if (kind === 'none') {
    yield head;
    for (let r = await it.next(); r.done !== true; r = await it.next()) yield r.value;
    return;
  }
  const rest = Readable.from(
    (async function* () {
      yield head;
      for (let r = await it.next(); r.done !== true; r = await it.next()) yield r.value;
    })(),
    { objectMode: false },
  );
  const z = kind === 'gzip' ? createGunzip({ chunkSize: OUT_CHUNK }) : createZstdDecompress({ chunkSize: OUT_CHUNK });
  rest.on('error', (err) => z.destroy(err));
  rest.pipe(z);
  try {
    for await (const chunk of z as AsyncIterable<Buffer>) yield chunk;
  } catch (err) {
    throw invalidArgument('unpack.decompress', `layer ${label}: ${kind} data is corrupt: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
  } finally {
    rest.destroy();
    z.destroy();
    input.destroy();
  }
}
