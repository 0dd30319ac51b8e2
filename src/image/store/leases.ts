/**
 * Leases keep blobs that a running pull or import has written, but that no
 * image record names yet, from garbage collection. A lease expires on its
 * own (a crashed pull leaves no permanent pin); a finished operation
 * releases it once the image record holds the blobs.
 */
import { randomUUID } from 'node:crypto';
import type { DatabaseSync } from 'node:sqlite';

export const DEFAULT_LEASE_MS = 24 * 60 * 60 * 1000;

export function createLease(db: DatabaseSync, ttlMs = DEFAULT_LEASE_MS): string {
  const id = randomUUID();
  db.prepare('INSERT INTO image_leases (id, expires_at) VALUES (?, ?)').run(id, Date.now() + ttlMs);
  return id;
}

export function addLeaseBlob(db: DatabaseSync, lease: string, digest: string): void {
  db.prepare('INSERT OR IGNORE INTO image_lease_blobs (lease_id, digest) VALUES (?, ?)').run(lease, digest);
}

export function releaseLease(db: DatabaseSync, lease: string): void {
  db.prepare('DELETE FROM image_leases WHERE id = ?').run(lease);
}

/** Digests held by leases that have not expired; expired leases are dropped. */
export function leasedDigests(db: DatabaseSync, now = Date.now()): Set<string> {
  db.prepare('DELETE FROM image_leases WHERE expires_at <= ?').run(now);
  const out = new Set<string>();
  for (const r of db.prepare('SELECT DISTINCT digest FROM image_lease_blobs').all()) out.add(String(r['digest']));
  return out;
}
