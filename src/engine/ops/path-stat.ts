/**
 * Docker's ContainerPathStat, the JSON that `HEAD|GET /containers/{id}/archive`
 * send base64-encoded in the `X-Docker-Container-Path-Stat` header, and that
 * the docker CLI reads to decide how `cp` copies (file or directory, where a
 * symlink leads). `mode` is a Go os.FileMode, not a Unix st_mode: the
 * permission bits stay, the type and the setuid/setgid/sticky bits move to
 * Go's high bits (a directory 0755 is 2147484141, not 16877).
 */
import { invalidArgument } from '../../errors.ts';
import { S_IFBLK, S_IFCHR, S_IFDIR, S_IFIFO, S_IFLNK, S_IFMT, S_IFSOCK } from '../../sys/constants.ts';

/** Go's io/fs FileMode bits. */
export const GoMode = {
  Dir: 2 ** 31,
  Symlink: 2 ** 27,
  Device: 2 ** 26,
  NamedPipe: 2 ** 25,
  Socket: 2 ** 24,
  Setuid: 2 ** 23,
  Setgid: 2 ** 22,
  CharDevice: 2 ** 21,
  Sticky: 2 ** 20,
} as const;

export interface PathStat {
  name: string;
  size: number;
  /** Go os.FileMode (see goFileMode). */
  mode: number;
  /** RFC 3339 with nanoseconds, as Go marshals a time.Time. */
  mtime: string;
  /** For a symlink: where it leads, fully resolved in the container (absolute); "" otherwise. */
  linkTarget: string;
}

/** A Unix st_mode as Go's os.FileMode (what os.Lstat gives dockerd). */
export function goFileMode(stMode: number): number {
  let mode = stMode & 0o777;
  switch (stMode & S_IFMT) {
    case S_IFDIR:
      mode += GoMode.Dir;
      break;
    case S_IFLNK:
      mode += GoMode.Symlink;
      break;
    case S_IFBLK:
      mode += GoMode.Device;
      break;
    case S_IFCHR:
      mode += GoMode.Device + GoMode.CharDevice;
      break;
    case S_IFIFO:
      mode += GoMode.NamedPipe;
      break;
    case S_IFSOCK:
      mode += GoMode.Socket;
      break;
  }
  if (stMode & 0o4000) mode += GoMode.Setuid;
  if (stMode & 0o2000) mode += GoMode.Setgid;
  if (stMode & 0o1000) mode += GoMode.Sticky;
  return mode;
}

/** Go's time.Time JSON (RFC3339Nano, UTC): trailing zeros of the fraction dropped, no fraction when zero. */
export function goTime(sec: number, nsec: number): string {
  const base = new Date(sec * 1000).toISOString().slice(0, 19);
  const frac = nsec === 0 ? '' : `.${String(nsec).padStart(9, '0').replace(/0+$/, '')}`;
  return `${base}${frac}Z`;
}

/** Go's filepath.Base: the last element, trailing slashes dropped; "/" for the root, "." for "". */
export function goBase(path: string): string {
  if (path === '') return '.';
  const trimmed = path.replace(/\/+$/, '');
  if (trimmed === '') return '/';
  return trimmed.slice(trimmed.lastIndexOf('/') + 1);
}

/** The header value: base64 of the JSON. */
export function encodePathStat(stat: PathStat): string {
  return Buffer.from(JSON.stringify(stat)).toString('base64');
}

/** The header's JSON back (what a client reads), validated. */
export function decodePathStat(header: string): PathStat {
  let v: unknown;
  try {
    v = JSON.parse(Buffer.from(header, 'base64').toString('utf8'));
  } catch (err) {
    throw invalidArgument('cp_path_stat_invalid', `X-Docker-Container-Path-Stat: not base64 JSON`, { cause: err });
  }
  if (
    typeof v !== 'object' || v === null ||
    !('name' in v) || typeof v.name !== 'string' ||
    !('size' in v) || typeof v.size !== 'number' ||
    !('mode' in v) || typeof v.mode !== 'number' ||
    !('mtime' in v) || typeof v.mtime !== 'string' ||
    !('linkTarget' in v) || typeof v.linkTarget !== 'string'
  ) {
    throw invalidArgument('cp_path_stat_invalid', `X-Docker-Container-Path-Stat: not a path stat: ${JSON.stringify(v)}`);
  }
  return { name: v.name, size: v.size, mode: v.mode, mtime: v.mtime, linkTarget: v.linkTarget };
}
