/**
 * Image records in the metadata database (tables drawn in db.ts): what an
 * image is made of, which names point at it, which digests it was seen as.
 * Plain functions over a DatabaseSync; ImageStore composes them.
 */
import type { DatabaseSync, SQLOutputValue } from 'node:sqlite';
import { inTransaction } from './db.ts';

export interface BlobRef {
  digest: string;
  mediaType: string;
  size: number;
}

export interface LayerRecord extends BlobRef {
  /** sha256 of the uncompressed layer tar (config rootfs.diff_ids). */
  diffId: string;
}

export interface ImageRecord {
  /** The config digest: the image ID, as docker and podman show it. */
  id: string;
  /** Canonical names "host/repo:tag" pointing at this image. */
  names: string[];
  /** "host/repo@sha256:…" this image's manifest is known as. */
  repoDigests: string[];
  manifestDigest: string;
  manifestMediaType: string;
  manifestSize: number;
  indexDigest?: string;
  config: BlobRef;
  layers: LayerRecord[];
  os: string;
  architecture: string;
  variant?: string;
  /** Bytes of config and layers as stored (compressed). */
  size: number;
  created?: string;
  addedAt: string;
}

export type NewImage = Omit<ImageRecord, 'addedAt' | 'names' | 'repoDigests'> & {
  names?: string[];
  repoDigests?: string[];
  index?: BlobRef;
};

type Row = Record<string, SQLOutputValue>;

const str = (row: Row, key: string): string => String(row[key]);
const optStr = (row: Row, key: string): string | undefined => {
  const v = row[key];
  return v === null || v === undefined ? undefined : String(v);
};

function loadRecord(db: DatabaseSync, row: Row): ImageRecord {
  const id = str(row, 'id');
  const names = db
    .prepare('SELECT name FROM image_names WHERE image_id = ? ORDER BY name')
    .all(id)
    .map((r) => str(r, 'name'));
  const repoDigests = db
    .prepare('SELECT name FROM image_repo_digests WHERE image_id = ? ORDER BY name')
    .all(id)
    .map((r) => str(r, 'name'));
  const blobs = db.prepare('SELECT * FROM image_blobs WHERE image_id = ? ORDER BY role, position').all(id);
  const layers: LayerRecord[] = [];
  let config: BlobRef = { digest: id, mediaType: '', size: 0 };
  let manifestSize = 0;
  for (const b of blobs) {
    const ref = { digest: str(b, 'digest'), mediaType: str(b, 'media_type'), size: Number(b['size']) };
    if (b['role'] === 'config') config = ref;
    else if (b['role'] === 'manifest') manifestSize = ref.size;
    else if (b['role'] === 'layer') layers.push({ ...ref, diffId: str(b, 'diff_id') });
  }
  const rec: ImageRecord = {
    id,
    names,
    repoDigests,
    manifestDigest: str(row, 'manifest_digest'),
    manifestMediaType: str(row, 'manifest_media_type'),
    manifestSize,
    config,
    layers,
    os: str(row, 'os'),
    architecture: str(row, 'architecture'),
    size: Number(row['size']),
    addedAt: str(row, 'added_at'),
  };
  const indexDigest = optStr(row, 'index_digest');
  if (indexDigest !== undefined) rec.indexDigest = indexDigest;
  const variant = optStr(row, 'variant');
  if (variant !== undefined) rec.variant = variant;
  const created = optStr(row, 'created');
  if (created !== undefined) rec.created = created;
  return rec;
}

export function getImage(db: DatabaseSync, id: string): ImageRecord | undefined {
  const row = db.prepare('SELECT * FROM image_records WHERE id = ?').get(id);
  return row === undefined ? undefined : loadRecord(db, row);
}

export function listImages(db: DatabaseSync): ImageRecord[] {
  return db
    .prepare('SELECT * FROM image_records ORDER BY added_at DESC, id')
    .all()
    .map((row) => loadRecord(db, row));
}

export function imageIdByName(db: DatabaseSync, name: string): string | undefined {
  const row = db.prepare('SELECT image_id FROM image_names WHERE name = ?').get(name);
  return row === undefined ? undefined : str(row, 'image_id');
}

export function imageIdsByRepoDigest(db: DatabaseSync, name: string): string[] {
  return db
    .prepare('SELECT image_id FROM image_repo_digests WHERE name = ?')
    .all(name)
    .map((r) => str(r, 'image_id'));
}

export function imageIdsByManifestDigest(db: DatabaseSync, digest: string): string[] {
  return db
    .prepare('SELECT id FROM image_records WHERE manifest_digest = ? OR index_digest = ?')
    .all(digest, digest)
    .map((r) => str(r, 'id'));
}

export function imageIdsByPrefix(db: DatabaseSync, hexPrefix: string): string[] {
  return db
    .prepare("SELECT id FROM image_records WHERE substr(id, 8, ?) = ?")
    .all(hexPrefix.length, hexPrefix)
    .map((r) => str(r, 'id'));
}

/**
 * Records an image (or updates one with the same config), its blobs, and
 * moves the given names to it: a name points at one image, as in docker.
 */
export function putImage(db: DatabaseSync, img: NewImage): void {
  inTransaction(db, () => {
    db.prepare(
      `INSERT INTO image_records (id, manifest_digest, manifest_media_type, index_digest, os, architecture, variant, size, created, added_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT(id) DO UPDATE SET manifest_digest = excluded.manifest_digest,
         manifest_media_type = excluded.manifest_media_type, index_digest = excluded.index_digest,
         os = excluded.os, architecture = excluded.architecture, variant = excluded.variant,
         size = excluded.size, created = excluded.created`,
    ).run(
      img.id,
      img.manifestDigest,
      img.manifestMediaType,
      img.indexDigest ?? null,
      img.os,
      img.architecture,
      img.variant ?? null,
      img.size,
      img.created ?? null,
      new Date().toISOString(),
    );
    db.prepare('DELETE FROM image_blobs WHERE image_id = ?').run(img.id);
    const addBlob = db.prepare(
      'INSERT INTO image_blobs (image_id, role, position, digest, media_type, size, diff_id) VALUES (?, ?, ?, ?, ?, ?, ?)',
    );
    if (img.index !== undefined) addBlob.run(img.id, 'index', 0, img.index.digest, img.index.mediaType, img.index.size, null);
    addBlob.run(img.id, 'manifest', 0, img.manifestDigest, img.manifestMediaType, img.manifestSize, null);
    addBlob.run(img.id, 'config', 0, img.config.digest, img.config.mediaType, img.config.size, null);
    img.layers.forEach((l, i) => addBlob.run(img.id, 'layer', i, l.digest, l.mediaType, l.size, l.diffId));
    for (const name of img.names ?? []) {
      db.prepare('INSERT INTO image_names (name, image_id) VALUES (?, ?) ON CONFLICT(name) DO UPDATE SET image_id = excluded.image_id').run(
        name,
        img.id,
      );
    }
    for (const name of img.repoDigests ?? []) {
      db.prepare('INSERT OR IGNORE INTO image_repo_digests (image_id, name) VALUES (?, ?)').run(img.id, name);
    }
  });
}

export function setName(db: DatabaseSync, name: string, id: string): void {
  db.prepare('INSERT INTO image_names (name, image_id) VALUES (?, ?) ON CONFLICT(name) DO UPDATE SET image_id = excluded.image_id').run(
    name,
    id,
  );
}

export function addRepoDigest(db: DatabaseSync, id: string, name: string): void {
  db.prepare('INSERT OR IGNORE INTO image_repo_digests (image_id, name) VALUES (?, ?)').run(id, name);
}

export function removeName(db: DatabaseSync, name: string): boolean {
  return Number(db.prepare('DELETE FROM image_names WHERE name = ?').run(name).changes) > 0;
}

export function deleteImage(db: DatabaseSync, id: string): boolean {
  return Number(db.prepare('DELETE FROM image_records WHERE id = ?').run(id).changes) > 0;
}

/** Every digest some image record names (manifests, indexes, configs, layers). */
export function referencedDigests(db: DatabaseSync): Set<string> {
  const out = new Set<string>();
  for (const r of db.prepare('SELECT DISTINCT digest FROM image_blobs').all()) out.add(str(r, 'digest'));
  return out;
}
