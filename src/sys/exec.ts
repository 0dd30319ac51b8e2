/**
 * execve(2) of this process, for berthd becoming berth-idle when it sleeps
 * (src/api/sleep.ts): Node.js has no exec, and a child would change the
 * daemon's pid, which its lock file, its supervisor and `berth system
 * stop` know it by. Every other thread ends with the exec; descriptors
 * without close-on-exec (libuv opens all with it) are the ones kept.
 */
import { SystemError } from './error.ts';
import { c, lastErrno } from './libc.ts';

const F_GETFD = 1;
const F_SETFD = 2;
const F_DUPFD_CLOEXEC = 1030;
const FD_CLOEXEC = 1;

/** Whether `fd` is closed by an exec; it is set to `on` (the old value is returned, for undoing). */
export function setCloseOnExec(fd: number, on: boolean): boolean {
  const flags = c.fcntl(fd, F_GETFD, 0);
  if (flags < 0) throw new SystemError(lastErrno(), 'fcntl(F_GETFD)', String(fd));
  if (c.fcntl(fd, F_SETFD, on ? flags | FD_CLOEXEC : flags & ~FD_CLOEXEC) < 0) throw new SystemError(lastErrno(), 'fcntl(F_SETFD)', String(fd));
  return (flags & FD_CLOEXEC) !== 0;
}

/** A second descriptor of what `fd` is (the lowest free number from 3), closed by an exec. */
export function dupCloseOnExec(fd: number): number {
  const copy = c.fcntl(fd, F_DUPFD_CLOEXEC, 3);
  if (copy < 0) throw new SystemError(lastErrno(), 'fcntl(F_DUPFD_CLOEXEC)', String(fd));
  return copy;
}

/** Runs `path` in this process's place; returns only by throwing (the exec failed, nothing changed). */
export function execInPlace(path: string, argv: readonly string[], env: NodeJS.ProcessEnv): never {
  const envp = Object.entries(env)
    .filter((e): e is [string, string] => e[1] !== undefined)
    .map(([k, v]) => `${k}=${v}`);
  c.execve(path, [...argv, null], [...envp, null]);
  throw new SystemError(lastErrno(), 'execve', path);
}
