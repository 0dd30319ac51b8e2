/**
 * Directory listing by fd. Linux has no fd-relative readdir in Node, and a
 * getdents binding would need its own record parser; reading the fd's own
 * /proc/self/fd entry lists exactly the directory the fd holds (even when it
 * was renamed or a symlink has replaced its old path since).
 */
import { readdirSync } from 'node:fs';
import { SystemError } from './error.ts';
import { errnoCode } from '../errors.ts';
import { constants as osc } from 'node:os';

/** Names in the directory open at `fd`, as raw bytes ('.' and '..' excluded). */
export function listdirfd(fd: number): Buffer[] {
  try {
    return readdirSync(`/proc/self/fd/${fd}`, { encoding: 'buffer' });
  } catch (err) {
    // No /proc/self/fd entry means the fd is not open.
    const found = errnoCode(err) ?? 'EIO';
    const code = found === 'ENOENT' ? 'EBADF' : found;
    const errno = (osc.errno as Record<string, number>)[code] ?? 5;
    throw new SystemError(errno, 'readdir', `fd ${fd}`);
  }
}
