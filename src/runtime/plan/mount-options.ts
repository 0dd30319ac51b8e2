/**
 * mount(8)-style option strings of config.json mounts → mount(2) flags,
 * propagation and the data string, with runc's meaning for each option.
 */
import { MS } from '../linux/constants.ts';

export interface ParsedMountOptions {
  /** Flags for the mount call (and the read-only/nosuid/... remount of binds). */
  flags: number;
  /** Propagation flags to apply after mounting, in order. */
  propagation: number[];
  /** Options the filesystem interprets ("mode=755,size=65536k"). */
  data: string[];
  bind: boolean;
  recursive: boolean;
  /** tmpcopyup (runc's and crun's extension, podman's default for --tmpfs): the tmpfs starts with what the directory held. */
  copyUp: boolean;
}

const SET: Record<string, number> = {
  bind: MS.BIND,
  rbind: MS.BIND | MS.REC,
  ro: MS.RDONLY,
  nosuid: MS.NOSUID,
  nodev: MS.NODEV,
  noexec: MS.NOEXEC,
  sync: MS.SYNCHRONOUS,
  remount: MS.REMOUNT,
  mand: MS.MANDLOCK,
  dirsync: MS.DIRSYNC,
  nosymfollow: MS.NOSYMFOLLOW,
  noatime: MS.NOATIME,
  nodiratime: MS.NODIRATIME,
  silent: MS.SILENT,
  relatime: MS.RELATIME,
  iversion: MS.I_VERSION,
  strictatime: MS.STRICTATIME,
  lazytime: MS.LAZYTIME,
};

const CLEAR: Record<string, number> = {
  rw: MS.RDONLY,
  suid: MS.NOSUID,
  dev: MS.NODEV,
  exec: MS.NOEXEC,
  async: MS.SYNCHRONOUS,
  nomand: MS.MANDLOCK,
  atime: MS.NOATIME,
  diratime: MS.NODIRATIME,
  loud: MS.SILENT,
  norelatime: MS.RELATIME,
  noiversion: MS.I_VERSION,
  nostrictatime: MS.STRICTATIME,
  nolazytime: MS.LAZYTIME,
  defaults: 0,
};

const PROPAGATION: Record<string, number> = {
  private: MS.PRIVATE,
  rprivate: MS.PRIVATE | MS.REC,
  shared: MS.SHARED,
  rshared: MS.SHARED | MS.REC,
  slave: MS.SLAVE,
  rslave: MS.SLAVE | MS.REC,
  unbindable: MS.UNBINDABLE,
  runbindable: MS.UNBINDABLE | MS.REC,
};

/** Recursive attributes (mount_setattr) runc knows; berth refuses them by name. */
export const UNSUPPORTED_OPTIONS = new Set([
  'rro', 'rrw', 'rnosuid', 'rsuid', 'rnodev', 'rdev', 'rnoexec', 'rexec', 'rnodiratime', 'rdiratime',
  'rrelatime', 'rnorelatime', 'rnoatime', 'ratime', 'rstrictatime', 'rnostrictatime', 'rnosymfollow',
  'rsymfollow', 'idmap', 'ridmap',
]);

/** Options berth-runtime understands as flags (`features` lists them). */
export const KNOWN_MOUNT_OPTIONS = [...Object.keys(SET), ...Object.keys(CLEAR), ...Object.keys(PROPAGATION), 'tmpcopyup'].sort();

export function parseMountOptions(options: readonly string[], type: string | undefined): ParsedMountOptions {
  let flags = 0;
  const propagation: number[] = [];
  const data: string[] = [];
  let copyUp = false;
  for (const opt of options) {
    const set = SET[opt];
    const clear = CLEAR[opt];
    const prop = PROPAGATION[opt];
    if (set !== undefined) flags |= set;
    else if (clear !== undefined) flags &= ~clear;
    else if (prop !== undefined) propagation.push(prop);
    else if (opt === 'tmpcopyup') copyUp = true;
    else data.push(opt);
  }
  const bind = type === 'bind' || (flags & MS.BIND) !== 0;
  if (type === 'bind') flags |= MS.BIND;
  return { flags, propagation, data, bind, recursive: (flags & MS.REC) !== 0, copyUp };
}

/** Flags that a bind mount only takes on a second, remounting call. */
export const BIND_REMOUNT_FLAGS =
  MS.RDONLY | MS.NOSUID | MS.NODEV | MS.NOEXEC | MS.NOATIME | MS.NODIRATIME | MS.RELATIME | MS.STRICTATIME | MS.NOSYMFOLLOW;
