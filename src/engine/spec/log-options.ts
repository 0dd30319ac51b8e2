/**
 * `--log-driver` and `--log-opt` (Docker's HostConfig.LogConfig): berth
 * keeps every container's log in files its monitor rotates, so the drivers
 * that mean that (json-file, local, k8s-file, and none given) are accepted
 * and the options of their rotation are honoured: `max-size` (docker's
 * sizes, `-1` for no limit) and `max-file`. Anything else (another
 * driver, `compress`, `labels`, `tag`...) is refused by name rather than
 * accepted and ignored. Without options a container keeps berth's default
 * (10 MiB × 3 files); with `max-size` alone, one file, as docker's
 * json-file does.
 */
import { ramInBytes } from '../../runtime/cgroups/ram.ts';
import { flagError } from './flag-error.ts';

export const FILE_LOG_DRIVERS = ['json-file', 'local', 'k8s-file'] as const;

export interface LogRotation {
  /** Bytes a file may reach before it is rotated; undefined: no limit. */
  maxSize?: number;
  maxFiles: number;
}

export interface LogOptions {
  /** As asked (inspect shows it). */
  driver?: string;
  /** Undefined: the daemon's default rotation. */
  rotation?: LogRotation;
}

/** Undefined: nothing asked, the daemon's defaults apply. */
export function parseLogOptions(driver: string | undefined, opts: readonly string[]): LogOptions | undefined {
  const named = driver !== undefined && driver !== '';
  if (named && !(FILE_LOG_DRIVERS as readonly string[]).includes(driver)) {
    throw flagError('--log-driver', driver, `berth keeps logs in files its monitor rotates: ${FILE_LOG_DRIVERS.join(', ')}`);
  }
  const rotation = parseRotation(opts);
  if (!named && rotation === undefined) return undefined;
  return { ...(named ? { driver } : {}), ...(rotation === undefined ? {} : { rotation }) };
}

function parseRotation(opts: readonly string[]): LogRotation | undefined {
  if (opts.length === 0) return undefined;
  let maxSize: number | undefined;
  let maxFiles: number | undefined;
  let sizeGiven = false;
  for (const raw of opts) {
    const eq = raw.indexOf('=');
    const key = eq < 0 ? raw : raw.slice(0, eq);
    const value = eq < 0 ? '' : raw.slice(eq + 1);
    if (key === 'max-size') {
      sizeGiven = true;
      if (value === '-1') {
        maxSize = undefined;
        continue;
      }
      let n: number;
      try {
        n = ramInBytes(value);
      } catch (err) {
        throw flagError('--log-opt', raw, 'max-size is not a size (e.g. 10m, 1g, -1 for no limit)', err);
      }
      if (n < 4096) throw flagError('--log-opt', raw, 'max-size must be at least 4k (or -1 for no limit)');
      maxSize = n;
    } else if (key === 'max-file') {
      if (!/^\d+$/.test(value) || Number(value) < 1 || Number(value) > 1000) throw flagError('--log-opt', raw, 'max-file must be a whole number from 1 to 1000');
      maxFiles = Number(value);
    } else {
      throw flagError('--log-opt', raw, `berth's log files take max-size and max-file; "${key}" is not supported`);
    }
  }
  if (maxFiles !== undefined && maxFiles > 1 && (!sizeGiven || maxSize === undefined)) {
    throw flagError('--log-opt', `max-file=${maxFiles}`, 'needs a max-size (docker\'s rule: files are rotated at a size)');
  }
  return { ...(maxSize === undefined ? {} : { maxSize }), maxFiles: maxFiles ?? 1 };
}

/** HostConfig.LogConfig as docker shows it: the driver asked for (the files are in the CRI format, podman's k8s-file), the rotation in force. */
export function logConfigOf(o: LogOptions | undefined, defaults: { maxSize: number; maxFiles: number }): { Type: string; Config: Record<string, string> } {
  const r = o?.rotation;
  const size = r === undefined ? defaults.maxSize : r.maxSize;
  return { Type: o?.driver ?? 'k8s-file', Config: { 'max-size': size === undefined ? '-1' : String(size), 'max-file': String(r === undefined ? defaults.maxFiles : r.maxFiles) } };
}
