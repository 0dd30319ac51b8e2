/**
 * The snapshotter's records: `<root>/snapshots/metadata.json`, keyed by
 * snapshot key (chain IDs for committed layers). Changes happen under an
 * exclusive flock(2) on metadata.lock (taken with a deadline; the kernel
 * drops it when its holder dies, even by kill -9) and are written
 * atomically (temp file, fsync, rename), so concurrent berth processes see
 * either the old or the new state.
 *
 *   { "version": 1, "nextId": 7,
 *     "snapshots": { "<key>": { "id": "6", "kind": "committed", "parent": "<key>", "created": "..." } },
 *     "mounts": { "/mnt/x": { "key": "mount-…", "parent": "<chain id>", "readonly": true, "created": "..." } } }
 */
import { closeSync, fsyncSync, openSync, readFileSync, renameSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { errnoCode, unavailable, internal } from '../../errors.ts';
import type { SnapshotInfo } from './types.ts';

export interface MountRecord {
  /** The snapshot mounted there (made by mountImage, removed by unmountImage). */
  key: string;
  /** The committed snapshot (top chain ID) it shows. */
  parent: string;
  readonly: boolean;
  created: string;
}

export interface Metadata {
  version: 1;
  nextId: number;
  snapshots: Record<string, Omit<SnapshotInfo, 'key'>>;
  /** Image mounts by target directory (berth image mount). */
  mounts?: Record<string, MountRecord>;
}

const LOCK_TIMEOUT_MS = 30_000;

export class MetadataStore {
  private readonly file: string;
  private readonly lock: string;

  constructor(dir: string) {
    this.file = join(dir, 'metadata.json');
    this.lock = join(dir, 'metadata.lock');
  }

  read(): Metadata {
    try {
      const value = JSON.parse(readFileSync(this.file, 'utf8')) as unknown;
      if (typeof value !== 'object' || value === null || (value as { version?: unknown }).version !== 1) {
        throw internal('snapshot_metadata', `${this.file}: not a version 1 snapshot record`);
      }
      return value as Metadata;
    } catch (err) {
      if (errnoCode(err) === 'ENOENT') return { version: 1, nextId: 1, snapshots: {} };
      throw err;
    }
  }

  /** Runs `change` on the records under the lock and writes them back. */
  async update<T>(change: (m: Metadata) => T | Promise<T>): Promise<T> {
    const fd = await this.acquire();
    try {
      const m = this.read();
      const result = await change(m);
      this.write(m);
      return result;
    } finally {
      closeSync(fd);
    }
  }

  private write(m: Metadata): void {
    const tmp = `${this.file}.tmp-${process.pid}`;
    const fd = openSync(tmp, 'w', 0o600);
    try {
      writeSync(fd, `${JSON.stringify(m, null, 2)}\n`);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, this.file);
  }

  /** The lock file's fd, holding flock(2) on it: the kernel drops it with its holder, so a process killed mid-update (kill -9) leaves none. */
  private async acquire(): Promise<number> {
    const { tryLockExclusive } = await import('../../sys/flock.ts');
    const fd = openSync(this.lock, 'a', 0o600);
    const deadline = Date.now() + LOCK_TIMEOUT_MS;
    for (let wait = 2; ; wait = Math.min(wait * 2, 100)) {
      try {
        if (tryLockExclusive(fd)) return fd;
      } catch (err) {
        closeSync(fd);
        throw err;
      }
      if (Date.now() > deadline) {
        closeSync(fd);
        throw unavailable('snapshot_locked', `snapshot records locked by another process (${this.lock})`);
      }
      await sleep(wait);
    }
  }
}
