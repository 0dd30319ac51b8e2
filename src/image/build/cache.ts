/**
 * The build cache: what each step produced, keyed by everything that
 * decides it. A step's key chains the key of the state before it (the base
 * image's ID for a FROM), the instruction as it was expanded (the history's
 * created_by, which carries RUN's ARG values), the ARGs in scope, and for
 * COPY and ADD the digest of their inputs; so a change anywhere invalidates
 * that step and every one after it. Entries live in their own SQLite file,
 * `<root>/build/cache.db`:
 *
 *   build_cache   key PK ── created (the history time, reused so a cached
 *                           build gives the same image ID), layer_digest,
 *                           layer_media_type, layer_size, diff_id (NULL for
 *                           steps without a layer), used_at
 *
 * A hit whose layer blob was garbage-collected since is a miss.
 */
import { createHash } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { DatabaseSync, type SQLOutputValue } from 'node:sqlite';

export interface CachedLayer {
  digest: string;
  mediaType: string;
  size: number;
  diffId: string;
}

export interface CacheEntry {
  created: string;
  layer: CachedLayer | undefined;
}

export interface KeyParts {
  /** The key of the state before the step. */
  parent: string;
  /** The instruction as expanded (its history created_by, flags included). */
  text: string;
  /** ARGs in scope with their values. */
  args: ReadonlyMap<string, string | undefined>;
  /** For COPY and ADD: the digest of what is copied. */
  inputs?: string;
  platform: string;
}

export function cacheKey(p: KeyParts): string {
  const args = [...p.args].filter((e): e is [string, string] => e[1] !== undefined).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  const doc = JSON.stringify({ v: 1, parent: p.parent, text: p.text, args, inputs: p.inputs ?? null, platform: p.platform });
  return `sha256:${createHash('sha256').update(doc).digest('hex')}`;
}

/** The key a stage starts from: its base image's ID, an earlier stage's last key, or scratch. */
export function baseKey(base: { imageId: string } | { stageKey: string } | 'scratch', platform: string): string {
  const doc = JSON.stringify({ v: 1, base, platform });
  return `sha256:${createHash('sha256').update(doc).digest('hex')}`;
}

const str = (v: SQLOutputValue | undefined): string => String(v);

export class BuildCache {
  private readonly db: DatabaseSync;

  constructor(path: string) {
    mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
    this.db = new DatabaseSync(path, { timeout: 10_000 });
    try {
      this.db.exec(`PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL;
        CREATE TABLE IF NOT EXISTS build_cache (
          key TEXT PRIMARY KEY,
          created TEXT NOT NULL,
          layer_digest TEXT,
          layer_media_type TEXT,
          layer_size INTEGER,
          diff_id TEXT,
          used_at INTEGER NOT NULL
        )`);
    } catch (err) {
      this.db.close();
      throw err;
    }
  }

  get(key: string): CacheEntry | undefined {
    const row = this.db.prepare('SELECT * FROM build_cache WHERE key = ?').get(key);
    if (row === undefined) return undefined;
    this.db.prepare('UPDATE build_cache SET used_at = ? WHERE key = ?').run(Date.now(), key);
    const digest = row['layer_digest'];
    return {
      created: str(row['created']),
      layer:
        digest === null || digest === undefined
          ? undefined
          : { digest: str(digest), mediaType: str(row['layer_media_type']), size: Number(row['layer_size']), diffId: str(row['diff_id']) },
    };
  }

  put(key: string, entry: CacheEntry): void {
    this.db
      .prepare(
        `INSERT INTO build_cache (key, created, layer_digest, layer_media_type, layer_size, diff_id, used_at) VALUES (?, ?, ?, ?, ?, ?, ?)
         ON CONFLICT(key) DO UPDATE SET created = excluded.created, layer_digest = excluded.layer_digest,
           layer_media_type = excluded.layer_media_type, layer_size = excluded.layer_size, diff_id = excluded.diff_id, used_at = excluded.used_at`,
      )
      .run(key, entry.created, entry.layer?.digest ?? null, entry.layer?.mediaType ?? null, entry.layer?.size ?? null, entry.layer?.diffId ?? null, Date.now());
  }

  close(): void {
    if (this.db.isOpen) this.db.close();
  }
}
