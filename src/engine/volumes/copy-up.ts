/**
 * Docker's copy-up: a new, empty volume mounted where the image has files
 * starts with a copy of them (owners, modes, links kept). The image's
 * directory is reached inside its root (a symlink in a hostile image
 * cannot point the copy at the host's files) and copied with the copying
 * snapshotter's tree copy, which writes inside the volume only.
 */
import { closeSync } from 'node:fs';
import { errnoCode } from '../../errors.ts';
import * as sys from '../../sys/index.ts';
import { copyTree } from '../../image/snapshot/copy-tree.ts';
import { Rootfs } from '../../image/unpack/rootfs.ts';

export function copyInRoot(rootfs: string, target: string, volume: string): void {
  const root = sys.openat(sys.AT_FDCWD, rootfs, sys.O_RDONLY | sys.O_DIRECTORY);
  let fd: number;
  try {
    fd = sys.openInRoot(root, target, sys.O_RDONLY | sys.O_DIRECTORY);
  } catch (err) {
    closeSync(root);
    // Nothing at the target in the image (or not a directory): nothing to copy.
    if (['ENOENT', 'ENOTDIR'].includes(errnoCode(err) ?? '')) return;
    throw err;
  }
  try {
    using dest = Rootfs.open(volume);
    copyTree(`/proc/self/fd/${fd}`, dest, `volume copy-up of ${target}`);
  } finally {
    closeSync(fd);
    closeSync(root);
  }
}
