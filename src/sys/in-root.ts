/**
 * The one way berth reaches a path inside a root it does not trust (an
 * image's rootfs, a build context, a step's mounted root): openat2 with
 * RESOLVE_IN_ROOT, so `..`, absolute names and symlinks, absolute or not,
 * all stop at the root, and RESOLVE_NO_MAGICLINKS, so /proc's magic links
 * cannot jump out. String checks on paths are not enough (node-tar's
 * advisories); the kernel resolves, and says where it ended.
 */
import { readlinkSync } from 'node:fs';
import { RESOLVE_IN_ROOT, RESOLVE_NO_MAGICLINKS } from './constants.ts';
import { openat2, type CPath } from './fs.ts';

export const IN_ROOT = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS;

/** openat2 of `path` resolved inside the root `rootFd` (O_CLOEXEC added); a SystemError naming the path on failure. */
export function openInRoot(rootFd: number, path: CPath, flags: number): number {
  return openat2(rootFd, path, { flags, resolve: IN_ROOT });
}

/** The host path of an open fd (binary string), as the kernel reports it. */
function fdPath(fd: number): string {
  return readlinkSync(`/proc/self/fd/${fd}`, { encoding: 'buffer' }).toString('latin1');
}

/**
 * Where `fd` is relative to the root `rootFd` (binary string, "" for the
 * root itself), from the kernel's own record of the paths; undefined when
 * it is not inside the root (a bind mount or a rename moved it out).
 */
export function pathInRoot(rootFd: number, fd: number): string | undefined {
  const root = fdPath(rootFd);
  const real = fdPath(fd);
  if (real === root) return '';
  // The host root "/" holds everything: its children are "/x", not "//x".
  const prefix = root === '/' ? '/' : `${root}/`;
  return real.startsWith(prefix) ? real.slice(prefix.length) : undefined;
}
