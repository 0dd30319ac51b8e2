/**
 * The OCI runtime spec of a container the engine creates: the image's
 * config, what the user asked for (RunOptions) and what the engine decided
 * (id, rootfs, the generated /etc/hosts, /etc/hostname, /etc/resolv.conf,
 * the host directories of volumes), with Docker's defaults: its 14
 * capabilities, its seccomp profile for that set, its masked and read-only
 * /proc and /sys paths, its default mounts and namespaces, PATH and
 * HOSTNAME in the environment, the hostname from the id, and its
 * Entrypoint/Cmd rules. Pure: the engine reads files and creates volumes
 * before calling this.
 */
import { internal, invalidArgument, isBerthError } from '../../errors.ts';
import { DEFAULT_MASKED_PATHS, DEFAULT_PATH, DEFAULT_READONLY_PATHS } from '../../oci/default-spec.ts';
import type { ImageConfig } from '../../oci/image-spec.ts';
import { RUNTIME_SPEC_VERSION, type LinuxSeccomp, type Mount, type Spec } from '../../oci/runtime-spec.ts';
import { resolveUser, type UserDb } from '../../image/bundle/user.ts';
import { parseSignal } from '../../runtime/lifecycle/kill.ts';
import { hostNativeArch, type NativeArch } from '../../runtime/seccomp/arch.ts';
import { defaultSeccompProfile, DOCKER_CAPS } from '../../runtime/seccomp/default-profile.ts';
import { mergeEnv } from './env.ts';
import type { MountRequest } from './mounts.ts';
import type { RunOptions } from './options.ts';
import { seccompFromFile } from './seccomp-file.ts';
import { tweakCapabilities } from './security.ts';

/** Docker's masked paths (moby oci/defaults.go): runc's, and the power capping interface. */
export const DOCKER_MASKED_PATHS = [...DEFAULT_MASKED_PATHS, '/sys/devices/virtual/powercap'];

/** Docker's default mounts, in its order. */
function dockerMounts(): Mount[] {
  return [
    { destination: '/proc', type: 'proc', source: 'proc', options: ['nosuid', 'noexec', 'nodev'] },
    { destination: '/dev', type: 'tmpfs', source: 'tmpfs', options: ['nosuid', 'strictatime', 'mode=755', 'size=65536k'] },
    { destination: '/dev/pts', type: 'devpts', source: 'devpts', options: ['nosuid', 'noexec', 'newinstance', 'ptmxmode=0666', 'mode=0620', 'gid=5'] },
    { destination: '/sys', type: 'sysfs', source: 'sysfs', options: ['nosuid', 'noexec', 'nodev', 'ro'] },
    { destination: '/sys/fs/cgroup', type: 'cgroup', source: 'cgroup', options: ['ro', 'nosuid', 'noexec', 'nodev'] },
    { destination: '/dev/mqueue', type: 'mqueue', source: 'mqueue', options: ['nosuid', 'noexec', 'nodev'] },
    { destination: '/dev/shm', type: 'tmpfs', source: 'shm', options: ['nosuid', 'noexec', 'nodev', 'mode=1777', 'size=65536k'] },
  ];
}

export interface EngineFacts {
  /** The container's id (64 hex digits); its first 12 are the default hostname. */
  id: string;
  /** Absolute path of the mounted root filesystem. */
  rootfs: string;
  /** Host paths of the files the engine generated for the container. */
  hostsPath: string;
  hostnamePath: string;
  resolvConfPath: string;
  /** The host directory of each volume mount, by target (see volumesToResolve). */
  volumePaths: Readonly<Record<string, string>>;
  /** The image's /etc/passwd and /etc/group. */
  userDb: UserDb;
  /** For `--init`: the init program on the host, and where it appears in the container. */
  init?: { source: string; target: string };
  /** The text of FILE in `--security-opt seccomp=FILE`, read by the engine. */
  seccompProfileText?: string;
  terminal?: boolean;
  /** The terminal's first size, so a program that asks at once sees it (no resize has come yet). */
  consoleSize?: { height: number; width: number };
  nativeArch?: NativeArch;
  /**
   * The network namespace to join, for a container on a network or sharing
   * another's: a link each start points at that run's namespace, so the
   * spec is written once (absent: a namespace of its own, or the host's).
   */
  netnsPath?: string;
}

/** The image's VOLUMEs that no mount of the user covers: each becomes an anonymous volume. */
function imageVolumes(image: ImageConfig, options: RunOptions): string[] {
  const taken = new Set(options.mounts.map((m) => m.target));
  const targets = Object.keys(image.config?.Volumes ?? {}).sort().map((t) => t.replace(/(.)\/+$/, '$1'));
  for (const t of targets) {
    if (!t.startsWith('/')) throw invalidArgument('image_volume', `image config Volumes ${JSON.stringify(t)}: not absolute`);
  }
  return targets.filter((t) => !taken.has(t));
}

/** The volumes the engine must provide before building the spec: the user's, then the image's VOLUMEs no mount covers. */
export function volumesToResolve(image: ImageConfig, options: RunOptions): { target: string; name?: string }[] {
  const out: { target: string; name?: string }[] = [];
  for (const m of options.mounts) if (m.type === 'volume') out.push({ target: m.target, ...(m.name === undefined ? {} : { name: m.name }) });
  for (const target of imageVolumes(image, options)) out.push({ target });
  return out;
}

/** Docker's rules: an --entrypoint (even empty) drops the image's Cmd; arguments after the image replace Cmd. */
export function commandLine(image: ImageConfig, options: RunOptions, args: readonly string[]): string[] {
  const c = image.config ?? {};
  const entrypoint = options.entrypoint ?? c.Entrypoint ?? [];
  const cmd = args.length > 0 || options.entrypoint !== undefined ? args : (c.Cmd ?? []);
  const argv = [...entrypoint, ...cmd];
  if (argv.length === 0) {
    throw invalidArgument('run_no_command', 'no command specified: the image has no Entrypoint or Cmd; give one after the image name');
  }
  return argv;
}

function user(image: ImageConfig, options: RunOptions, db: UserDb): ReturnType<typeof resolveUser> {
  if (options.user === undefined) return resolveUser(image.config?.User, db);
  try {
    return resolveUser(options.user, db, '--user');
  } catch (err) {
    if (!isBerthError(err)) throw err;
    throw invalidArgument('run_flag_invalid', err.message, { cause: err, details: { flag: '--user', value: options.user } });
  }
}

function cwd(image: ImageConfig, options: RunOptions): string {
  if (options.workdir !== undefined) return options.workdir;
  const w = image.config?.WorkingDir ?? '';
  if (w === '') return '/';
  if (!w.startsWith('/')) throw invalidArgument('image_workdir', `image config WorkingDir ${JSON.stringify(w)}: not absolute`);
  return w;
}

function depth(path: string): number {
  return path.split('/').filter((p) => p !== '').length;
}

function bind(destination: string, source: string, readonly: boolean, propagation = 'rprivate'): Mount {
  return { destination, type: 'bind', source, options: ['rbind', propagation, readonly ? 'ro' : 'rw'] };
}

function userMount(m: MountRequest, facts: EngineFacts): Mount {
  if (m.type === 'tmpfs') return { destination: m.target, type: 'tmpfs', source: 'tmpfs', options: [...m.options] };
  if (m.type === 'bind') return bind(m.target, m.source, m.readonly, m.propagation);
  const source = facts.volumePaths[m.target];
  if (source === undefined) throw internal('run_fact_missing', `volume at "${m.target}": the engine gave no host directory for it`);
  return bind(m.target, source, m.readonly);
}

/**
 * The mounts as Docker orders them: its defaults, less those a user mount
 * replaces (all of /dev's when /dev itself is mounted), then the user's
 * mounts, the image's volumes and the generated files, parents before
 * children (by depth, otherwise in the order given).
 */
function mounts(image: ImageConfig, options: RunOptions, facts: EngineFacts): Mount[] {
  const own: Mount[] = options.mounts.map((m) => userMount(m, facts));
  for (const target of imageVolumes(image, options)) own.push(userMount({ type: 'volume', target, readonly: false, nocopy: false }, facts));
  const generated: [string, string][] = [['/etc/resolv.conf', facts.resolvConfPath], ['/etc/hostname', facts.hostnamePath], ['/etc/hosts', facts.hostsPath]];
  for (const [target, source] of generated) {
    if (!own.some((m) => m.destination === target)) own.push(bind(target, source, options.readOnly));
  }
  if (options.init) {
    if (facts.init === undefined) throw internal('run_fact_missing', '--init: the engine has no init program to run');
    own.push({ ...bind(facts.init.target, facts.init.source, true), options: ['rbind', 'rprivate', 'ro', 'nosuid', 'nodev'] });
  }
  const targets = new Set(own.map((m) => m.destination));
  const devMounted = targets.has('/dev');
  const defaults = dockerMounts().filter((m) => !targets.has(m.destination) && !(devMounted && m.destination.startsWith('/dev/')));
  return [...defaults, ...own.map((m, i) => ({ m, i })).sort((a, b) => depth(a.m.destination) - depth(b.m.destination) || a.i - b.i).map(({ m }) => m)];
}

function seccomp(options: RunOptions, caps: readonly string[], facts: EngineFacts): LinuxSeccomp | undefined {
  const choice = options.security.seccomp;
  if (choice.kind === 'unconfined') return undefined;
  if (choice.kind === 'file') {
    if (facts.seccompProfileText === undefined) throw internal('run_fact_missing', `--security-opt seccomp=${choice.path}: the engine did not read the profile`);
    return seccompFromFile(choice.path, facts.seccompProfileText, caps, facts.nativeArch ?? hostNativeArch());
  }
  return defaultSeccompProfile({ capabilities: caps, nativeArch: facts.nativeArch ?? hostNativeArch() });
}

const SIGTERM = 15;

/** The signal `stop` sends first: --stop-signal, else the image's STOPSIGNAL, else SIGTERM (docker's order). */
export function stopSignal(image: ImageConfig, options: RunOptions): number {
  if (options.stopSignal !== undefined) return options.stopSignal;
  const own = image.config?.StopSignal;
  if (own === undefined || own === '') return SIGTERM;
  try {
    return parseSignal(own);
  } catch (err) {
    throw invalidArgument('image_stop_signal', `image config StopSignal ${JSON.stringify(own)}: not a signal`, { cause: err });
  }
}

/** The runtime spec for `berth run IMAGE ARGS...`. */
export function containerSpec(image: ImageConfig, options: RunOptions, args: readonly string[], facts: EngineFacts): Spec {
  if (image.os !== 'linux') throw invalidArgument('image_os', `image config os "${image.os}": only linux images run here`);
  const c = image.config ?? {};
  for (const e of c.Env ?? []) {
    if (e.indexOf('=') <= 0) throw invalidArgument('image_env', `image config Env ${JSON.stringify(e)}: not NAME=value`);
  }
  const hostname = options.hostname ?? facts.id.slice(0, 12);
  const u = user(image, options, facts.userDb);
  const caps = tweakCapabilities(DOCKER_CAPS, options.security.capAdd, options.security.capDrop);
  const argv = commandLine(image, options, args);
  const base = [DEFAULT_PATH, `HOSTNAME=${hostname}`, ...(facts.terminal === true ? ['TERM=xterm'] : [])];
  const profile = seccomp(options, caps, facts);
  const namespaces: NonNullable<Spec['linux']>['namespaces'] = [{ type: 'mount' }, ...(options.network === 'host' ? [] : [{ type: 'network' as const, ...(facts.netnsPath === undefined ? {} : { path: facts.netnsPath }) }]), { type: 'uts' }, { type: 'pid' }, { type: 'ipc' }, { type: 'cgroup' }];
  const labels = { ...c.Labels, ...options.labels };
  return {
    ociVersion: RUNTIME_SPEC_VERSION,
    process: {
      terminal: facts.terminal === true,
      ...(facts.terminal === true && facts.consoleSize !== undefined ? { consoleSize: { ...facts.consoleSize } } : {}),
      user: { uid: u.uid, gid: u.gid, ...(u.additionalGids.length > 0 ? { additionalGids: u.additionalGids } : {}) },
      args: options.init && facts.init !== undefined ? [facts.init.target, '--', ...argv] : argv,
      env: mergeEnv(base, mergeEnv(c.Env ?? [], options.env)),
      cwd: cwd(image, options),
      // Docker gives a non-root user the bounding set only, as execve would leave it.
      capabilities: u.uid === 0 ? { bounding: [...caps], effective: [...caps], permitted: [...caps] } : { bounding: [...caps] },
      ...(options.rlimits.length > 0 ? { rlimits: options.rlimits.map((r) => ({ ...r })) } : {}),
      noNewPrivileges: options.security.noNewPrivileges,
    },
    root: { path: facts.rootfs, readonly: options.readOnly },
    hostname,
    mounts: mounts(image, options, facts),
    ...(Object.keys(labels).length > 0 ? { annotations: labels } : {}),
    linux: {
      namespaces,
      resources: { devices: [{ allow: false, access: 'rwm' }], ...options.resources },
      maskedPaths: [...DOCKER_MASKED_PATHS],
      readonlyPaths: [...DEFAULT_READONLY_PATHS],
      ...(profile === undefined ? {} : { seccomp: profile }),
    },
  };
}
