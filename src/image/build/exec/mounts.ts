/**
 * Mounting a build step's snapshot, and taking it down again. The
 * snapshotter describes the mounts; this performs them. Overlay mounts get
 * `redirect_dir=off` and `metacopy=off` when the kernel turns those on by
 * default: a renamed directory or a metadata-only copy-up would leave an
 * upper dir that is not a complete layer.
 */
import { existsSync, readFileSync } from 'node:fs';
import * as sys from '../../../sys/index.ts';
import type { MountSpec } from '../../snapshot/index.ts';

function kernelDefaultOn(param: string): boolean {
  const path = `/sys/module/overlay/parameters/${param}`;
  if (!existsSync(path)) return false;
  const v = readFileSync(path, 'utf8').trim();
  return v === 'Y' || v === 'on' || v === '1';
}

export function overlayOptions(options: string[]): string {
  const out = [...options];
  if (kernelDefaultOn('redirect_dir')) out.push('redirect_dir=off');
  if (kernelDefaultOn('metacopy')) out.push('metacopy=off');
  return out.join(',');
}

/** Mounts the specs at `target` (an existing directory). */
export function mountAt(specs: MountSpec[], target: string, readonly: boolean): void {
  sys.mountDescriptions(specs, target, readonly, overlayOptions);
}

/** Unmounts `target`; a target that is not mounted any more is fine. */
export function unmount(target: string): void {
  try {
    sys.umount2(target, sys.UMOUNT_NOFOLLOW);
  } catch (err) {
    if (sys.isSystemError(err, 'EINVAL') || sys.isSystemError(err, 'ENOENT')) return;
    if (sys.isSystemError(err, 'EBUSY')) {
      // Something still has it open (a process the container left): detach it from the tree now.
      sys.umount2(target, sys.MNT_DETACH | sys.UMOUNT_NOFOLLOW);
      return;
    }
    throw err;
  }
}
