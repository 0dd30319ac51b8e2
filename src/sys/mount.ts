/** mount(2) and umount2(2), for snapshots and `berth image mount`. */
import { c, lastErrno, type CPath } from './libc.ts';
import { SystemError } from './error.ts';
import { cpath } from './path.ts';
import { MNT_DETACH, MS_BIND, MS_RDONLY, MS_REC, MS_REMOUNT } from './constants.ts';

export function mount(source: CPath | null, target: CPath, fstype: string | null, flags: number, data: string | null): void {
  const src = source === null ? null : cpath(source, 'mount');
  if (c.mount(src, cpath(target, 'mount'), fstype, flags, data) < 0) throw new SystemError(lastErrno(), 'mount', target, source ?? undefined);
}

export function umount2(target: CPath, flags = 0): void {
  if (c.umount2(cpath(target, 'umount2'), flags) < 0) throw new SystemError(lastErrno(), 'umount2', target);
}

/** A mount as a snapshotter describes it (containerd's shape). */
export interface MountDescription {
  type: string;
  source: string;
  options: string[];
}

/**
 * Performs mount descriptions at `target`: binds (recursive, then read-only
 * when asked), or a file system (overlay) whose data `optionsFor` may adjust.
 */
export function mountDescriptions(
  specs: readonly MountDescription[],
  target: string,
  readonly: boolean,
  optionsFor: (options: string[]) => string = (o) => o.join(','),
): void {
  for (const m of specs) {
    if (m.type === 'bind') {
      mount(m.source, target, null, MS_BIND | MS_REC, null);
      if (readonly || m.options.includes('ro')) {
        try {
          mount(null, target, null, MS_BIND | MS_REMOUNT | MS_RDONLY, null);
        } catch (err) {
          umount2(target, MNT_DETACH);
          throw err;
        }
      }
    } else {
      mount(m.source, target, m.type, readonly ? MS_RDONLY : 0, optionsFor(m.options));
    }
  }
}
