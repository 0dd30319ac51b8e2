/**
 * flock(2), which Node.js does not offer: an advisory lock on an open file
 * that the kernel drops when the last descriptor of that open goes, so a
 * holder that dies (kill -9 included) leaves no lock behind.
 */
import { c, lastErrno } from './libc.ts';
import { SystemError } from './error.ts';

const LOCK_EX = 2;
const LOCK_NB = 4;
const EWOULDBLOCK = 11;

/** Takes an exclusive lock on `fd` without waiting: false while another open of the file holds one. */
export function tryLockExclusive(fd: number): boolean {
  if (c.flock(fd, LOCK_EX | LOCK_NB) === 0) return true;
  const errno = lastErrno();
  if (errno === EWOULDBLOCK) return false;
  throw new SystemError(errno, 'flock');
}
