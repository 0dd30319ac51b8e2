/**
 * A build step's changes written as a layer blob: the diff's entries as a
 * tar stream, hashed on the way (the diffID), gzipped (Node's gzip header
 * carries no time, so equal trees give equal blobs) and streamed into a
 * verified ingest of the content store. File contents are opened only when
 * the tar reaches them, beneath the diffed root without following any
 * symlink.
 */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import * as sys from '../../../sys/index.ts';
import { MediaType } from '../../../oci/image-spec.ts';
import type { ImageStore } from '../../store/store.ts';
import { gzipCompressor } from '../../transport/compression.ts';
import { cbytes } from '../../unpack/entry.ts';
import type { DiffItem } from './diff.ts';
import { tarStream, type TarMember } from '../../tar/writer.ts';

export interface WrittenLayer {
  digest: string;
  mediaType: string;
  size: number;
  diffId: string;
  entries: number;
}

const BENEATH = sys.RESOLVE_BENEATH | sys.RESOLVE_NO_SYMLINKS | sys.RESOLVE_NO_MAGICLINKS;

class Hasher extends Transform {
  private readonly hash = createHash('sha256');
  override _transform(chunk: Buffer, _enc: BufferEncoding, cb: (err?: Error | null, data?: Buffer) => void): void {
    this.hash.update(chunk);
    cb(null, chunk);
  }
  digest(): string {
    return `sha256:${this.hash.digest('hex')}`;
  }
}

function member(item: DiffItem, rootFd: number): TarMember {
  const path = item.path;
  if (path === undefined || item.header.size === 0) return { header: item.header };
  return {
    header: item.header,
    data: () => {
      const fd = sys.openat2(rootFd, cbytes(path), { flags: sys.O_RDONLY | sys.O_NOFOLLOW | sys.O_NONBLOCK, resolve: BENEATH });
      // A read buffer the size of the file (up to 1 MiB): a 1 MiB buffer for every small file kept the garbage collector busy.
      const highWaterMark = Math.min(1 << 20, Math.max(16 * 1024, item.header.size));
      return createReadStream('', { fd, highWaterMark, autoClose: true });
    },
  };
}

/** Writes the layer; undefined when the diff is empty (the step changed nothing). */
export async function writeLayer(store: ImageStore, items: Iterable<DiffItem>, rootFd: number): Promise<WrittenLayer | undefined> {
  const it = items[Symbol.iterator]();
  const first = it.next();
  if (first.done === true) return undefined;
  let entries = 0;
  function* members(): Generator<TarMember> {
    try {
      entries++;
      yield member(first.value as DiffItem, rootFd);
      for (let n = it.next(); n.done !== true; n = it.next()) {
        entries++;
        yield member(n.value, rootFd);
      }
    } finally {
      // A walk stopped half-way (the layer failed) closes the directories it holds.
      it.return?.();
    }
  }
  const writer = await store.content.writer(`build-layer-${process.pid}-${Date.now()}-${Math.random().toString(36).slice(2)}`);
  const diff = new Hasher();
  try {
    await pipeline(tarStream(members()), diff, gzipCompressor(), async (source: AsyncIterable<Buffer>) => {
      for await (const chunk of source) await writer.write(chunk);
    });
    const info = await writer.commit();
    return { digest: info.digest, size: info.size, mediaType: MediaType.OciLayerGzip, diffId: diff.digest(), entries };
  } catch (err) {
    await writer.abort();
    throw err;
  }
}
