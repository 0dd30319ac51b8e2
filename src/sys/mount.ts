/** mount(2) and umount2(2), for snapshots and `berth image mount`. */
import { dirname, relative, sep } from 'node:path';
import { c, lastErrno, type CPath } from './libc.ts';
import { SystemError } from './error.ts';
import { cpath } from './path.ts';
import { AT_FDCWD, MNT_DETACH, MS_BIND, MS_RDONLY, MS_REC, MS_REMOUNT, O_DIRECTORY, O_PATH } from './constants.ts';
import { close, openat } from './fs.ts';

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
 * `flags` (MS_NOSUID, MS_NODEV…) apply to every mount made.
 */
export function mountDescriptions(
  specs: readonly MountDescription[],
  target: string,
  readonly: boolean,
  optionsFor: (options: string[]) => string = (o) => o.join(','),
  flags = 0,
): void {
  for (const m of specs) {
    if (m.type === 'bind') {
      mount(m.source, target, null, MS_BIND | MS_REC, null);
      const ro = readonly || m.options.includes('ro');
      if (ro || flags !== 0) {
        try {
          mount(null, target, null, MS_BIND | MS_REMOUNT | (ro ? MS_RDONLY : 0) | flags, null);
        } catch (err) {
          umount2(target, MNT_DETACH);
          throw err;
        }
      }
    } else {
      mountData(m.source, target, m.type, (readonly ? MS_RDONLY : 0) | flags, optionsFor(m.options));
    }
  }
}

/** mount(2) copies at most a page of options; 4 KiB is the smallest page Linux has. */
export const MOUNT_DATA_MAX = 4095;

/**
 * Mounts a file system whose options may outgrow a page: an overlay of some
 * hundred layers. Then, as containerd does, the lower directories are named
 * relative to the directory they share and the mount is made from there
 * (the working directory changes for the one synchronous call, and back).
 */
export function mountData(source: string, target: string, fstype: string, flags: number, data: string): void {
  if (data.length <= MOUNT_DATA_MAX) {
    mount(source, target, fstype, flags, data);
    return;
  }
  const compact = compactLowerdir(data);
  if (compact === undefined || compact.data.length > MOUNT_DATA_MAX) {
    const err = new SystemError(7 /* E2BIG */, 'mount', target, source);
    err.message = `${err.message}: ${fstype} options of ${data.length} bytes do not fit in a page, even with the lower directories named relative to their common directory`;
    throw err;
  }
  const here = openat(AT_FDCWD, '.', O_PATH | O_DIRECTORY);
  const there = openat(AT_FDCWD, compact.dir, O_PATH | O_DIRECTORY);
  try {
    if (c.fchdir(there) < 0) throw new SystemError(lastErrno(), 'fchdir', compact.dir);
    let failure: Error | undefined;
    try {
      mount(source, target, fstype, flags, compact.data);
    } catch (err) {
      failure = err instanceof Error ? err : new Error(String(err));
    }
    // Going back comes first: a process left in another directory would resolve every relative path wrongly.
    if (c.fchdir(here) < 0) throw new SystemError(lastErrno(), 'fchdir', '.');
    if (failure !== undefined) throw failure;
  } finally {
    close(there);
    close(here);
  }
}

/** `lowerdir=/a/s/1/fs:/a/s/2/fs,…` as `lowerdir=1/fs:2/fs,…` and the directory `/a/s` they are relative to. */
export function compactLowerdir(data: string): { dir: string; data: string } | undefined {
  const options = data.split(',');
  const i = options.findIndex((o) => o.startsWith('lowerdir='));
  const lowers = options[i]?.slice('lowerdir='.length).split(':');
  if (lowers === undefined || lowers.length < 2 || !lowers.every((l) => l.startsWith('/'))) return undefined;
  let dir = dirname(lowers[0] ?? '/');
  while (dir !== '/' && !lowers.every((l) => l.startsWith(dir + sep))) dir = dirname(dir);
  options[i] = `lowerdir=${lowers.map((l) => relative(dir, l)).join(':')}`;
  return { dir, data: options.join(',') };
}
