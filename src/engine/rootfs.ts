/**
 * A container's root filesystem: a writable snapshot (overlay where the
 * kernel offers it, a copy otherwise) on top of its image's committed
 * layers, keyed `container-ID`, mounted at ROOT/containers/ID/rootfs.
 * Every step can be undone on its own, so a create that failed halfway,
 * or a crash, is cleaned from what exists: the record (state `creating`)
 * names the key and the directory.
 */
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { notFound } from '../errors.ts';
import { lazy } from '../lazy.ts';
import type { Snapshotter } from '../image/snapshot/index.ts';
import type { ImageRecord, ImageStore } from '../image/store/store.ts';
import { parseMountInfo } from '../sys/mountinfo.ts';
import { rootfsDir, snapshotKey, type EnginePaths } from './paths.ts';

const sysModule = lazy(() => import('../sys/index.ts'));

let snapshotter: Promise<Snapshotter> | undefined;
let snapshotterRoot: string | undefined;

/** One snapshotter per store root and process (its metadata file is locked per update). */
export function snapshots(root: string): Promise<Snapshotter> {
  if (snapshotter === undefined || snapshotterRoot !== root) {
    snapshotterRoot = root;
    snapshotter = import('../image/snapshot/index.ts').then(({ Snapshotter }) => Snapshotter.open(root));
  }
  return snapshotter;
}

/** The image's layers as committed snapshots (made once, shared by every container of the image); its top chain ID. */
export async function imageTop(store: ImageStore, img: ImageRecord): Promise<string> {
  const { applyImageLayers } = await import('../image/snapshot/index.ts');
  const snap = await snapshots(store.root);
  const layers = img.layers.map((l) => ({ digest: l.digest, mediaType: l.mediaType, open: () => store.readBlob(l.digest) }));
  const { chainIds } = await applyImageLayers(snap, layers, img.layers.map((l) => l.diffId));
  const top = chainIds.at(-1);
  if (top === undefined) throw notFound('image_empty', `image ${img.id.slice(7, 19)}: has no layers to run`);
  return top;
}

/** Whether `path` is a mount point in this process's mount namespace (statx says; mountinfo where the kernel does not). */
export async function isMounted(path: string): Promise<boolean> {
  if (!existsSync(path)) return false;
  const { isMountRoot } = await sysModule();
  return isMountRoot(path) ?? parseMountInfo(readFileSync('/proc/self/mountinfo', 'utf8')).some((m) => m.mountPoint === path);
}

/** Prepares the container's writable snapshot on `top` (once) and mounts it (when not mounted). */
export async function mountRootfs(paths: EnginePaths, id: string, top: string): Promise<string> {
  const target = rootfsDir(paths, id);
  // Mounted (a start after its create): the snapshot is there too, and its records need not be read.
  if (await isMounted(target)) return target;
  const snap = await snapshots(paths.root);
  const key = snapshotKey(id);
  const specs = snap.stat(key) === undefined ? await snap.prepare(key, top) : snap.mounts(key);
  mkdirSync(target, { recursive: true, mode: 0o700 });
  const sys = await sysModule();
  sys.mountDescriptions(specs, target, false);
  return target;
}

/** Unmounts and removes the container's snapshot; what is already gone is skipped. */
export async function releaseRootfs(paths: EnginePaths, id: string): Promise<void> {
  const target = rootfsDir(paths, id);
  if (await isMounted(target)) {
    const sys = await sysModule();
    // Detached: a process that still holds a file there (a `cp` reader) does not stop removal.
    sys.umount2(target, sys.MNT_DETACH);
  }
  const snap = await snapshots(paths.root);
  if (snap.stat(snapshotKey(id)) !== undefined) await snap.remove(snapshotKey(id));
}

/** Keys of the container snapshots that exist (for the sweep after a crash). */
export async function containerSnapshots(root: string): Promise<string[]> {
  const snap = await snapshots(root);
  return snap.list().filter((s) => s.key.startsWith('container-')).map((s) => s.key.slice('container-'.length));
}

/** Removes snapshot directories no snapshot names (a crash between the metadata and the directory). */
export async function sweepSnapshots(root: string): Promise<string[]> {
  const snap = await snapshots(root);
  return snap.sweep();
}
