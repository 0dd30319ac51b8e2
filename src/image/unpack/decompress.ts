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
import { describeError, invalidArgument, unavailable } from '../../errors.ts';

export type Compression = 'gzip' | 'zstd' | 'none';

const OUT_CHUNK = 256 * 1024;
/**
 * How far decompression may run ahead of the writer. zlib works in the
 * thread pool while the main thread writes files, and the next layer starts
 * decompressing while this one is written (see LayerStream); a bound, so a
 * layer is never held whole.
 */
export const AHEAD_BYTES = 16 * 1024 * 1024;

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

/**
 * A layer's uncompressed chunks, started at construction: the blob is
 * opened and decompression begins at once (up to AHEAD_BYTES), so the next
 * layer is ready when the writer gets to it. `cancel` releases a stream
 * that will not be read.
 */
export class LayerStream implements AsyncIterable<Buffer> {
  private readonly gen: AsyncGenerator<Buffer>;
  private readonly first: Promise<IteratorResult<Buffer>>;
  private input: Readable | undefined;

  constructor(input: Readable | Promise<Readable>, label: string, mediaType?: string) {
    const open = async (): Promise<Readable> => {
      this.input = await input;
      return this.input;
    };
    this.gen = (async function* () {
      yield* decompressed(await open(), label, mediaType);
    })();
    this.first = this.gen.next();
    // A failure is reported to the reader; one that is never read must not crash the process.
    this.first.catch(() => undefined);
  }

  async *[Symbol.asyncIterator](): AsyncGenerator<Buffer> {
    for (let r = await this.first; r.done !== true; r = await this.gen.next()) yield r.value;
  }

  cancel(): void {
    this.input?.destroy();
    void this.gen.return(undefined).catch(() => undefined);
  }
}

/**
 * A stream's chunks as they came, with up to `ahead` bytes read in advance.
 * Async iteration of a Readable would hand over its whole buffer joined
 * into one new Buffer at each step (a copy of every byte); 'data' events
 * with pause/resume keep the chunks as zlib made them.
 */
async function* queued(stream: Readable, ahead: number): AsyncGenerator<Buffer> {
  const queue: Buffer[] = [];
  let bytes = 0;
  let ended = false;
  let failure: { error: unknown } | undefined;
  let wake: (() => void) | undefined;
  const notify = (): void => {
    const w = wake;
    wake = undefined;
    w?.();
  };
  stream.on('data', (c: Buffer) => {
    queue.push(c);
    bytes += c.length;
    if (bytes >= ahead) stream.pause();
    notify();
  });
  stream.on('end', () => {
    ended = true;
    notify();
  });
  stream.on('error', (error: unknown) => {
    failure = { error };
    notify();
  });
  for (;;) {
    if (failure !== undefined) throw failure.error;
    const c = queue.shift();
    if (c !== undefined) {
      bytes -= c.length;
      if (bytes < ahead && stream.isPaused()) stream.resume();
      yield c;
      continue;
    }
    if (ended) return;
    await new Promise<void>((resolve) => {
      wake = resolve;
    });
  }
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
    throw invalidArgument('unpack_compression', `layer ${label}: media type ${mediaType} says ${declared} but the data is ${kind === 'none' ? 'not compressed' : kind}`);
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
  const zopts = { chunkSize: OUT_CHUNK };
  const z = kind === 'gzip' ? createGunzip(zopts) : createZstdDecompress(zopts);
  let readFailure: { error: unknown } | undefined;
  rest.on('error', (error) => {
    readFailure = { error };
    z.destroy(error);
  });
  rest.pipe(z);
  try {
    yield* queued(z, AHEAD_BYTES);
  } catch (err) {
    const message = describeError(err);
    // A blob that could not be read (a download cut short) is not corrupt data.
    if (readFailure !== undefined) throw unavailable('unpack_read', `layer ${label}: reading the blob failed: ${message}`, { cause: readFailure.error });
    throw invalidArgument('unpack_decompress', `layer ${label}: ${kind} data is corrupt: ${message}`, { cause: err });
  } finally {
    rest.destroy();
    z.destroy();
    input.destroy();
  }
}
