/**
 * Disk use for `system df`, `ps -s` and prune's reclaimed space: a
 * container's writable layer is its snapshot's own directory (the overlay
 * upper, or the whole copy with the copying snapshotter).
 */
import { directorySize } from './volumes/size.ts';
import { snapshots } from './rootfs.ts';
import { snapshotKey } from './paths.ts';

export async function writableLayerSize(root: string, id: string): Promise<number> {
  const snap = await snapshots(root);
  const info = snap.stat(snapshotKey(id));
  if (info === undefined) return 0;
  try {
    return directorySize(snap.fsPath(info));
  } catch {
    return 0;
  }
}
