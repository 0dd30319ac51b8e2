/**
 * Where a container's writable layer is on disk: its snapshot's own
 * directory (the overlay upper, or the whole copy with the copying
 * snapshotter). Its size is measured by ops/disk.ts.
 */
import { snapshots } from './rootfs.ts';
import { snapshotKey } from './paths.ts';

/** The writable layer's directory; undefined when the container has no snapshot (being removed). */
export async function upperDir(root: string, id: string): Promise<string | undefined> {
  const snap = await snapshots(root);
  const info = snap.stat(snapshotKey(id));
  return info === undefined ? undefined : snap.fsPath(info);
}
