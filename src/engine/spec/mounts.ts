/**
 * What a container mounts, from `-v`, `--mount` and `--tmpfs`, with docker's
 * syntax and rules (its Linux volume parser):
 * - `-v /path` an anonymous volume; `-v name:/path[:opts]` a named volume;
 *   `-v /host:/path[:opts]` a bind. Options: `ro`/`rw`, `z`/`Z` (SELinux
 *   relabelling, accepted and without effect here), a propagation mode
 *   (binds), `nocopy` (volumes). A source that is neither absolute nor a
 *   volume name is refused with the hint docker gives.
 * - `--mount type=bind|volume|tmpfs,source=,target=,readonly,...`.
 * - `--tmpfs /path[:options]`, with docker's defaults noexec,nosuid,nodev.
 * Two mounts on one target are refused, as docker does.
 */
import { posix } from 'node:path';
import { flagError } from './flag-error.ts';

export type MountRequest =
  | { type: 'bind'; source: string; target: string; readonly: boolean; propagation?: string }
  /** `name` undefined: an anonymous volume, named by the engine. */
  | { type: 'volume'; name?: string; target: string; readonly: boolean; nocopy: boolean }
  | { type: 'tmpfs'; target: string; options: string[] };

export const VOLUME_NAME = /^[a-zA-Z0-9][a-zA-Z0-9_.-]+$/;
const PROPAGATIONS = new Set(['shared', 'rshared', 'slave', 'rslave', 'private', 'rprivate']);
const TMPFS_FLAGS = new Set([
  'ro', 'rw', 'exec', 'noexec', 'suid', 'nosuid', 'dev', 'nodev', 'sync', 'async', 'atime', 'noatime',
  'diratime', 'nodiratime', 'relatime', 'norelatime', 'strictatime', 'nostrictatime', 'mand', 'nomand',
]);
const TMPFS_DATA = new Set(['size', 'mode', 'uid', 'gid', 'nr_inodes', 'nr_blocks', 'mpol', 'huge']);
/** What docker gives every tmpfs unless told otherwise. */
const TMPFS_DEFAULTS = ['noexec', 'nosuid', 'nodev'];

const clean = (path: string): string => posix.normalize(path).replace(/(.)\/$/, '$1');

function target(flag: string, raw: string, path: string): string {
  if (!path.startsWith('/')) throw flagError(flag, raw, `the target "${path}" is not an absolute path`);
  if (clean(path) === '/') throw flagError(flag, raw, 'the target cannot be "/"');
  return clean(path);
}

function tmpfsOptions(flag: string, raw: string, given: readonly string[]): string[] {
  for (const o of given) {
    const key = o.split('=', 1)[0] ?? '';
    if (!(o.includes('=') ? TMPFS_DATA.has(key) : TMPFS_FLAGS.has(o))) throw flagError(flag, raw, `"${o}" is not a tmpfs option`);
  }
  // A given option replaces its default opposite (exec over noexec, ...).
  const defaults = TMPFS_DEFAULTS.filter((d) => !given.some((o) => o === d.slice(2) || o === d));
  return [...defaults, ...given];
}

/** One `-v`/`--volume`. */
export function parseVolume(raw: string): MountRequest {
  const flag = '--volume';
  const parts = raw.split(':');
  if (parts.length === 1) return { type: 'volume', target: target(flag, raw, raw), readonly: false, nocopy: false };
  if (parts.length > 3) throw flagError(flag, raw, 'too many ":" (SOURCE:TARGET[:OPTIONS])');
  const [source = '', dest = '', mode = ''] = parts;
  if (source === '') throw flagError(flag, raw, 'the source is empty');
  const t = target(flag, raw, dest);
  const isBind = source.startsWith('/');
  if (!isBind && !VOLUME_NAME.test(source)) {
    throw flagError(flag, raw, `"${source}" is not a volume name ([a-zA-Z0-9][a-zA-Z0-9_.-]+); to mount a host directory, give its absolute path`);
  }
  let readonly = false;
  let propagation: string | undefined;
  let nocopy = false;
  const seen = new Set<string>();
  for (const opt of parts.length === 3 ? mode.split(',') : []) {
    const group = opt === 'ro' || opt === 'rw' ? 'rw' : PROPAGATIONS.has(opt) ? 'propagation' : opt;
    if (seen.has(group)) throw flagError(flag, raw, `invalid mode "${mode}": "${opt}" conflicts with an earlier option`);
    seen.add(group);
    if (opt === 'ro') readonly = true;
    else if (opt === 'rw' || opt === 'z' || opt === 'Z') continue;
    else if (PROPAGATIONS.has(opt) && isBind) propagation = opt;
    else if (opt === 'nocopy' && !isBind) nocopy = true;
    else throw flagError(flag, raw, `invalid mode "${mode}"`);
  }
  if (isBind) {
    return { type: 'bind', source: clean(source), target: t, readonly, ...(propagation === undefined ? {} : { propagation }) };
  }
  return { type: 'volume', name: source, target: t, readonly, nocopy };
}

function boolValue(flag: string, raw: string, key: string, value: string | undefined): boolean {
  if (value === undefined || value === '1' || value.toLowerCase() === 'true') return true;
  if (value === '0' || value.toLowerCase() === 'false') return false;
  throw flagError(flag, raw, `${key}: "${value}" is not true or false`);
}

/** One `--mount`: comma-separated key=value fields, docker's keys and aliases. */
export function parseMount(raw: string): MountRequest {
  const flag = '--mount';
  let type = 'volume';
  let source: string | undefined;
  let dest: string | undefined;
  let readonly = false;
  let propagation: string | undefined;
  let nocopy = false;
  const tmpfs: string[] = [];
  const bindOnly: string[] = [];
  for (const field of raw.split(',')) {
    const eq = field.indexOf('=');
    const key = (eq === -1 ? field : field.slice(0, eq)).toLowerCase();
    const value = eq === -1 ? undefined : field.slice(eq + 1);
    const need = (): string => {
      if (value === undefined || value === '') throw flagError(flag, raw, `${key} needs a value`);
      return value;
    };
    switch (key) {
      case 'type': type = need(); break;
      case 'source': case 'src': source = need(); break;
      case 'target': case 'destination': case 'dst': dest = need(); break;
      case 'readonly': case 'ro': readonly = boolValue(flag, raw, key, value); break;
      case 'bind-propagation':
        if (!PROPAGATIONS.has(need())) throw flagError(flag, raw, `bind-propagation: "${value}" is not a propagation mode`);
        propagation = need();
        bindOnly.push(key);
        break;
      case 'volume-nocopy': nocopy = boolValue(flag, raw, key, value); break;
      case 'tmpfs-size': tmpfs.push(`size=${tmpfsSize(raw, need())}`); break;
      case 'tmpfs-mode':
        if (!/^[0-7]{1,4}$/.test(need())) throw flagError(flag, raw, `tmpfs-mode: "${value}" is not an octal mode`);
        tmpfs.push(`mode=${value}`);
        break;
      case 'consistency': break; // macOS only in docker; nothing to do on Linux
      default: throw flagError(flag, raw, `unexpected key "${key}"`);
    }
  }
  if (dest === undefined) throw flagError(flag, raw, 'target is required');
  const t = target(flag, raw, dest);
  if (type === 'tmpfs') {
    if (source !== undefined) throw flagError(flag, raw, 'source is not supported for tmpfs');
    return { type: 'tmpfs', target: t, options: tmpfsOptions(flag, raw, [...(readonly ? ['ro'] : []), ...tmpfs]) };
  }
  if (tmpfs.length > 0) throw flagError(flag, raw, `tmpfs options are for type=tmpfs, not type=${type}`);
  if (type === 'bind') {
    if (source === undefined) throw flagError(flag, raw, 'source is required for a bind mount');
    if (!source.startsWith('/')) throw flagError(flag, raw, `the source "${source}" is not an absolute path`);
    return { type: 'bind', source: clean(source), target: t, readonly, ...(propagation === undefined ? {} : { propagation }) };
  }
  if (type !== 'volume') throw flagError(flag, raw, `type "${type}" is not bind, volume or tmpfs`);
  if (bindOnly.length > 0) throw flagError(flag, raw, 'bind-propagation is for type=bind');
  if (source !== undefined && !VOLUME_NAME.test(source)) throw flagError(flag, raw, `"${source}" is not a volume name ([a-zA-Z0-9][a-zA-Z0-9_.-]+)`);
  return { type: 'volume', ...(source === undefined ? {} : { name: source }), target: t, readonly, nocopy };
}

/** tmpfs-size takes docker's units (bytes, or 64m, 1g); the kernel's size= takes the same suffixes lower-cased. */
function tmpfsSize(raw: string, value: string): string {
  const m = /^(\d+)([kmg]?)$/i.exec(value);
  if (m === null) throw flagError('--mount', raw, `tmpfs-size: "${value}" is not a size (bytes, or with k, m, g)`);
  return `${m[1] ?? ''}${(m[2] ?? '').toLowerCase()}`;
}

/** One `--tmpfs /path[:options]`. */
export function parseTmpfs(raw: string): MountRequest {
  const colon = raw.indexOf(':');
  const path = colon === -1 ? raw : raw.slice(0, colon);
  const opts = colon === -1 ? [] : raw.slice(colon + 1).split(',').filter((o) => o !== '');
  return { type: 'tmpfs', target: target('--tmpfs', raw, path), options: tmpfsOptions('--tmpfs', raw, opts) };
}

/** Every mount the flags ask for, in the order given; the same target twice is refused. */
export function parseMounts(volumes: readonly string[], mounts: readonly string[], tmpfs: readonly string[]): MountRequest[] {
  const out: MountRequest[] = [];
  const seen = new Map<string, string>();
  const add = (flag: string, raw: string, m: MountRequest): void => {
    const earlier = seen.get(m.target);
    if (earlier !== undefined) throw flagError(flag, raw, `duplicate mount point "${m.target}" (also given by ${earlier})`);
    seen.set(m.target, `${flag} ${JSON.stringify(raw)}`);
    out.push(m);
  };
  for (const raw of volumes) add('--volume', raw, parseVolume(raw));
  for (const raw of mounts) add('--mount', raw, parseMount(raw));
  for (const raw of tmpfs) add('--tmpfs', raw, parseTmpfs(raw));
  return out;
}
