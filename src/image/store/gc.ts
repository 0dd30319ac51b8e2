/**
 * Garbage collection (`berth image prune`): removes dangling images (no
 * name and no repository digest) when asked, then every blob that no image record and no live
 * lease names, and abandoned ingests. Returns what it removed, so the
 * command can name it.
 */
import { leasedDigests } from './leases.ts';
import { referencedDigests } from './records.ts';
import type { ImageStore } from './store.ts';

export interface PruneResult {
  images: string[];
  blobs: string[];
  bytes: number;
  ingests: number;
}

export async function prune(store: ImageStore, options: { dangling?: boolean } = {}): Promise<PruneResult> {
  const images: string[] = [];
  if (options.dangling ?? true) {
    for (const img of store.list()) {
      if (img.names.length === 0 && img.repoDigests.length === 0 && store.deleteImage(img.id)) images.push(img.id);
    }
  }
  const keep = referencedDigests(store.db);
  for (const d of leasedDigests(store.db)) keep.add(d);
  const blobs: string[] = [];
  let bytes = 0;
  for await (const blob of store.content.list()) {
    if (keep.has(blob.digest)) continue;
    if (await store.content.delete(blob.digest)) {
      blobs.push(blob.digest);
      bytes += blob.size;
    }
  }
  const ingests = await store.content.abortIngests();
  return { images, blobs, bytes, ingests };
}
