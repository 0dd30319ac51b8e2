/**
 * Reading and writing control files with errors that name the file and the
 * value, so `memory.limit_in_bytes = "4096": EBUSY` reaches the user instead
 * of a bare errno.
 */
import { posix } from 'node:path';
import type { ErrorCode } from '../../error-codes.ts';
import { BerthError, ErrorKind, errnoCode } from '../../errors.ts';
import type { CgroupFs } from './fs.ts';

const HINTS: Record<string, string> = {
  ENOENT: 'the file does not exist (controller not available or not enabled for this cgroup)',
  EINVAL: 'the kernel refused the value',
  ERANGE: 'the value is out of range (for cpuset: a CPU or memory node this host does not have)',
  EBUSY: 'the kernel refused the value while the cgroup is in use (for memory: usage is above the new limit)',
  EACCES: 'permission denied',
  EPERM: 'operation not permitted',
  EROFS: 'read-only file system',
  ENOSPC: 'no space (cpuset or realtime budget of the parent exhausted)',
  EOPNOTSUPP: 'not supported by this kernel',
};

/** The kind and code of a cgroup file's failure, from its errno. */
function classify(errno: string | undefined): { kind: ErrorKind; code: ErrorCode } {
  switch (errno) {
    case 'EINVAL':
    case 'ERANGE':
      return { kind: ErrorKind.InvalidArgument, code: 'cgroup_io_invalid' };
    case 'EACCES':
    case 'EPERM':
    case 'EROFS':
      return { kind: ErrorKind.PermissionDenied, code: 'cgroup_io_denied' };
    case 'ENOENT':
    case 'EOPNOTSUPP':
      return { kind: ErrorKind.Unsupported, code: 'cgroup_io_unsupported' };
    default:
      return { kind: ErrorKind.FailedPrecondition, code: 'cgroup_io_failed' };
  }
}

/** Why rmdir of a cgroup fails. */
const REMOVE_HINTS: Record<string, string> = {
  EBUSY: 'processes are still in the cgroup (berth kills nothing here)',
  ENOTEMPTY: 'it has child cgroups',
};

export function cgroupIoError(action: string, path: string, err: unknown): BerthError {
  const code = errnoCode(err);
  const hint = code === undefined ? undefined : action === 'remove' ? (REMOVE_HINTS[code] ?? HINTS[code]) : HINTS[code];
  const why = code === undefined ? String(err) : hint === undefined ? code : `${code}: ${hint}`;
  const { kind, code: berthCode } = classify(code);
  return new BerthError(kind, berthCode, `cgroup: ${action} ${path}: ${why}`, {
    cause: err,
    details: { path, errno: code },
  });
}

export async function writeControl(fs: CgroupFs, dir: string, file: string, value: string): Promise<void> {
  const path = posix.join(dir, file);
  try {
    await fs.write(path, value);
  } catch (err) {
    throw cgroupIoError(`write ${JSON.stringify(value)} to`, path, err);
  }
}

export async function readControl(fs: CgroupFs, dir: string, file: string): Promise<string> {
  const path = posix.join(dir, file);
  try {
    return await fs.read(path);
  } catch (err) {
    throw cgroupIoError('read', path, err);
  }
}

/** A control file's contents, or undefined when the file is not there. */
export async function readOptional(fs: CgroupFs, dir: string, file: string): Promise<string | undefined> {
  const path = posix.join(dir, file);
  try {
    return await fs.read(path);
  } catch (err) {
    if (errnoCode(err) === 'ENOENT') return undefined;
    throw cgroupIoError('read', path, err);
  }
}

/** "key value" lines (memory.stat, cpu.stat, memory.events) as numbers; "max" is Infinity. */
export function parseKeyValues(text: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of text.split('\n')) {
    const [key, value] = line.trim().split(/\s+/);
    if (key === undefined || key === '' || value === undefined) continue;
    out.set(key, parseCgroupNumber(value));
  }
  return out;
}

/** A number in a control file; "max" (v2 unlimited) is Infinity, garbage is NaN. */
export function parseCgroupNumber(text: string): number {
  const t = text.trim();
  if (t === 'max') return Infinity;
  return t === '' ? NaN : Number(t);
}
