/**
 * C string arguments. A path crosses into C as a NUL-terminated byte string;
 * a NUL inside it would silently cut it short (`a\0/../../x` becomes `a`),
 * so one is refused with EINVAL before any call, as Node's fs does.
 */
import type { CPath } from './libc.ts';
import { SystemError } from './error.ts';

const EINVAL = 22;

export function cpath(path: CPath, syscall: string): CPath {
  if (typeof path === 'string') {
    if (path.includes('\0')) throw new SystemError(EINVAL, syscall, path.replaceAll('\0', '\\0'));
    return path;
  }
  const nul = path.indexOf(0);
  if (nul === path.length - 1) return path;
  if (nul === -1) {
    const out = new Uint8Array(path.length + 1);
    out.set(path);
    return out;
  }
  throw new SystemError(EINVAL, syscall, path.subarray(0, nul));
}
