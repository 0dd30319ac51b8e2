/**
 * What a spec mount of type "cgroup" becomes, as data (the runtime turns it
 * into executor steps):
 * - v1 and hybrid: a tmpfs at the destination with one bind mount per v1
 *   hierarchy of the container's own directory (hierarchies mounted together,
 *   like "cpu,cpuacct", also appear under each controller's name). As runc
 *   does: the binds are read-only when asked, the tmpfs stays writable, and a
 *   hybrid host's cgroup2 hierarchy is not mounted;
 * - v2: a fresh cgroup2 mount when the container has a cgroup namespace
 *   (it then shows the container's own cgroup as its root), else a bind of
 *   the container's directory.
 */
import { posix } from 'node:path';
import type { CgroupPaths, MountDescription } from './types.ts';

const HARDEN = ['nosuid', 'noexec', 'nodev'];

/** Hierarchy name in the container: "systemd" for name=systemd, like the host's mount points. */
const hierarchyName = (controller: string): string => (controller.startsWith('name=') ? controller.slice(5) : controller);

export function cgroupMounts(paths: CgroupPaths, destination: string, options: { readOnly: boolean; cgroupNamespace: boolean }): MountDescription[] {
  const ro = options.readOnly ? ['ro'] : [];
  if (paths.mode === 'v2') {
    if (options.cgroupNamespace) return [{ source: 'cgroup2', destination, fstype: 'cgroup2', options: [...HARDEN, ...ro], kind: 'dir' }];
    const dir = paths.dirs['unified'];
    return dir === undefined ? [] : [{ source: dir, destination, fstype: 'bind', options: ['bind', ...HARDEN, ...ro], kind: 'dir' }];
  }
  const out: MountDescription[] = [{ source: 'tmpfs', destination, fstype: 'tmpfs', options: [...HARDEN, 'mode=755'], kind: 'dir' }];
  const byDir = new Map<string, string[]>();
  for (const [controller, dir] of Object.entries(paths.dirs)) {
    if (controller === 'unified') continue;
    byDir.set(dir, [...(byDir.get(dir) ?? []), hierarchyName(controller)]);
  }
  for (const [dir, names] of byDir) {
    const targets = names.length > 1 ? [names.join(','), ...names] : names;
    for (const name of targets) {
      out.push({ source: dir, destination: posix.join(destination, name), fstype: 'bind', options: ['bind', ...HARDEN, ...ro], kind: 'dir' });
    }
  }
  return out;
}
