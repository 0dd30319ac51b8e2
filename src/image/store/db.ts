/**
 * The image metadata database: SQLite through node:sqlite, in WAL mode, at
 * `<root>/berth.db`. The engine will add its own tables to the same file
 * later, so every table here starts with `image_` and the image tables carry
 * their own schema version (in `image_schema`), migrated on open.
 *
 *   image_schema        (version)                          one row
 *
 *   image_records       id ─────────────┐   config digest = the image ID
 *     manifest_digest, manifest_media_type, index_digest,
 *     os, architecture, variant, size, created, added_at
 *                                       │
 *   image_names         name PK ────────┤   "host/repo:tag", one image each
 *   image_repo_digests  (image_id, name)┤   "host/repo@sha256:…" it was pulled or pushed as
 *   image_blobs         (image_id, role, position)
 *     digest, media_type, size, diff_id │   role: index | manifest | config | layer
 *                                       │   (ON DELETE CASCADE from image_records)
 *   image_leases        id PK, expires_at          blobs being written by a pull,
 *   image_lease_blobs   (lease_id, digest)          kept from garbage collection
 *
 * A blob in the content store that no image_blobs row and no live lease
 * names is garbage (see gc.ts).
 */
import type { DatabaseSync } from 'node:sqlite';
import { failedPrecondition } from '../../errors.ts';
import { openVersionedDatabase } from '../../sqlite.ts';

export { inTransaction } from '../../sqlite.ts';

export const IMAGE_SCHEMA_VERSION = 1;

const MIGRATIONS: readonly string[] = [
  // version 1
  `CREATE TABLE image_records (
     id TEXT PRIMARY KEY,
     manifest_digest TEXT NOT NULL,
     manifest_media_type TEXT NOT NULL,
     index_digest TEXT,
     os TEXT NOT NULL,
     architecture TEXT NOT NULL,
     variant TEXT,
     size INTEGER NOT NULL,
     created TEXT,
     added_at TEXT NOT NULL
   );
   CREATE TABLE image_names (
     name TEXT PRIMARY KEY,
     image_id TEXT NOT NULL REFERENCES image_records(id) ON DELETE CASCADE
   );
   CREATE INDEX image_names_by_image ON image_names(image_id);
   CREATE TABLE image_repo_digests (
     image_id TEXT NOT NULL REFERENCES image_records(id) ON DELETE CASCADE,
     name TEXT NOT NULL,
     PRIMARY KEY (image_id, name)
   );
   CREATE INDEX image_repo_digests_by_name ON image_repo_digests(name);
   CREATE TABLE image_blobs (
     image_id TEXT NOT NULL REFERENCES image_records(id) ON DELETE CASCADE,
     role TEXT NOT NULL CHECK (role IN ('index', 'manifest', 'config', 'layer')),
     position INTEGER NOT NULL,
     digest TEXT NOT NULL,
     media_type TEXT NOT NULL,
     size INTEGER NOT NULL,
     diff_id TEXT,
     PRIMARY KEY (image_id, role, position)
   );
   CREATE INDEX image_blobs_by_digest ON image_blobs(digest);
   CREATE TABLE image_leases (
     id TEXT PRIMARY KEY,
     expires_at INTEGER NOT NULL
   );
   CREATE TABLE image_lease_blobs (
     lease_id TEXT NOT NULL REFERENCES image_leases(id) ON DELETE CASCADE,
     digest TEXT NOT NULL,
     PRIMARY KEY (lease_id, digest)
   );`,
];

export function openImageDatabase(path: string): DatabaseSync {
  return openVersionedDatabase(path, {
    versionTable: 'image_schema',
    migrations: MIGRATIONS,
    synchronous: 'NORMAL',
    tooNew: (version, known) =>
      failedPrecondition('image_schema_too_new', `image database: schema version ${version} is newer than this berth understands (${known})`),
  });
}
