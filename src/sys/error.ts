/**
 * System call failures as Node reports its own: an Error whose `code` is the
 * errno name ("ENOENT"), with `errno` (negative, as Node's), `syscall`,
 * `path` and `dest`, and the message Node would print
 * (`ENOENT: no such file or directory, openat2 'etc/passwd'`). Callers
 * already handling Node's errors (errnoCode in src/errors.ts) need nothing new.
 */
import { getSystemErrorMessage, getSystemErrorName } from 'node:util';

export type SysPath = string | Uint8Array;

export class SystemError extends Error {
  override readonly name = 'SystemError';
  readonly code: string;
  readonly errno: number;
  readonly syscall: string;
  readonly path: string | undefined;
  readonly dest: string | undefined;

  constructor(errno: number, syscall: string, path?: SysPath, dest?: SysPath) {
    const code = errnoName(errno);
    const p = path === undefined ? undefined : displayPath(path);
    const d = dest === undefined ? undefined : displayPath(dest);
    let message = `${code}: ${errnoMessage(errno)}, ${syscall}`;
    if (p !== undefined) message += ` '${shortenMiddle(p)}'`;
    if (d !== undefined) message += ` -> '${shortenMiddle(d)}'`;
    super(message);
    this.code = code;
    this.errno = -errno;
    this.syscall = syscall;
    this.path = p;
    this.dest = d;
  }
}

function errnoName(errno: number): string {
  try {
    return getSystemErrorName(-errno);
  } catch {
    return `E${errno}`;
  }
}

function errnoMessage(errno: number): string {
  try {
    return getSystemErrorMessage(-errno);
  } catch {
    return `error ${errno}`;
  }
}

/** A path for messages: raw bytes shown as UTF-8, the trailing NUL dropped. */
export function displayPath(path: SysPath): string {
  if (typeof path === 'string') return path;
  const end = path.length > 0 && path[path.length - 1] === 0 ? path.length - 1 : path.length;
  return Buffer.from(path.buffer, path.byteOffset, end).toString('utf8');
}

/** Long text for a message: its start and its end, at most `max` characters (a path of 4 KiB would drown the error). */
export function shortenMiddle(text: string, max = 256): string {
  if (text.length <= max) return text;
  const keep = Math.floor((max - 1) / 2);
  return `${text.slice(0, keep)}…${text.slice(text.length - keep)}`;
}

export function isSystemError(err: unknown, code?: string): err is SystemError {
  return err instanceof SystemError && (code === undefined || err.code === code);
}
