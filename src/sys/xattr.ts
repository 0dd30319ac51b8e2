/**
 * Extended attributes by fd, or by path without following a final symlink.
 * Values are raw bytes (file capabilities in `security.capability` are
 * binary). Names are ASCII in every namespace Linux defines.
 */
import { c, lastErrno, type CPath } from './libc.ts';
import { SystemError } from './error.ts';
import { cpath } from './path.ts';

const ENODATA = 61;
const ERANGE = 34;

function fail(syscall: string, path?: CPath): never {
  throw new SystemError(lastErrno(), syscall, path);
}

export function fsetxattr(fd: number, name: string, value: Uint8Array, flags = 0): void {
  if (c.fsetxattr(fd, cpath(name, 'fsetxattr') as string, value.length === 0 ? null : value, value.length, flags) < 0) {
    fail('fsetxattr', name);
  }
}

export function lsetxattr(path: CPath, name: string, value: Uint8Array, flags = 0): void {
  if (c.lsetxattr(cpath(path, 'lsetxattr'), cpath(name, 'lsetxattr') as string, value.length === 0 ? null : value, value.length, flags) < 0) {
    fail('lsetxattr', path);
  }
}

export function fremovexattr(fd: number, name: string): void {
  if (c.fremovexattr(fd, cpath(name, 'fremovexattr') as string) < 0) fail('fremovexattr', name);
}

/** Reads an attribute by a size-then-read loop (it may grow in between); undefined when absent. */
function readAttr(get: (buf: Uint8Array | null, size: number) => number, syscall: string, path?: CPath): Buffer | undefined {
  for (;;) {
    const size = get(null, 0);
    if (size < 0) {
      if (lastErrno() === ENODATA) return undefined;
      fail(syscall, path);
    }
    const buf = Buffer.alloc(size);
    if (size === 0) return buf;
    const n = get(buf, size);
    if (n >= 0) return buf.subarray(0, n);
    if (lastErrno() === ENODATA) return undefined;
    if (lastErrno() !== ERANGE) fail(syscall, path);
  }
}

export function fgetxattr(fd: number, name: string): Buffer | undefined {
  const n = cpath(name, 'fgetxattr') as string;
  return readAttr((buf, size) => c.fgetxattr(fd, n, buf, size), 'fgetxattr', name);
}

export function lgetxattr(path: CPath, name: string): Buffer | undefined {
  const p = cpath(path, 'lgetxattr');
  const n = cpath(name, 'lgetxattr') as string;
  return readAttr((buf, size) => c.lgetxattr(p, n, buf, size), 'lgetxattr', path);
}

function splitNames(list: Buffer | undefined): string[] {
  if (list === undefined || list.length === 0) return [];
  return list.toString('latin1').split('\0').filter((s) => s !== '');
}

export function flistxattr(fd: number): string[] {
  return splitNames(readAttr((buf, size) => c.flistxattr(fd, buf, size), 'flistxattr'));
}

export function llistxattr(path: CPath): string[] {
  const p = cpath(path, 'llistxattr');
  return splitNames(readAttr((buf, size) => c.llistxattr(p, buf, size), 'llistxattr', path));
}

/**
 * All extended attributes of `name` in the directory `dirfd` (not following
 * a final symlink), or undefined where the file system keeps none.
 */
export function xattrsAt(dirfd: number, name: Buffer): Map<string, Buffer> | undefined {
  const path = Buffer.concat([Buffer.from(`/proc/self/fd/${dirfd}/`), name]);
  let names: string[];
  try {
    names = llistxattr(path);
  } catch (err) {
    if (err instanceof SystemError && err.code === 'ENOTSUP') return undefined;
    throw err;
  }
  let out: Map<string, Buffer> | undefined;
  for (const k of names) {
    const v = lgetxattr(path, k);
    if (v !== undefined) (out ??= new Map()).set(k, v);
  }
  return out;
}
