/**
 * The content-addressable blob store: `blobs/sha256/<hex>` under the data
 * root. Composed like containerd's content store of three small interfaces:
 * a Provider reads committed blobs, an Ingester hands out writers, a Manager
 * lists and deletes. A blob becomes visible only through BlobWriter.commit,
 * which fsyncs the ingest file, checks size and digest, and renames it into
 * place; nothing half-written is ever readable under a digest.
 */
import { constants, type Stats } from 'node:fs';
import { mkdir, open, readdir, rename, rm, stat, unlink, writeFile, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { errnoCode, notFound } from '../../errors.ts';
import { digestOf, isDigest, parseDigest } from './digest.ts';
import { IngestWriter, type BlobWriter } from './ingest.ts';

export type { BlobWriter } from './ingest.ts';

export interface BlobInfo {
  digest: string;
  size: number;
}

export interface ExpectedBlob {
  digest: string;
  size?: number;
}

export interface Provider {
  /** Size of a committed blob, or undefined when it is not in the store. */
  info(digest: string): Promise<BlobInfo | undefined>;
  /** Opens a committed blob for reading (from byte `start`); not_found when absent. */
  readBlob(digest: string, options?: { start?: number }): Promise<Readable>;
  /** Reads a small committed blob (manifests, configs) whole. */
  readBlobBytes(digest: string): Promise<Buffer>;
  /** The file of a committed blob, for callers that want the path itself. */
  blobPath(digest: string): string;
}

export interface Ingester {
  /**
   * A writer for one ingest, keyed by `ref`. A ref whose earlier writer was
   * interrupted resumes: `writer.offset` tells how many bytes are already
   * there (ask the server for the rest with a Range header).
   */
  writer(ref: string, expected?: ExpectedBlob): Promise<BlobWriter>;
  /** Stores bytes already in memory (manifests, configs), verified like any ingest. */
  writeBlob(data: Uint8Array, expected?: ExpectedBlob): Promise<BlobInfo>;
}

export interface Manager {
  delete(digest: string): Promise<boolean>;
  list(): AsyncIterable<BlobInfo>;
  /** Unfinished ingests (interrupted downloads); `abortIngests` removes them. */
  listIngests(): Promise<{ ref: string; size: number }[]>;
  abortIngests(): Promise<number>;
}

export type ContentStore = Provider & Ingester & Manager;

export class FileContentStore implements ContentStore {
  readonly root: string;
  private readonly blobDir: string;
  private readonly ingestDir: string;

  constructor(root: string) {
    this.root = root;
    this.blobDir = join(root, 'blobs', 'sha256');
    this.ingestDir = join(root, 'ingest');
  }

  async init(): Promise<void> {
    await mkdir(this.blobDir, { recursive: true, mode: 0o755 });
    await mkdir(this.ingestDir, { recursive: true, mode: 0o700 });
  }

  blobPath(digest: string): string {
    return join(this.blobDir, parseDigest(digest).hex);
  }

  async info(digest: string): Promise<BlobInfo | undefined> {
    let st: Stats;
    try {
      st = await stat(this.blobPath(digest));
    } catch (err) {
      if (errnoCode(err) === 'ENOENT') return undefined;
      throw err;
    }
    return { digest, size: st.size };
  }

  async readBlob(digest: string, options: { start?: number } = {}): Promise<Readable> {
    const handle = await this.openBlob(digest);
    return handle.createReadStream({ start: options.start ?? 0, highWaterMark: 256 * 1024, autoClose: true });
  }

  async readBlobBytes(digest: string): Promise<Buffer> {
    const handle = await this.openBlob(digest);
    try {
      return await handle.readFile();
    } finally {
      await handle.close();
    }
  }

  private async openBlob(digest: string): Promise<FileHandle> {
    const path = this.blobPath(digest);
    try {
      return await open(path, constants.O_RDONLY | constants.O_NOFOLLOW);
    } catch (err) {
      if (errnoCode(err) === 'ENOENT') throw notFound('blob_not_found', `blob ${digest}: not in the store`, { cause: err });
      throw err;
    }
  }

  async writer(ref: string, expected?: ExpectedBlob): Promise<BlobWriter> {
    if (expected !== undefined) parseDigest(expected.digest, `blob for ingest "${ref}"`);
    return IngestWriter.open(this.ingestDir, ref, expected, (tmp, info) => this.commitFile(tmp, info));
  }

  async writeBlob(data: Uint8Array, expected?: ExpectedBlob): Promise<BlobInfo> {
    const digest = expected?.digest ?? digestOf(data);
    const existing = await this.info(digest);
    if (existing !== undefined && existing.size === data.byteLength) return existing;
    const w = await this.writer(`bytes-${digest}-${process.pid}-${Math.random().toString(36).slice(2)}`, {
      digest,
      size: expected?.size ?? data.byteLength,
    });
    try {
      await w.write(data);
      return await w.commit();
    } catch (err) {
      await w.abort();
      throw err;
    }
  }

  /** Moves a verified ingest file into place; the blob dir is fsynced so the name survives a crash. */
  private async commitFile(tmp: string, info: BlobInfo): Promise<void> {
    const target = this.blobPath(info.digest);
    await rename(tmp, target);
    const dir = await open(this.blobDir, constants.O_RDONLY | constants.O_DIRECTORY);
    try {
      await dir.sync();
    } finally {
      await dir.close();
    }
  }

  async delete(digest: string): Promise<boolean> {
    try {
      await unlink(this.blobPath(digest));
      return true;
    } catch (err) {
      if (errnoCode(err) === 'ENOENT') return false;
      throw err;
    }
  }

  async *list(): AsyncIterable<BlobInfo> {
    const names = await readdir(this.blobDir);
    for (const hex of names) {
      const digest = `sha256:${hex}`;
      if (!isDigest(digest)) continue;
      const info = await this.info(digest);
      if (info !== undefined) yield info;
    }
  }

  async listIngests(): Promise<{ ref: string; size: number }[]> {
    return IngestWriter.list(this.ingestDir);
  }

  async abortIngests(): Promise<number> {
    const ingests = await IngestWriter.list(this.ingestDir);
    let removed = 0;
    for (const i of ingests) {
      if (await IngestWriter.removeIfUnlocked(this.ingestDir, i.ref)) removed++;
    }
    return removed;
  }
}

/** Writes a small file atomically (temp file, fsync, rename). */
export async function writeFileAtomic(path: string, data: string | Uint8Array, mode = 0o644): Promise<void> {
  const tmp = `${path}.tmp-${process.pid}`;
  await writeFile(tmp, data, { mode });
  const h = await open(tmp, 'r+');
  try {
    await h.sync();
  } finally {
    await h.close();
  }
  try {
    await rename(tmp, path);
  } catch (err) {
    await rm(tmp, { force: true });
    throw err;
  }
}
