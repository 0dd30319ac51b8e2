/**
 * Stored images mounted as podman's `image mount` does: the image's layers
 * become committed snapshots (by chain ID, shared between images; see
 * src/image/snapshot) and its top snapshot is mounted, read-only unless
 * writable (writes are then discarded on unmount). The snapshot code loads
 * native bindings, so it is imported only when a mount is asked for.
 */
import { existsSync, mkdirSync, rmdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { notFound } from '../errors.ts';
import type { ImageMount, Snapshotter } from './snapshot/index.ts';
import type { ImageRecord, ImageStore } from './store/store.ts';

async function snapshots(store: ImageStore): Promise<Snapshotter> {
  const { Snapshotter } = await import('./snapshot/index.ts');
  return Snapshotter.open(store.root);
}

/** Mounts the image at `dir` (made if missing; default <root>/image-mounts/<short id>); returns where. */
export async function mountStoredImage(store: ImageStore, img: ImageRecord, options: { dir?: string | undefined; writable?: boolean } = {}): Promise<string> {
  const target = resolve(options.dir ?? join(store.root, 'image-mounts', img.id.slice(7, 19)));
  mkdirSync(target, { recursive: true });
  const { applyImageLayers, mountImage } = await import('./snapshot/index.ts');
  const snap = await snapshots(store);
  const layers = img.layers.map((l) => ({ digest: l.digest, mediaType: l.mediaType, open: () => store.readBlob(l.digest) }));
  const { chainIds } = await applyImageLayers(snap, layers, img.layers.map((l) => l.diffId));
  const chainId = chainIds[chainIds.length - 1];
  if (chainId === undefined) throw notFound('image_empty', `image ${img.id.slice(7, 19)}: has no layers to mount`);
  await mountImage(snap, { chainId, target, writable: options.writable === true });
  return target;
}

export async function storedImageMounts(store: ImageStore): Promise<ImageMount[]> {
  const { listImageMounts } = await import('./snapshot/index.ts');
  return listImageMounts(await snapshots(store));
}

/** Unmounts `what`: a mount directory, or every mount of the image it names. Returns the directories unmounted. */
export async function unmountStoredImage(store: ImageStore, what: string): Promise<string[]> {
  const { unmountImage, listImageMounts, chainIds } = await import('./snapshot/index.ts');
  const snap = await snapshots(store);
  const mounts = listImageMounts(snap);
  let targets = mounts.filter((m) => m.target === resolve(what)).map((m) => m.target);
  if (targets.length === 0) {
    const img = store.resolve(what);
    const top = chainIds(img.layers.map((l) => l.diffId)).at(-1);
    targets = mounts.filter((m) => m.parent === top).map((m) => m.target);
    if (targets.length === 0) throw notFound('not_mounted', `image "${what}": not mounted`);
  }
  for (const t of targets) {
    await unmountImage(snap, t);
    // The default mount point is ours to remove; a directory the user named stays.
    if (t.startsWith(join(store.root, 'image-mounts')) && existsSync(t)) rmdirSync(t);
  }
  return targets;
}
