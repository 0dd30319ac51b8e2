/** mount(2) and umount2(2), for snapshots and `berth image mount`. */
import { c, lastErrno, type CPath } from './libc.ts';
import { SystemError } from './error.ts';
import { cpath } from './path.ts';

export function mount(source: CPath | null, target: CPath, fstype: string | null, flags: number, data: string | null): void {
  const src = source === null ? null : cpath(source, 'mount');
  if (c.mount(src, cpath(target, 'mount'), fstype, flags, data) < 0) throw new SystemError(lastErrno(), 'mount', target, source ?? undefined);
}

export function umount2(target: CPath, flags = 0): void {
  if (c.umount2(cpath(target, 'umount2'), flags) < 0) throw new SystemError(lastErrno(), 'umount2', target);
}
