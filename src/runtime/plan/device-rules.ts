/**
 * The device cgroup rules a container gets: the spec's own rules, then what
 * every container may always use (runc's list: mknod of any node, the
 * standard devices, pseudo-terminals, tun/tap) and the devices the spec
 * creates. Without them a "deny all" from the spec would forbid /dev/null.
 */
import type { LinuxDeviceCgroup, LinuxResources, Spec } from '../../oci/runtime-spec.ts';

const ALWAYS_ALLOWED: LinuxDeviceCgroup[] = [
  { allow: true, type: 'c', access: 'm' },
  { allow: true, type: 'b', access: 'm' },
  { allow: true, type: 'c', major: 1, minor: 3, access: 'rwm' },
  { allow: true, type: 'c', major: 1, minor: 8, access: 'rwm' },
  { allow: true, type: 'c', major: 1, minor: 7, access: 'rwm' },
  { allow: true, type: 'c', major: 5, minor: 0, access: 'rwm' },
  { allow: true, type: 'c', major: 1, minor: 5, access: 'rwm' },
  { allow: true, type: 'c', major: 1, minor: 9, access: 'rwm' },
  { allow: true, type: 'c', major: 136, access: 'rwm' },
  { allow: true, type: 'c', major: 5, minor: 2, access: 'rwm' },
  { allow: true, type: 'c', major: 10, minor: 200, access: 'rwm' },
];

export function effectiveResources(spec: Spec): LinuxResources | undefined {
  const resources = spec.linux?.resources;
  if (!resources) return undefined;
  if (!resources.devices) return resources;
  const created: LinuxDeviceCgroup[] = (spec.linux?.devices ?? [])
    .filter((d) => d.type === 'c' || d.type === 'b')
    .map((d) => {
      const rule: LinuxDeviceCgroup = { allow: true, type: d.type, access: 'rwm' };
      if (d.major !== undefined) rule.major = d.major;
      if (d.minor !== undefined) rule.minor = d.minor;
      return rule;
    });
  return { ...resources, devices: [...resources.devices, ...ALWAYS_ALLOWED, ...created] };
}
