/**
 * `berth import`: a root filesystem (a directory, or a tarball plain or
 * compressed) becomes a one-layer image in the store. The layer is gzipped
 * while two hashes run over it (the diffID of the tar, the digest of the
 * gzip), streamed into a verified ingest: nothing is held in memory.
 */
import { createHash } from 'node:crypto';
import { createReadStream, type BigIntStats } from 'node:fs';
import { lstat, readdir, readlink, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { Transform, Writable, type Readable } from 'node:stream';
import { invalidArgument, notFound, errnoCode } from '../../errors.ts';
import { MediaType, type ImageConfig, type ImageConfigDetails } from '../../oci/image-spec.ts';
import { hostPlatform } from '../registry/platform.ts';
import type { ImageRecord, ImageStore } from '../store/store.ts';
import { decompressor, detectCompression, gzipCompressor } from '../transport/compression.ts';
import { tarStream, type TarEntryType, type TarMember } from '../tar/writer.ts';

export interface ImportOptions {
  /** Names for the image ("name[:tag]"). */
  names: string[];
  config?: ImageConfigDetails;
  architecture?: string;
  os?: string;
  variant?: string;
  /** Creation time (default now); fixed values make imports reproducible. */
  created?: string;
  /** File mtimes in the layer (default: as on disk). */
  mtime?: number;
  comment?: string;
}

function typeOf(st: BigIntStats): TarEntryType | undefined {
  if (st.isFile()) return 'file';
  if (st.isDirectory()) return 'dir';
  if (st.isSymbolicLink()) return 'symlink';
  if (st.isCharacterDevice()) return 'char';
  if (st.isBlockDevice()) return 'block';
  if (st.isFIFO()) return 'fifo';
  return undefined; // sockets are not archived, as tar does
}

/** The entries of a directory tree, parents first, names sorted bytewise, hard links kept. */
async function* walkTree(root: string, mtime: number | undefined): AsyncGenerator<TarMember> {
  const seen = new Map<string, string>();
  async function* walk(dirBuf: Buffer, prefix: string): AsyncGenerator<TarMember> {
    const names = (await readdir(dirBuf, { encoding: 'buffer' })).sort((a, b) => Buffer.compare(a, b));
    for (const nameBuf of names) {
      const full = Buffer.concat([dirBuf, Buffer.from('/'), nameBuf]);
      const name = prefix + nameBuf.toString('latin1');
      const st = await lstat(full, { bigint: true });
      const type = typeOf(st);
      if (type === undefined) continue;
      const base = {
        mode: Number(st.mode & 0o7777n),
        uid: Number(st.uid),
        gid: Number(st.gid),
        mtime: mtime ?? Number(st.mtimeMs / 1000n),
      };
      const key = `${st.dev}:${st.ino}`;
      if (type === 'file' && st.nlink > 1n) {
        const first = seen.get(key);
        if (first !== undefined) {
          yield { header: { ...base, name, type: 'hardlink', linkname: first } };
          continue;
        }
        seen.set(key, name);
      }
      if (type === 'dir') {
        yield { header: { ...base, name: `${name}/`, type } };
        yield* walk(full, `${name}/`);
      } else if (type === 'symlink') {
        yield { header: { ...base, name, type, linkname: (await readlink(full, { encoding: 'buffer' })).toString('latin1') } };
      } else if (type === 'file') {
        const size = Number(st.size);
        yield { header: { ...base, name, type, size }, data: () => Promise.resolve(createReadStream(full, { highWaterMark: 1 << 20 })) };
      } else {
        const rdev = Number(st.rdev);
        yield { header: { ...base, name, type, devmajor: (rdev >> 8) & 0xfff, devminor: (rdev & 0xff) | ((rdev >> 12) & 0xfff00) } };
      }
    }
  }
  yield* walk(Buffer.from(root), '');
}

class Hasher extends Transform {
  private readonly hash = createHash('sha256');
  bytes = 0;
  override _transform(chunk: Buffer, _enc: BufferEncoding, cb: (err?: Error | null, data?: Buffer) => void): void {
    this.hash.update(chunk);
    this.bytes += chunk.byteLength;
    cb(null, chunk);
  }
  digest(): string {
    return `sha256:${this.hash.digest('hex')}`;
  }
}

async function openTarball(path: string): Promise<{ raw: Readable; compressed: boolean; kind: ReturnType<typeof detectCompression> }> {
  const head = await new Promise<Buffer>((resolve, reject) => {
    const s = createReadStream(path, { start: 0, end: 7 });
    const parts: Buffer[] = [];
    s.on('data', (c) => parts.push(c as Buffer));
    s.on('end', () => resolve(Buffer.concat(parts)));
    s.on('error', reject);
  });
  const kind = detectCompression(head);
  return { raw: createReadStream(path, { highWaterMark: 1 << 20 }), compressed: kind !== 'none', kind };
}

/** Stores one layer from a source tree or tarball; returns its descriptor and diffID. */
async function storeLayer(store: ImageStore, source: string, mtime: number | undefined): Promise<{ digest: string; size: number; diffId: string }> {
  let st;
  try {
    st = await stat(source);
  } catch (err) {
    if (errnoCode(err) === 'ENOENT') throw notFound('import_source_not_found', `import source ${source}: no such file or directory`, { cause: err });
    throw err;
  }
  const writer = await store.content.writer(`import-${process.pid}-${Date.now()}-${Math.random().toString(36).slice(2)}`);
  const diff = new Hasher();
  const sink = new Writable({
    write(chunk: Buffer, _enc, cb) {
      writer.write(chunk).then(() => cb(), cb);
    },
  });
  try {
    if (st.isDirectory()) {
      await pipeline(tarStream(walkTree(source, mtime)), diff, gzipCompressor(), sink);
    } else if (st.isFile()) {
      const { raw, compressed, kind } = await openTarball(source);
      if (compressed) {
        // Keep the compressed bytes as they are; decompress a second read for the diffID.
        await pipeline(raw, sink);
        await pipeline(createReadStream(source, { highWaterMark: 1 << 20 }), decompressor(kind), diff, new Writable({ write: (_c, _e, cb) => cb() }));
      } else {
        await pipeline(raw, diff, gzipCompressor(), sink);
      }
    } else {
      throw invalidArgument('import_source_invalid', `import source ${source}: not a directory or a file`);
    }
    const info = await writer.commit();
    return { ...info, diffId: diff.digest() };
  } catch (err) {
    await writer.abort();
    throw err;
  }
}

export async function importImage(store: ImageStore, source: string, options: ImportOptions): Promise<ImageRecord> {
  const lease = store.lease();
  try {
    const layer = await storeLayer(store, join(source), options.mtime);
    lease.add(layer.digest);
    const platform = hostPlatform();
    const created = options.created ?? new Date().toISOString();
    const config: ImageConfig = {
      created,
      architecture: options.architecture ?? platform.architecture,
      os: options.os ?? platform.os,
      config: options.config ?? {},
      rootfs: { type: 'layers', diff_ids: [layer.diffId] },
      history: [{ created, created_by: 'berth import', ...(options.comment === undefined ? {} : { comment: options.comment }) }],
    };
    const variant = options.variant ?? (options.architecture === undefined ? platform.variant : undefined);
    if (variant !== undefined) config.variant = variant;
    const c = await store.content.writeBlob(Buffer.from(JSON.stringify(config)));
    lease.add(c.digest);
    const manifest = Buffer.from(
      JSON.stringify({
        schemaVersion: 2,
        mediaType: MediaType.OciManifest,
        config: { mediaType: MediaType.OciConfig, digest: c.digest, size: c.size },
        layers: [{ mediaType: MediaType.OciLayerGzip, digest: layer.digest, size: layer.size }],
      }),
    );
    const m = await store.content.writeBlob(manifest);
    lease.add(m.digest);
    return await store.commitImage({ manifestDigest: m.digest, manifestMediaType: MediaType.OciManifest, names: options.names });
  } finally {
    lease.release();
  }
}
