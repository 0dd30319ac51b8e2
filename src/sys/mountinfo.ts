/**
 * The one reader of /proc/PID/mountinfo (proc(5)): each line as a record,
 * the octal escapes of paths undone. Used for where a path is mounted (the
 * runtime) and where the cgroup hierarchies are (the cgroup library). Plain
 * text parsing, no system call, so it loads no FFI and runs in unit tests.
 *
 *   36 35 98:0 /mnt1 /mnt2 rw,noatime master:1 - ext3 /dev/root rw,errors=continue
 *   (1)(2)(3)   (4)   (5)      (6)      (7)   (8) (9)   (10)         (11)
 */

export interface MountInfo {
  id: number;
  parentId: number;
  major: number;
  minor: number;
  /** The path in the file system that is mounted (a sub-tree for bind mounts), unescaped. */
  root: string;
  /** Where it is mounted, relative to the reading process's root, unescaped. */
  mountPoint: string;
  /** Per-mount options (rw, nosuid, ...). */
  options: string[];
  /** Optional fields: shared:N, master:N, propagate_from:N, unbindable. */
  optional: string[];
  fstype: string;
  /** Unescaped; "none" and the like when the file system has no source. */
  source: string;
  /** Per-superblock options (for cgroup v1, the hierarchy's controllers). */
  superOptions: string[];
}

/** mountinfo escapes space, tab, newline and backslash as \ooo. */
function unescape(field: string): string {
  return field.replace(/\\([0-7]{3})/g, (_, oct: string) => String.fromCharCode(parseInt(oct, 8)));
}

const list = (s: string): string[] => (s === '' ? [] : s.split(','));

/** One record per well-formed line; a line without its " - " separator or with fields missing is skipped. */
export function parseMountInfo(text: string): MountInfo[] {
  const out: MountInfo[] = [];
  for (const line of text.split('\n')) {
    // Paths are escaped, so " - " can only be the separator.
    const sep = line.indexOf(' - ');
    if (sep < 0) continue;
    const [id, parentId, dev, root, mountPoint, options, ...optional] = line.slice(0, sep).split(' ');
    const [fstype, source, superOptions] = line.slice(sep + 3).split(' ');
    const [major, minor] = (dev ?? '').split(':');
    if (mountPoint === undefined || options === undefined || root === undefined || fstype === undefined || source === undefined) continue;
    out.push({
      id: Number(id),
      parentId: Number(parentId),
      major: Number(major),
      minor: Number(minor),
      root: unescape(root),
      mountPoint: unescape(mountPoint),
      options: list(options),
      optional,
      fstype,
      source: unescape(source),
      superOptions: list(superOptions ?? ''),
    });
  }
  return out;
}
