/**
 * What the schema cannot say: the rules a Linux runtime must check before
 * it touches anything (runc's validator), and the features berth does not
 * implement, refused by name instead of being ignored. Each problem names
 * the field: `linux.namespaces[3].type: "time" is not supported`.
 */
import { isAbsolute } from 'node:path/posix';
import type { Spec } from '../../oci/runtime-spec.ts';
import { CAPABILITIES, RLIMIT } from '../linux/constants.ts';

const NAMESPACE_TYPES = new Set(['pid', 'network', 'mount', 'ipc', 'uts', 'user', 'cgroup', 'time']);
const DEVICE_TYPES = new Set(['c', 'b', 'u', 'p']);
const PROPAGATIONS = new Set(['', 'private', 'rprivate', 'slave', 'rslave', 'shared', 'rshared', 'unbindable', 'runbindable']);
const IPC_SYSCTLS = new Set(['kernel.msgmax', 'kernel.msgmnb', 'kernel.msgmni', 'kernel.sem', 'kernel.shmall', 'kernel.shmmax', 'kernel.shmmni', 'kernel.shm_rmid_forced']);

export interface SemanticOptions {
  /** The caller needs a process (create, run); `spec`-only checks do not. */
  requireProcess: boolean;
}

function hasNewNamespace(spec: Spec, type: string): boolean {
  return (spec.linux?.namespaces ?? []).some((ns) => ns.type === type && !ns.path);
}
function hasNamespace(spec: Spec, type: string): boolean {
  return (spec.linux?.namespaces ?? []).some((ns) => ns.type === type);
}

/**
 * Without a mount namespace the container is in the runtime's: what would
 * mount there (and outlive the container) or write device nodes into the
 * root on disk is refused (runc refuses masked and read-only paths alike).
 */
function withoutMountNamespace(spec: Spec): string[] {
  const out: string[] = [];
  const why = 'needs a mount namespace (the container has the runtime\'s)';
  if ((spec.mounts?.length ?? 0) > 0) out.push(`mounts: ${why}`);
  if (spec.root?.readonly) out.push(`root.readonly: ${why}`);
  if ((spec.linux?.maskedPaths?.length ?? 0) > 0) out.push(`linux.maskedPaths: ${why}`);
  if ((spec.linux?.readonlyPaths?.length ?? 0) > 0) out.push(`linux.readonlyPaths: ${why}`);
  if ((spec.linux?.devices?.length ?? 0) > 0) out.push(`linux.devices: ${why}`);
  if (spec.linux?.rootfsPropagation) out.push(`linux.rootfsPropagation: ${why}`);
  return out;
}

export function semanticProblems(spec: Spec, options: SemanticOptions): string[] {
  const out: string[] = [];
  const major = /^(\d+)\./.exec(spec.ociVersion)?.[1];
  if (major !== '1') out.push(`ociVersion: "${spec.ociVersion}" is not a 1.x version`);
  if (!spec.root?.path) out.push('root.path: is required on Linux');

  const p = spec.process;
  if (options.requireProcess && !p) out.push('process: is required to create a container');
  if (p) {
    if (!p.args || p.args.length === 0) {
      if (options.requireProcess) out.push('process.args: must name the program to run');
    }
    if (!isAbsolute(p.cwd)) out.push(`process.cwd: "${p.cwd}" must be an absolute path`);
    if (p.user === undefined) out.push('process.user: is required');
    for (const [set, names] of Object.entries(p.capabilities ?? {})) {
      (names as string[]).forEach((name, i) => {
        if (!(name in CAPABILITIES)) out.push(`process.capabilities.${set}[${i}]: unknown capability "${name}"`);
      });
    }
    const seenRlimit = new Set<string>();
    (p.rlimits ?? []).forEach((r, i) => {
      if (!(r.type in RLIMIT)) out.push(`process.rlimits[${i}].type: unknown limit "${r.type}"`);
      if (seenRlimit.has(r.type)) out.push(`process.rlimits[${i}].type: "${r.type}" given twice`);
      seenRlimit.add(r.type);
      if (r.soft > r.hard) out.push(`process.rlimits[${i}]: soft limit ${r.soft} above hard limit ${r.hard}`);
    });
    if (p.consoleSize && !p.terminal) out.push('process.consoleSize: needs process.terminal');
    // Neither LSM is applied, so a profile or label asked for would be silently missing (runc refuses them too where the kernel has none).
    if (p.apparmorProfile) out.push('process.apparmorProfile: AppArmor profiles are not supported by berth-runtime');
    if (p.selinuxLabel) out.push('process.selinuxLabel: SELinux labels are not supported by berth-runtime');
    if (p.scheduler) out.push('process.scheduler: not supported by berth-runtime');
    if (p.ioPriority) out.push('process.ioPriority: not supported by berth-runtime');
    if (p.execCPUAffinity) out.push('process.execCPUAffinity: not supported by berth-runtime');
  }

  const linux = spec.linux;
  const seenNs = new Set<string>();
  (linux?.namespaces ?? []).forEach((ns, i) => {
    if (!NAMESPACE_TYPES.has(ns.type)) out.push(`linux.namespaces[${i}].type: unknown namespace "${ns.type}"`);
    else if (ns.type === 'time') out.push(`linux.namespaces[${i}].type: "time" namespaces are not supported by berth-runtime`);
    if (seenNs.has(ns.type)) out.push(`linux.namespaces[${i}].type: "${ns.type}" given twice`);
    seenNs.add(ns.type);
    if (ns.path !== undefined && !isAbsolute(ns.path)) out.push(`linux.namespaces[${i}].path: "${ns.path}" must be absolute`);
  });
  const newUserns = hasNewNamespace(spec, 'user');
  const mappings = (linux?.uidMappings?.length ?? 0) + (linux?.gidMappings?.length ?? 0);
  if (mappings > 0 && !newUserns) out.push('linux.uidMappings: id mappings need a new user namespace');
  if (newUserns && (!linux?.uidMappings?.length || !linux.gidMappings?.length)) {
    out.push('linux.uidMappings: a new user namespace needs uidMappings and gidMappings');
  }
  // A uts namespace joined by path may be named too (runc's rule): never the runtime's own.
  if (spec.hostname !== undefined && spec.hostname !== '' && !hasNamespace(spec, 'uts')) {
    out.push('hostname: setting the hostname needs a uts namespace');
  }
  if (spec.domainname !== undefined && spec.domainname !== '' && !hasNamespace(spec, 'uts')) {
    out.push('domainname: setting the domain name needs a uts namespace');
  }
  if (!hasNamespace(spec, 'mount')) out.push(...withoutMountNamespace(spec));
  for (const key of Object.keys(linux?.sysctl ?? {})) {
    if (IPC_SYSCTLS.has(key) || key.startsWith('fs.mqueue.')) {
      if (!hasNamespace(spec, 'ipc')) out.push(`linux.sysctl.${key}: needs an ipc namespace`);
    } else if (key.startsWith('net.')) {
      if (!hasNamespace(spec, 'network')) out.push(`linux.sysctl.${key}: needs a network namespace`);
    } else if (key === 'kernel.hostname' || key === 'kernel.domainname') {
      out.push(`linux.sysctl.${key}: set "hostname"/"domainname" instead`);
    } else {
      out.push(`linux.sysctl.${key}: not namespaced, refusing to change it for the whole host`);
    }
  }
  if (linux?.rootfsPropagation !== undefined && !PROPAGATIONS.has(linux.rootfsPropagation)) {
    out.push(`linux.rootfsPropagation: unknown propagation "${linux.rootfsPropagation}"`);
  }
  (linux?.devices ?? []).forEach((d, i) => {
    if (!DEVICE_TYPES.has(d.type)) out.push(`linux.devices[${i}].type: unknown device type "${d.type}"`);
    if (!isAbsolute(d.path)) out.push(`linux.devices[${i}].path: "${d.path}" must be absolute`);
    if (d.type !== 'p' && (d.major === undefined || d.minor === undefined)) {
      out.push(`linux.devices[${i}]: a "${d.type}" device needs major and minor`);
    }
  });
  (spec.mounts ?? []).forEach((m, i) => {
    if (m.uidMappings || m.gidMappings) out.push(`mounts[${i}]: id-mapped mounts are not supported by berth-runtime`);
    (m.options ?? []).forEach((o, j) => {
      if (o === 'idmap' || o === 'ridmap') out.push(`mounts[${i}].options[${j}]: "${o}" is not supported by berth-runtime`);
    });
  });
  for (const [phase, hooks] of Object.entries(spec.hooks ?? {})) {
    (hooks as { path: string }[]).forEach((h, i) => {
      if (!isAbsolute(h.path)) out.push(`hooks.${phase}[${i}].path: "${h.path}" must be absolute`);
    });
  }
  if (linux?.timeOffsets) out.push('linux.timeOffsets: time namespaces are not supported by berth-runtime');
  if (linux?.personality) out.push('linux.personality: not supported by berth-runtime');
  if (linux?.intelRdt) out.push('linux.intelRdt: not supported by berth-runtime');
  if (linux?.mountLabel) out.push('linux.mountLabel: SELinux labels are not supported by berth-runtime');
  return out;
}
