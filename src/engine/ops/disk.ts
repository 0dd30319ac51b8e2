/**
 * `system df` and `ps --size` figures of a container: its writable layer
 * (the overlay upper directory of its rootfs snapshot, dockerd's SizeRw)
 * and, with its image's size, the whole rootfs as it sees it (SizeRootFs).
 * The walk is volumes/size.ts's (files once per inode, symlinks never
 * followed, safe against a container swapping directories mid-walk).
 * Whiteouts of deleted image files are character devices of size 0, so a
 * container that only deletes shows 0 B, as under dockerd.
 */
import { errnoCode } from '../../errors.ts';
import { directorySize } from '../volumes/size.ts';

/** Bytes in the writable layer; 0 when the upper directory is gone (a removed or never-started snapshot). */
export function writableLayerSize(upperDir: string): number {
  try {
    return directorySize(upperDir);
  } catch (err) {
    if (errnoCode(err) === 'ENOENT') return 0;
    throw err;
  }
}

/** dockerd's SizeRw and SizeRootFs for `GET /containers/json?size=1` and `system df`. */
export function containerSizes(upperDir: string, imageSize: number): { SizeRw: number; SizeRootFs: number } {
  const rw = writableLayerSize(upperDir);
  return { SizeRw: rw, SizeRootFs: rw + imageSize };
}
