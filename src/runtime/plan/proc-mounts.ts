/**
 * What may be mounted over /proc, runc's rule since CVE-2019-16884 (an image
 * that mounted over /proc/self/attr escaped its AppArmor profile): on /proc
 * itself only a proc file system; inside it only the files lxcfs emulates;
 * proc and sysfs only on ordinary directories. A destination is checked as
 * written here, and where it resolves to by the executor (mount flags), as a
 * symlink in the image can lead an innocent-looking one into /proc.
 */
import { statfsSync } from 'node:fs';
import { invalidArgument } from '../../errors.ts';
import { OpFlag } from './opcodes.ts';

const PROC_SUPER_MAGIC = 0x9fa0;

export const ALLOWED_PROC_MOUNTS: readonly string[] = [
  '/proc/cpuinfo',
  '/proc/diskstats',
  '/proc/meminfo',
  '/proc/stat',
  '/proc/swaps',
  '/proc/uptime',
  '/proc/loadavg',
  '/proc/slabinfo',
  '/proc/net/dev',
  '/proc/sys/kernel/ns_last_pid',
];

function onProc(path: string): boolean {
  try {
    return statfsSync(path).type === PROC_SUPER_MAGIC;
  } catch {
    return false;
  }
}

/**
 * The executor flags guarding one mount; throws for a destination the rule
 * refuses. `dest` is clean and absolute; `bindSource` is the host path of a
 * bind mount.
 */
export function procMountFlags(where: string, dest: string, fstype: string, bindSource: string | undefined): number {
  const ordinaryDir = fstype === 'proc' || fstype === 'sysfs' ? OpFlag.NO_SYMLINKS : 0;
  if (dest === '/proc') {
    if (bindSource === undefined ? fstype === 'proc' : onProc(bindSource)) return ordinaryDir;
    throw invalidArgument('mount_over_proc', `${where}.destination: only a proc file system may be mounted on "/proc" (CVE-2019-16884)`);
  }
  if (dest.startsWith('/proc/')) {
    if (ALLOWED_PROC_MOUNTS.includes(dest)) return ordinaryDir;
    throw invalidArgument(
      'mount_inside_proc',
      `${where}.destination: "${dest}" is inside /proc, where only ${ALLOWED_PROC_MOUNTS.join(', ')} may be mounted (CVE-2019-16884)`,
    );
  }
  return OpFlag.NOT_ON_PROC | ordinaryDir;
}
