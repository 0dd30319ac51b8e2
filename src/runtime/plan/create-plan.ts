/**
 * config.json → the ordered steps that make a container, as data. The order
 * follows runc's: join and create namespaces, fork, join the cgroup, set up
 * the root (mounts, devices, links, sysctls, hooks, masks), pivot, then the
 * process (terminal, limits, directory, ids, capabilities, seccomp, fds),
 * report ready, wait for `start`, exec.
 */
import { existsSync, statSync } from 'node:fs';
import { isAbsolute, join, posix } from 'node:path';
import { describeError, invalidArgument, unsupported } from '../../errors.ts';
import type { Mount, Namespace, Process, Spec } from '../../oci/runtime-spec.ts';
import { CLONE, MS, RESOLVE, RLIMIT, S_IF, makedev } from '../linux/constants.ts';
import { capabilityMasks } from './capabilities.ts';
import { DEFAULT_DEVICES, DEV_SYMLINKS } from './devices.ts';
import { Plan } from './encode.ts';
import { BIND_REMOUNT_FLAGS, parseMountOptions, UNSUPPORTED_OPTIONS } from './mount-options.ts';
import { OpFlag } from './opcodes.ts';
import { procMountFlags } from './proc-mounts.ts';

/** A mount the runtime adds on its own (the cgroup filesystem), in the cgroups library's words. */
export interface ExtraMount {
  source: string;
  destination: string;
  fstype: string;
  options: string[];
  kind: 'dir' | 'file';
}

/** A compiled seccomp filter, as the seccomp compiler returns it. */
export interface SeccompProgram {
  program: Uint8Array;
  flags: number;
  notify: boolean;
  listenerPath?: string;
  listenerMetadata?: string;
}

export const SYNC_USERNS = 'userns';
export const SYNC_CREATED = 'created';
export const SYNC_HOOKS = 'hooks';

export const NS_CLONE_FLAG: Record<string, number> = {
  pid: CLONE.NEWPID,
  network: CLONE.NEWNET,
  mount: CLONE.NEWNS,
  ipc: CLONE.NEWIPC,
  uts: CLONE.NEWUTS,
  user: CLONE.NEWUSER,
  cgroup: CLONE.NEWCGROUP,
};

/** File names under /proc/PID/ns/. */
export const NS_PROC_NAME: Record<string, string> = {
  pid: 'pid',
  network: 'net',
  mount: 'mnt',
  ipc: 'ipc',
  uts: 'uts',
  user: 'user',
  cgroup: 'cgroup',
};

/** Joining order: the user namespace first (it owns the others), the mount namespace last. */
const JOIN_ORDER = ['user', 'ipc', 'uts', 'network', 'pid', 'cgroup', 'mount'];

export interface CreatePlanInput {
  spec: Spec;
  bundle: string;
  rootfs: string;
  stateDir: string;
  fifoName: string;
  consoleSocket?: string | undefined;
  noPivot: boolean;
  preserveFds: number;
  /** The executor stays and waits for the container (foreground run, the engine). */
  wait: boolean;
  /** A terminal without a console socket: the waiting executor copies it to its own stdio. */
  consoleProxy: boolean;
  /** Mounts standing in for a spec mount of type "cgroup". */
  cgroupMounts: (destination: string, readOnly: boolean, cgroupNamespace: boolean) => ExtraMount[];
  /** The host mount point above the rootfs, made private when the rootfs propagation is shared. */
  rootfsParentMount?: string | undefined;
  seccomp?: SeccompProgram | undefined;
  hostHasKcore: boolean;
  /** The runtime runs without root (rootless). */
  unprivileged?: boolean;
  /** cgroup.procs files the container process writes itself into; undefined: TypeScript places it at a sync. */
  cgroupProcs?: string[] | undefined;
}

export function namespacesOf(spec: Spec): Namespace[] {
  return spec.linux?.namespaces ?? [];
}

function newNamespaceFlags(namespaces: Namespace[]): number {
  let flags = 0;
  for (const ns of namespaces) if (!ns.path) flags |= NS_CLONE_FLAG[ns.type] ?? 0;
  return flags;
}

function joinNamespaceSteps(plan: Plan, namespaces: { type: string; path: string }[]): void {
  const sorted = [...namespaces].sort((a, b) => JOIN_ORDER.indexOf(a.type) - JOIN_ORDER.indexOf(b.type));
  for (const ns of sorted) {
    plan.add('setns', { path: ns.path, nstype: NS_CLONE_FLAG[ns.type] ?? 0 }, `join the ${ns.type} namespace "${ns.path}"`);
  }
}

function propagationFlags(value: string | undefined): number {
  switch (value) {
    case 'private':
      return MS.PRIVATE;
    case 'rprivate':
      return MS.PRIVATE | MS.REC;
    case 'shared':
      return MS.SHARED;
    case 'rshared':
      return MS.SHARED | MS.REC;
    case 'slave':
      return MS.SLAVE;
    case 'unbindable':
      return MS.UNBINDABLE;
    case 'runbindable':
      return MS.UNBINDABLE | MS.REC;
    default:
      return MS.SLAVE | MS.REC;
  }
}

/** An absolute, clean path as runc's filepath.Clean makes it: no "..", no doubled or trailing "/". */
function cleanDestination(dest: string): string {
  const clean = posix.normalize(posix.join('/', dest));
  return clean.length > 1 ? clean.replace(/\/+$/, '') : clean;
}

/** A path in the root as the directory that holds it and its name there (mknod and symlink make names in directories). */
export function inDir(path: string): { dir: string; name: string } {
  const clean = cleanDestination(path);
  return { dir: posix.dirname(clean), name: posix.basename(clean) };
}

/** A bind mount on /dev means the devices come with it (runc's needsSetupDev). */
export function needsDevSetup(spec: Spec): boolean {
  return !(spec.mounts ?? []).some((m) => cleanDestination(m.destination) === '/dev' && parseMountOptions(m.options ?? [], m.type).bind);
}

/** `kind`: what the runtime's own mounts (the cgroup ones) bind, known without looking: their sources need not exist yet. */
function addMount(plan: Plan, m: Mount, index: number, input: CreatePlanInput, userns: boolean, cgroupns: boolean, kind?: 'dir' | 'file'): void {
  const where = `mounts[${index}]`;
  const dest = cleanDestination(m.destination);
  for (const opt of m.options ?? []) {
    if (UNSUPPORTED_OPTIONS.has(opt)) throw unsupported('mount_option', `${where}.options: "${opt}" is not supported by berth-runtime`);
  }
  const opts = parseMountOptions(m.options ?? [], m.type);
  if (opts.copyUp && (opts.bind || m.type !== 'tmpfs')) throw invalidArgument('mount_option_invalid', `${where}.options: "tmpcopyup" applies to tmpfs mounts only`);
  if (m.type === 'cgroup' && !opts.bind) {
    const readOnly = (opts.flags & MS.RDONLY) !== 0;
    for (const cm of input.cgroupMounts(dest, readOnly, cgroupns)) {
      addMount(plan, { destination: cm.destination, type: cm.fstype, source: cm.source, options: cm.options }, index, input, userns, cgroupns, cm.kind);
    }
    return;
  }
  if (opts.bind) {
    let source = m.source ?? '';
    if (!source) throw invalidArgument('mount_source', `${where}.source: a bind mount needs a source`);
    if (!isAbsolute(source)) source = join(input.bundle, source);
    let isDir = kind === 'dir';
    if (kind === undefined) {
      try {
        isDir = statSync(source).isDirectory();
      } catch (err) {
        throw invalidArgument('mount_source', `${where}.source: "${source}": ${describeError(err)}`, { cause: err });
      }
    }
    plan.add(
      'mount',
      { source, target: dest, fstype: '', flags: MS.BIND | (opts.flags & MS.REC), data: '', kind: isDir ? 0 : 1, source_in_root: 0 },
      `${where}: bind "${source}" on "${dest}"`,
      procMountFlags(where, dest, '', source),
    );
    const remount = opts.flags & BIND_REMOUNT_FLAGS;
    if (remount !== 0) {
      plan.add('remount_bind', { target: dest, flags: remount }, `${where}: remount "${dest}" with its options`);
    }
  } else {
    const fstype = m.type ?? '';
    if (!fstype) throw invalidArgument('mount_type', `${where}.type: a mount that is not a bind mount needs a type`);
    let data = opts.data;
    // In a user namespace, devpts cannot take a gid the namespace does not map (runc drops it the same way).
    if (userns && fstype === 'devpts') data = data.filter((d) => !d.startsWith('gid='));
    const guard = procMountFlags(where, dest, fstype, undefined);
    plan.add(
      'mount',
      { source: m.source ?? fstype, target: dest, fstype, flags: opts.flags & ~(MS.BIND | MS.REC), data: data.join(','), kind: 0, source_in_root: 0 },
      `${where}: mount ${fstype} "${m.source ?? fstype}" on "${dest}"${opts.copyUp ? ' with what it held (tmpcopyup)' : ''}`,
      guard | (opts.copyUp ? OpFlag.COPY_UP : 0),
    );
  }
  for (const p of opts.propagation) plan.add('propagate', { target: dest, flags: p }, `${where}: set propagation of "${dest}"`);
}

function addDevices(plan: Plan, spec: Spec, userns: boolean): void {
  const byPath = new Map<string, { type: string; path: string; major: number; minor: number; fileMode: number; uid: number; gid: number }>();
  for (const d of DEFAULT_DEVICES) byPath.set(d.path, { ...d });
  for (const d of spec.linux?.devices ?? []) {
    byPath.set(d.path, { type: d.type, path: d.path, major: d.major ?? 0, minor: d.minor ?? 0, fileMode: d.fileMode ?? 0o666, uid: d.uid ?? 0, gid: d.gid ?? 0 });
  }
  for (const d of byPath.values()) {
    if (userns) {
      // mknod is not allowed in a user namespace: bind the host's node instead.
      plan.add(
        'mount',
        { source: d.path, target: d.path, fstype: '', flags: MS.BIND, data: '', kind: 1, source_in_root: 0 },
        `bind device "${d.path}" from the host`,
      );
      continue;
    }
    const kind = d.type === 'b' ? S_IF.BLK : d.type === 'p' ? S_IF.FIFO : S_IF.CHR;
    plan.add(
      'mknod',
      { ...inDir(d.path), mode: kind | (d.fileMode & 0o7777), dev: d.type === 'p' ? 0 : makedev(d.major, d.minor), uid: d.uid, gid: d.gid },
      `create device "${d.path}" (${d.type} ${d.major}:${d.minor})`,
      OpFlag.IGNORE_EEXIST,
    );
  }
}

function addDevLinks(plan: Plan, hostHasKcore: boolean): void {
  const links: [string, string][] = [...DEV_SYMLINKS];
  if (hostHasKcore) links.push(['/dev/core', '/proc/kcore']);
  for (const [path, target] of links) {
    plan.add('symlink', { ...inDir(path), link_target: target }, `link "${path}" -> "${target}"`, OpFlag.IGNORE_EEXIST);
  }
  plan.add('symlink', { ...inDir('/dev/ptmx'), link_target: 'pts/ptmx' }, 'link "/dev/ptmx" -> "pts/ptmx"', OpFlag.IGNORE_EEXIST);
}

function hasProcMount(spec: Spec): boolean {
  return (spec.mounts ?? []).some((m) => m.type === 'proc' && cleanDestination(m.destination) === '/proc');
}

export function envValue(env: readonly string[] | undefined, name: string): string | undefined {
  const prefix = `${name}=`;
  for (let i = (env?.length ?? 0) - 1; i >= 0; i--) {
    const e = env?.[i];
    if (e?.startsWith(prefix)) return e.slice(prefix.length);
  }
  return undefined;
}

/** Where exec looks for `program`, in order, as execvp does: itself when it names a path, else in each $PATH entry ("" is the working directory). */
export function programCandidates(program: string, path: string): string[] {
  if (program === '') return [];
  if (program.includes('/')) return [program];
  return path.split(':').map((dir) => (dir === '' ? program : `${dir}/${program}`));
}

export interface ProcessStepOptions {
  preserveFds: number;
  seccomp?: SeccompProgram | undefined;
  /** The seccomp listener receives this state JSON with the notify fd. */
  listenerState?: string | undefined;
}

function seccompStep(plan: Plan, s: SeccompProgram, listenerState: string): void {
  plan.add(
    'seccomp',
    { program: s.program, flags: s.flags, listener_path: s.listenerPath ?? '', listener_state: listenerState },
    `load the seccomp filter (${s.program.length / 8} instructions)`,
  );
}

/** The process part shared by create and exec: limits, directory, ids, capabilities, seccomp, fds, program. */
export function addProcessSteps(plan: Plan, p: Process, options: ProcessStepOptions): void {
  for (const r of p.rlimits ?? []) {
    const resource = RLIMIT[r.type];
    if (resource === undefined) throw invalidArgument('rlimit_type', `process.rlimits: unknown limit "${r.type}"`);
    plan.add('setrlimit', { resource, soft: r.soft, hard: r.hard }, `set ${r.type} to soft ${r.soft}, hard ${r.hard}`);
  }
  plan.add('chdir', { path: p.cwd }, `change to the working directory "${p.cwd}"`);
  const nnp = p.noNewPrivileges === true;
  const listenerState = options.listenerState ?? '';
  // Without no_new_privs, loading a filter needs CAP_SYS_ADMIN: load it before the capabilities drop.
  if (options.seccomp && !nnp) seccompStep(plan, options.seccomp, listenerState);
  plan.add('umask', { mask: p.user.umask ?? 0o022 }, `set the umask to ${(p.user.umask ?? 0o022).toString(8)}`);
  plan.add(
    'set_user',
    { uid: p.user.uid, gid: p.user.gid, groups: p.user.additionalGids ?? [] },
    `become uid ${p.user.uid}, gid ${p.user.gid}${p.user.additionalGids?.length ? `, groups ${p.user.additionalGids.join(',')}` : ''}`,
  );
  // No capabilities given means none, as runc: never the runtime's own full set.
  const m = capabilityMasks(p.capabilities ?? {});
  plan.add(
    'caps',
    { bounding: m.bounding, effective: m.effective, permitted: m.permitted, inheritable: m.inheritable, ambient: m.ambient },
    'set the capabilities',
  );
  if (nnp) plan.add('no_new_privs', {}, 'set no_new_privs');
  // With no_new_privs, as late as possible so the profile needs to allow as little as possible.
  if (options.seccomp && nnp) seccompStep(plan, options.seccomp, listenerState);
  plan.add('close_fds', { first: 3 + options.preserveFds }, 'close the runtime\'s file descriptors on exec');
  const program = p.args?.[0] ?? '';
  plan.add('resolve_exec', { file: program, candidates: programCandidates(program, envValue(p.env, 'PATH') ?? '') }, `find the program "${program}"`);
}

export function compileCreatePlan(input: CreatePlanInput): Plan {
  const { spec } = input;
  const p = spec.process;
  if (!p) throw invalidArgument('no_process', 'process: is required to create a container');
  const namespaces = namespacesOf(spec);
  // Without a mount namespace the process is in the runtime's: nothing is mounted there (the
  // validator refuses what would need it), the root is only a chroot. A joined one is set up as a new one, as runc does.
  const mountNs = namespaces.find((ns) => ns.type === 'mount');
  const userns = namespaces.some((ns) => ns.type === 'user' && !ns.path);
  const cgroupns = namespaces.some((ns) => ns.type === 'cgroup' && !ns.path);
  if (spec.linux?.sysctl && Object.keys(spec.linux.sysctl).length > 0 && !hasProcMount(spec)) {
    throw invalidArgument('sysctl_without_proc', 'linux.sysctl: needs a proc mount on /proc');
  }

  const plan = new Plan();
  // In the executor, before the container process exists.
  plan.add('umask', { mask: 0 }, 'clear the umask while building the root');
  plan.add('close_fds', { first: 3 + input.preserveFds }, 'close inherited file descriptors on exec');
  plan.add('mkfifo', { path: join(input.stateDir, input.fifoName), mode: 0o622 }, 'create the exec FIFO');
  // Host paths are opened as the runtime's user, before a user namespace maps it away (as runc does).
  plan.add('open_state_dir', { path: input.stateDir }, 'open the state directory');
  if (p.terminal && input.consoleSocket) {
    plan.add('console_connect', { path: input.consoleSocket }, `connect to the console socket "${input.consoleSocket}"`);
  }
  if (input.seccomp?.notify && input.seccomp.listenerPath) {
    plan.add('listener_connect', { path: input.seccomp.listenerPath }, `connect to the seccomp listener "${input.seccomp.listenerPath}"`);
  }
  joinNamespaceSteps(
    plan,
    namespaces.filter((ns): ns is Namespace & { path: string } => !!ns.path),
  );
  if (userns) {
    // The user namespace first, so its root creates the others (as runc does): a new ipc
    // namespace's /dev/mqueue belongs to its creator, who must be someone the mapping knows.
    plan.add('unshare', { flags: CLONE.NEWUSER }, 'create the user namespace');
    // Without root, the parent may only open /proc/PID/uid_map of a dumpable process (as runc does).
    if (input.unprivileged) plan.add('set_dumpable', { value: 1 }, 'let the unprivileged parent write the id mappings');
    plan.add('sync', { tag: SYNC_USERNS }, 'wait for the user namespace id mappings');
    if (input.unprivileged) plan.add('set_dumpable', { value: 0 }, 'become non-dumpable again');
    plan.add('set_user', { uid: 0, gid: 0, groups: [] }, 'become root of the user namespace');
  }
  const unshareFlags = newNamespaceFlags(namespaces) & ~CLONE.NEWCGROUP & ~CLONE.NEWUSER;
  if (unshareFlags) plan.add('unshare', { flags: unshareFlags }, 'create the namespaces');
  plan.add('fork', { wait: input.wait ? 1 : 0, console_proxy: input.consoleProxy ? 1 : 0 }, 'start the container process');

  // In the container process.
  if (userns || input.cgroupProcs === undefined || mountNs?.path) {
    // Its root (a mapped id) may not write the host's cgroup files, nor see them from a joined
    // mount namespace: TypeScript places it.
    plan.add('sync', { tag: SYNC_CREATED }, 'wait to be placed in the cgroup');
  } else {
    // Still in the host's mount namespace view: it moves itself ("0" is the writer), no round trip.
    for (const procs of input.cgroupProcs) {
      plan.add('write_file', { path: procs, data: '0', resolve: RESOLVE.NO_SYMLINKS | RESOLVE.NO_MAGICLINKS }, `join the cgroup ${procs}`);
    }
  }
  if (cgroupns) plan.add('unshare', { flags: CLONE.NEWCGROUP }, 'create the cgroup namespace');
  plan.add('setsid', {}, 'start a session');
  if (namespaces.some((ns) => ns.type === 'network' && !ns.path)) plan.add('loopback_up', {}, 'bring lo up');
  if (spec.hostname) plan.add('sethostname', { name: spec.hostname }, `set the hostname to "${spec.hostname}"`);
  if (spec.domainname) plan.add('setdomainname', { name: spec.domainname }, `set the domain name to "${spec.domainname}"`);
  const setupDev = mountNs !== undefined && needsDevSetup(spec);
  if (mountNs) addRoot(plan, input, userns, cgroupns, setupDev);
  if (p.oomScoreAdj !== undefined) {
    plan.add('write_file', { path: '/proc/self/oom_score_adj', data: String(p.oomScoreAdj), resolve: 0 }, `set oom_score_adj to ${p.oomScoreAdj}`);
  }
  const hooks = spec.hooks ?? {};
  const anyHooks = [hooks.prestart, hooks.createRuntime, hooks.createContainer, hooks.startContainer].some((h) => (h?.length ?? 0) > 0);
  // The answer also carries the state a seccomp listener receives.
  if (anyHooks || input.seccomp?.notify) plan.add('sync', { tag: SYNC_HOOKS }, 'run the prestart and createRuntime hooks');
  (hooks.createContainer ?? []).forEach((h, i) => {
    plan.add(
      'run_hook',
      { path: h.path, argv: h.args ?? [h.path], envv: h.env ?? [], timeout_ms: (h.timeout ?? 0) * 1000, input: 0 },
      `createContainer hook ${i} "${h.path}"`,
    );
  });
  if (mountNs) enterRoot(plan, input);
  else plan.add('chroot', { path: input.rootfs }, `chroot into "${input.rootfs}" (no mount namespace of its own)`);
  if (p.terminal) {
    if (!input.consoleSocket && !input.consoleProxy) {
      throw invalidArgument('console_socket_required', 'process.terminal: a terminal needs --console-socket when the container runs detached');
    }
    plan.add(
      'setup_console',
      {
        uid: p.user.uid,
        // As runc: the owner becomes the process's user, the group stays devpts' own (gid=5, tty).
        gid: -1,
        rows: p.consoleSize?.height ?? 0,
        cols: p.consoleSize?.width ?? 0,
        console_path: setupDev ? '/dev/console' : '',
      },
      'create the terminal',
    );
  }
  // After the pivot and the console, read-only paths, then masks: runc's order, so /proc/self/mountinfo reads the same.
  if (mountNs) {
    for (const path of spec.linux?.readonlyPaths ?? []) {
      const bind = { source: path, target: path, fstype: '', flags: MS.BIND | MS.REC, data: '', kind: -1, source_in_root: 1 };
      plan.add('mount', bind, `bind "${path}" onto itself, to make it read-only`, OpFlag.IGNORE_ENOENT);
      plan.add('remount_bind', { target: path, flags: MS.RDONLY }, `make "${path}" read-only`, OpFlag.IGNORE_ENOENT);
    }
    for (const path of spec.linux?.maskedPaths ?? []) plan.add('mask_path', { path }, `mask "${path}"`, OpFlag.IGNORE_ENOENT);
  }
  addProcessSteps(plan, p, { preserveFds: input.preserveFds, seccomp: input.seccomp, listenerState: undefined });
  plan.add('ready', {}, 'report ready');
  plan.add('wait_start', { fifo: input.fifoName }, 'wait for start');
  (hooks.startContainer ?? []).forEach((h, i) => {
    plan.add(
      'run_hook',
      { path: h.path, argv: h.args ?? [h.path], envv: h.env ?? [], timeout_ms: (h.timeout ?? 0) * 1000, input: 1 },
      `startContainer hook ${i} "${h.path}"`,
    );
  });
  plan.add('reset_signals', {}, 'reset signal handling');
  plan.add('exec', { argv: p.args ?? [], envv: p.env ?? [] }, `exec "${p.args?.[0] ?? ''}"`);
  return plan;
}

/** Whether the rootfs's parent mount must be made private before pivot_root (CreatePlanInput.rootfsParentMount is needed). */
export function parentMayBeShared(spec: Spec): boolean {
  const rootProp = spec.linux?.rootfsPropagation;
  return rootProp !== undefined && rootProp !== '' && !['rslave', 'rprivate', 'runbindable'].includes(rootProp);
}

/** The root in the container's mount namespace: propagation, the root bound, mounts, devices, sysctls. */
function addRoot(plan: Plan, input: CreatePlanInput, userns: boolean, cgroupns: boolean, setupDev: boolean): void {
  const { spec } = input;
  const rootProp = spec.linux?.rootfsPropagation;
  plan.add('propagate_abs', { path: '/', flags: propagationFlags(rootProp) }, `make "/" ${rootProp || 'rslave'}`);
  // pivot_root refuses a new root whose parent mount is shared. Only a recursive slave, private or
  // unbindable "/" is sure to leave no shared mount above the rootfs; otherwise the parent keeps
  // the host's propagation (or, with rshared, became shared) and is made private (as runc does).
  if (parentMayBeShared(spec) && input.rootfsParentMount) {
    plan.add('propagate_abs', { path: input.rootfsParentMount, flags: MS.PRIVATE }, `make "${input.rootfsParentMount}" private`);
  }
  plan.add('open_root', { path: input.rootfs }, `bind the root "${input.rootfs}" onto itself`);
  (spec.mounts ?? []).forEach((m, i) => addMount(plan, m, i, input, userns, cgroupns));
  if (setupDev) {
    addDevices(plan, spec, userns);
    addDevLinks(plan, input.hostHasKcore);
  }
  for (const [key, value] of Object.entries(spec.linux?.sysctl ?? {})) {
    const path = `/proc/sys/${key.replace(/\./g, '/')}`;
    plan.add('write_file', { path, data: value, resolve: RESOLVE.IN_ROOT | RESOLVE.NO_MAGICLINKS }, `set sysctl ${key} to "${value}"`);
  }
}

/** After the createContainer hooks: the working directory, then into the root. */
function enterRoot(plan: Plan, input: CreatePlanInput): void {
  const { spec } = input;
  const p = spec.process;
  const rootProp = spec.linux?.rootfsPropagation;
  // A missing working directory is made, as runc does.
  if (p) plan.add('ensure_dir', { path: p.cwd }, `make the working directory "${p.cwd}"`);
  if (input.noPivot) plan.add('move_root', {}, 'move the root over "/" and chroot (--no-pivot)');
  else plan.add('pivot_root', {}, 'pivot_root into the root');
  // Again on the new "/" (as runc): before the pivot it was set on the host's root and the rootfs bind.
  if (rootProp && rootProp !== 'private' && rootProp !== 'rprivate') {
    plan.add('propagate_abs', { path: '/', flags: propagationFlags(rootProp) }, `make the new "/" ${rootProp}`);
  }
  if (spec.root?.readonly) plan.add('remount_root_ro', {}, 'remount the root read-only');
}

/** Whether the host has /proc/kcore, for the /dev/core link. */
export function hostHasKcore(): boolean {
  return existsSync('/proc/kcore');
}
