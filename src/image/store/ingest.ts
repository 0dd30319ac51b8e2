/**
 * One ingest: `ingest/<sha256(ref)>/{ref,lock,data}`. The data file keeps
 * what an interrupted download wrote, so the next writer for the same ref
 * resumes at its end (its hash is rebuilt by reading it back once); a writer
 * that cannot resume calls truncate() and starts clean. The lock file holds
 * the writer's pid, so two pulls of the same layer never interleave bytes,
 * and a lock left by a dead process is taken over.
 */
import { createReadStream } from 'node:fs';
import { constants } from 'node:fs';
import { mkdir, open, readdir, readFile, rm, stat, writeFile, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import type { Hash } from 'node:crypto';
import { errnoCode, failedPrecondition, invalidArgument, unavailable } from '../../errors.ts';
import { sha256Hasher } from './digest.ts';
import type { BlobInfo, ExpectedBlob } from './content.ts';

export interface BlobWriter {
  readonly ref: string;
  /** Bytes in the ingest so far (after a resume: what the earlier writer left). */
  readonly offset: number;
  write(chunk: Uint8Array): Promise<void>;
  /** Writes a whole stream; the writer stays open for commit. */
  writeStream(source: AsyncIterable<Uint8Array>): Promise<void>;
  /** Drops what is there and starts from byte 0 (a server that ignored Range). */
  truncate(): Promise<void>;
  /** Verifies size and digest and makes the blob visible. */
  commit(expected?: ExpectedBlob): Promise<BlobInfo>;
  /** Releases the lock but keeps the data, so a later writer can resume. */
  close(): Promise<void>;
  /** Removes the ingest entirely. */
  abort(): Promise<void>;
}

type CommitFn = (dataPath: string, info: BlobInfo) => Promise<void>;

function ingestKey(ref: string): string {
  return sha256Hasher().update(ref).digest('hex');
}

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return errnoCode(err) === 'EPERM';
  }
}

async function acquireLock(dir: string, ref: string): Promise<void> {
  const lock = join(dir, 'lock');
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      const h = await open(lock, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL, 0o600);
      await h.writeFile(String(process.pid));
      await h.close();
      return;
    } catch (err) {
      if (errnoCode(err) !== 'EEXIST') throw err;
    }
    const owner = Number.parseInt(await readFile(lock, 'utf8').catch(() => ''), 10);
    if (Number.isInteger(owner) && owner > 0 && owner !== process.pid && pidAlive(owner)) {
      throw unavailable('ingest_locked', `ingest "${ref}": locked by process ${owner}`);
    }
    if (owner === process.pid && ActiveRefs.has(ref)) {
      throw unavailable('ingest_locked', `ingest "${ref}": already being written by this process`);
    }
    // The owner is gone: the lock is stale.
    await rm(lock, { force: true });
  }
  throw unavailable('ingest_locked', `ingest "${ref}": could not take the lock`);
}

const ActiveRefs = new Set<string>();

export class IngestWriter implements BlobWriter {
  readonly ref: string;
  private readonly dir: string;
  private readonly dataPath: string;
  private readonly expected: ExpectedBlob | undefined;
  private readonly onCommit: CommitFn;
  private handle: FileHandle | undefined;
  private hash: Hash;
  private written: number;

  private constructor(ref: string, dir: string, handle: FileHandle, expected: ExpectedBlob | undefined, onCommit: CommitFn) {
    this.ref = ref;
    this.dir = dir;
    this.dataPath = join(dir, 'data');
    this.handle = handle;
    this.expected = expected;
    this.onCommit = onCommit;
    this.hash = sha256Hasher();
    this.written = 0;
  }

  static async open(ingestRoot: string, ref: string, expected: ExpectedBlob | undefined, onCommit: CommitFn): Promise<IngestWriter> {
    if (ref.length === 0) throw invalidArgument('invalid_ingest_ref', 'ingest ref: empty');
    const dir = join(ingestRoot, ingestKey(ref));
    await mkdir(dir, { recursive: true, mode: 0o700 });
    await acquireLock(dir, ref);
    ActiveRefs.add(ref);
    try {
      await writeFile(join(dir, 'ref'), ref);
      const handle = await open(join(dir, 'data'), constants.O_RDWR | constants.O_CREAT, 0o600);
      const w = new IngestWriter(ref, dir, handle, expected, onCommit);
      await w.resume();
      return w;
    } catch (err) {
      ActiveRefs.delete(ref);
      await rm(join(dir, 'lock'), { force: true });
      throw err;
    }
  }

  /** Rebuilds the hash of what an earlier writer left, or starts over when it cannot be right. */
  private async resume(): Promise<void> {
    const { size } = await stat(this.dataPath);
    if (size === 0) return;
    if (this.expected?.size !== undefined && size > this.expected.size) {
      await this.truncate();
      return;
    }
    for await (const chunk of createReadStream(this.dataPath, { highWaterMark: 1 << 20 })) {
      this.hash.update(chunk as Buffer);
    }
    this.written = size;
  }

  get offset(): number {
    return this.written;
  }

  private file(): FileHandle {
    if (this.handle === undefined) throw failedPrecondition('ingest_closed', `ingest "${this.ref}": writer is closed`);
    return this.handle;
  }

  async write(chunk: Uint8Array): Promise<void> {
    const h = this.file();
    let done = 0;
    while (done < chunk.byteLength) {
      const { bytesWritten } = await h.write(chunk, done, chunk.byteLength - done, this.written + done);
      done += bytesWritten;
    }
    this.hash.update(chunk);
    this.written += chunk.byteLength;
  }

  async writeStream(source: AsyncIterable<Uint8Array>): Promise<void> {
    for await (const chunk of source) await this.write(chunk);
  }

  async truncate(): Promise<void> {
    await this.file().truncate(0);
    this.hash = sha256Hasher();
    this.written = 0;
  }

  async commit(expected: ExpectedBlob | undefined = this.expected): Promise<BlobInfo> {
    const h = this.file();
    await h.sync();
    const digest = `sha256:${this.hash.digest('hex')}`;
    const size = this.written;
    if (expected?.size !== undefined && expected.size !== size) {
      await this.abort();
      throw failedPrecondition('blob_size_mismatch', `blob ${expected.digest}: size ${size}, expected ${expected.size}`, {
        details: { ref: this.ref, size, expectedSize: expected.size },
      });
    }
    if (expected !== undefined && expected.digest !== digest) {
      await this.abort();
      throw failedPrecondition('blob_digest_mismatch', `blob ${expected.digest}: content has digest ${digest}`, {
        details: { ref: this.ref, digest, expected: expected.digest },
      });
    }
    await h.close();
    this.handle = undefined;
    const info = { digest, size };
    await this.onCommit(this.dataPath, info);
    await this.release(true);
    return info;
  }

  async close(): Promise<void> {
    if (this.handle !== undefined) {
      await this.handle.close();
      this.handle = undefined;
    }
    await this.release(false);
  }

  async abort(): Promise<void> {
    if (this.handle !== undefined) {
      await this.handle.close();
      this.handle = undefined;
    }
    await this.release(true);
  }

  private async release(removeAll: boolean): Promise<void> {
    if (!ActiveRefs.delete(this.ref)) return;
    if (removeAll) await rm(this.dir, { recursive: true, force: true });
    else await rm(join(this.dir, 'lock'), { force: true });
  }

  static async list(ingestRoot: string): Promise<{ ref: string; size: number }[]> {
    const out: { ref: string; size: number }[] = [];
    let names: string[];
    try {
      names = await readdir(ingestRoot);
    } catch (err) {
      if (errnoCode(err) === 'ENOENT') return out;
      throw err;
    }
    for (const n of names) {
      const ref = await readFile(join(ingestRoot, n, 'ref'), 'utf8').catch(() => undefined);
      const st = await stat(join(ingestRoot, n, 'data')).catch(() => undefined);
      if (ref !== undefined) out.push({ ref, size: st?.size ?? 0 });
    }
    return out;
  }

  /** Removes an ingest unless a live process holds it; true when removed. */
  static async removeIfUnlocked(ingestRoot: string, ref: string): Promise<boolean> {
    const dir = join(ingestRoot, ingestKey(ref));
    try {
      await acquireLock(dir, ref);
    } catch (err) {
      if (errnoCode(err) === 'ENOENT') return false;
      if (err instanceof Error && 'code' in err && err.code === 'ingest_locked') return false;
      throw err;
    }
    await rm(dir, { recursive: true, force: true });
    return true;
  }
}
