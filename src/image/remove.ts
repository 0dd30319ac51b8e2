/**
 * Removing images as `podman rmi` and the Docker API's DELETE /images do:
 * a name is untagged (the image goes once it has no name left); an ID
 * removes the image, refused while it still has several names unless
 * forced. Blobs no other image uses go with it. Every removal is returned,
 * so the caller can name what it removed.
 */
import { failedPrecondition } from '../errors.ts';
import { isDigest } from './store/digest.ts';
import { prune } from './store/gc.ts';
import type { ImageStore } from './store/store.ts';

export type Removal = { untagged: string } | { deleted: string };

export async function removeImages(store: ImageStore, targets: readonly string[], options: { force?: boolean } = {}): Promise<Removal[]> {
  const out: Removal[] = [];
  for (const target of targets) {
    const img = store.resolve(target);
    const byId = isDigest(target) || img.id.slice(7).startsWith(target) || target === img.id;
    const name = byId ? undefined : img.names.find((n) => n === store.canonicalTagged(target));
    if (name !== undefined && img.names.length > 1) {
      store.untag(name);
      out.push({ untagged: name });
      continue;
    }
    if (byId && img.names.length > 1 && options.force !== true) {
      throw failedPrecondition('image_has_names', `image ${img.id.slice(7, 19)}: has ${img.names.length} names (${img.names.join(', ')}); remove them one by one or use --force`);
    }
    for (const n of img.names) out.push({ untagged: n });
    store.deleteImage(img.id);
    out.push({ deleted: img.id.slice(7) });
  }
  await prune(store, { dangling: false });
  return out;
}
