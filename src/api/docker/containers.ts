/**
 * Containers in the Docker Engine API's shapes: ContainerInspectResponse
 * (`GET /containers/{id}/json`) and ContainerSummary (`GET
 * /containers/json`), made from the engine's view (record, stored options)
 * and the spec the engine wrote (config.json); networks and ports in
 * network-settings.ts.
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { logConfigOf } from '../../engine/spec/log-options.ts';
import type { ContainerView } from '../../engine/engine.ts';
import { CPU_PERIOD } from '../../engine/spec/resources.ts';
import type { Spec } from '../../oci/runtime-spec.ts';
import { volumePaths } from '../../engine/volumes/names.ts';
import { humanDuration } from '../../human-duration.ts';
import { parseSignalName } from './signals.ts';
import { exposedPorts, hostConfigNetwork, networkSettings, summaryNetworks, summaryPorts } from './network-settings.ts';

const ZERO_TIME = '0001-01-01T00:00:00Z';

/** Docker's State.Status: created, restarting, running, removing, paused, exited, dead. */
export function dockerStatus(v: ContainerView): string {
  if (v.restarting) return 'restarting';
  const s = v.record.state;
  return s === 'creating' ? 'created' : s;
}

function readSpec(v: ContainerView): Spec | undefined {
  try {
    return JSON.parse(readFileSync(v.paths.config, 'utf8')) as Spec;
  } catch {
    return undefined;
  }
}

/** A volume's `_data` directory: the engine's layout, `<root>/volumes/<name>/_data`, beside `<root>/containers/<id>`. */
const volumeSource = (v: ContainerView, name: string): string => volumePaths(dirname(dirname(v.paths.dir)), name).data;

/** Volumes the client named (`-v NAME:/path`): dockerd lists them in HostConfig.Binds as sent, and only the others in Config.Volumes. */
function namedVolumes(v: ContainerView): { name: string; target: string; readonly: boolean }[] {
  const out: { name: string; target: string; readonly: boolean }[] = [];
  for (const m of v.options.run.mounts) if (m.type === 'volume' && m.name !== undefined) out.push({ name: m.name, target: m.target, readonly: m.readonly });
  return out;
}

function mounts(v: ContainerView): Record<string, unknown>[] {
  const out: Record<string, unknown>[] = [];
  for (const m of v.options.run.mounts) {
    if (m.type === 'bind') {
      out.push({ Type: 'bind', Source: m.source, Destination: m.target, Mode: m.readonly ? 'ro' : '', RW: !m.readonly, Propagation: m.propagation ?? 'rprivate' });
    } else if (m.type === 'tmpfs') {
      out.push({ Type: 'tmpfs', Source: '', Destination: m.target, Mode: '', RW: true, Propagation: '' });
    }
  }
  for (const [target, name] of Object.entries(v.options.volumes)) {
    const req = v.options.run.mounts.find((m) => m.type === 'volume' && m.target === target);
    const readonly = req?.type === 'volume' ? req.readonly : false;
    out.push({ Type: 'volume', Name: name, Source: volumeSource(v, name), Destination: target, Driver: 'local', Mode: readonly ? 'ro' : 'z', RW: !readonly, Propagation: '' });
  }
  return out;
}

/** Config.Volumes: the anonymous ones (`-v /path`, the image's VOLUMEs); null when none, as dockerd has it. */
function anonymousVolumes(v: ContainerView): Record<string, object> | null {
  const named = new Set(namedVolumes(v).map((m) => m.target));
  const targets = Object.keys(v.options.volumes).filter((t) => !named.has(t));
  return targets.length > 0 ? Object.fromEntries(targets.map((t) => [t, {}])) : null;
}

function tmpfsField(list: ContainerView['options']['run']['mounts']): { Tmpfs?: Record<string, string> } {
  const tmpfs: [string, string][] = [];
  for (const m of list) if (m.type === 'tmpfs') tmpfs.push([m.target, m.options.join(',')]);
  return tmpfs.length > 0 ? { Tmpfs: Object.fromEntries(tmpfs) } : {};
}

function nanoCpus(spec: Spec | undefined): number {
  const cpu = spec?.linux?.resources?.cpu;
  // CpuQuota/CpuPeriod asked for apart (another period than --cpus'): shown as those, as docker does.
  if (cpu?.quota === undefined || cpu.period !== CPU_PERIOD) return 0;
  return Math.round((cpu.quota / cpu.period) * 1e9);
}

/**
 * The HostConfig fields of what berth never sets (create refuses them
 * unless at these values), as a berth container has them: dockerd and
 * podman list every field, and clients read them (`{{.HostConfig.Privileged}}`).
 */
function unsetHostConfig(spec: Spec | undefined): Record<string, unknown> {
  const cpu = spec?.linux?.resources?.cpu;
  // A period other than --cpus' came from CpuPeriod/CpuQuota (docker shows those apart from NanoCpus).
  const cfs = cpu?.period !== undefined && cpu.period !== CPU_PERIOD;
  return {
    ContainerIDFile: '', VolumeDriver: '', VolumesFrom: null, ConsoleSize: [0, 0], CgroupnsMode: 'private', GroupAdd: null, IpcMode: 'private',
    Cgroup: '', Links: null, OomScoreAdj: 0, PidMode: '', Privileged: false, UTSMode: '', UsernsMode: '', ShmSize: 64 * 1024 * 1024,
    Runtime: 'berth-runtime', Isolation: '', CgroupParent: '', BlkioWeight: 0, BlkioWeightDevice: [], BlkioDeviceReadBps: [],
    BlkioDeviceWriteBps: [], BlkioDeviceReadIOps: [], BlkioDeviceWriteIOps: [], CpuPeriod: cfs ? cpu.period : 0, CpuQuota: cfs ? (cpu.quota ?? 0) : 0,
    CpuRealtimePeriod: 0, CpuRealtimeRuntime: 0, CpusetCpus: '', CpusetMems: '', Devices: [], DeviceCgroupRules: null, DeviceRequests: null,
    MemoryReservation: 0, MemorySwappiness: null, OomKillDisable: false, KernelMemory: 0, KernelMemoryTCP: 0, CpuCount: 0, CpuPercent: 0, IOMaximumIOps: 0, IOMaximumBandwidth: 0,
    MaskedPaths: spec?.linux?.maskedPaths ?? [], ReadonlyPaths: spec?.linux?.readonlyPaths ?? [],
  };
}

export function statusText(v: ContainerView, health?: string, now = Date.now()): string {
  const r = v.record;
  const since = (t: string | null): number => now - (t === null ? now : Date.parse(t));
  switch (dockerStatus(v)) {
    case 'running':
      // dockerd's Health.String(): "health: starting", the others as they are.
      return `Up ${humanDuration(since(r.startedAt))}${health === undefined || health === 'none' ? '' : ` (${health === 'starting' ? 'health: starting' : health})`}`;
    case 'paused':
      return `Up ${humanDuration(since(r.startedAt))} (Paused)`;
    case 'restarting':
      return `Restarting (${r.exitCode ?? 0}) ${humanDuration(since(r.finishedAt))} ago`;
    case 'exited':
      return `Exited (${r.exitCode ?? 0}) ${humanDuration(since(r.finishedAt))} ago`;
    case 'removing':
      return 'Removal In Progress';
    case 'dead':
      return 'Dead';
    default:
      return 'Created';
  }
}

export function inspectContainer(v: ContainerView, extra: { health?: unknown; execIds?: string[]; logLimits?: { maxSize: number; maxFiles: number } } = {}): Record<string, unknown> {
  const r = v.record;
  const o = v.options;
  const spec = readSpec(v);
  const p = spec?.process;
  const status = dockerStatus(v);
  const res = spec?.linux?.resources;
  const run = o.run;
  return {
    Id: r.id,
    Created: r.createdAt,
    Path: o.command[0] ?? '',
    Args: o.command.slice(1),
    State: {
      Status: status,
      Running: status === 'running' || status === 'paused' || status === 'restarting',
      Paused: status === 'paused',
      Restarting: status === 'restarting',
      OOMKilled: existsSync(`${v.paths.dir}/oom`),
      Dead: status === 'dead',
      Pid: r.pid ?? 0,
      ExitCode: r.exitCode ?? 0,
      Error: r.error ?? '',
      StartedAt: r.startedAt ?? ZERO_TIME,
      FinishedAt: r.finishedAt ?? ZERO_TIME,
      ...(extra.health === undefined ? {} : { Health: extra.health }),
    },
    Image: r.imageId,
    ResolvConfPath: v.paths.resolvConf,
    HostnamePath: v.paths.hostname,
    HostsPath: v.paths.hosts,
    LogPath: v.paths.log,
    Name: `/${r.name}`,
    RestartCount: r.restartCount,
    Driver: 'overlay',
    Platform: 'linux',
    MountLabel: '',
    ProcessLabel: '',
    AppArmorProfile: '',
    ExecIDs: extra.execIds && extra.execIds.length > 0 ? extra.execIds : null,
    HostConfig: {
      Binds: [
        ...run.mounts.filter((m) => m.type === 'bind').map((m) => (m.type === 'bind' ? `${m.source}:${m.target}${m.readonly ? ':ro' : ''}` : '')),
        ...namedVolumes(v).map((m) => `${m.name}:${m.target}${m.readonly ? ':ro' : ''}`),
      ],
      NetworkMode: run.network,
      ...hostConfigNetwork(v),
      RestartPolicy: { Name: r.restartPolicy.name, MaximumRetryCount: r.restartPolicy.maximumRetryCount },
      AutoRemove: run.autoRemove,
      CapAdd: run.security.capAdd.length > 0 ? run.security.capAdd : null,
      CapDrop: run.security.capDrop.length > 0 ? run.security.capDrop : null,
      ReadonlyRootfs: run.readOnly,
      SecurityOpt: [
        ...(run.security.noNewPrivileges ? ['no-new-privileges'] : []),
        ...(run.security.seccomp.kind === 'unconfined' ? ['seccomp=unconfined'] : run.security.seccomp.kind === 'file' ? [`seccomp=${run.security.seccomp.path}`] : []),
      ],
      // Tmpfs and Init are omitempty in dockerd's HostConfig: absent unless asked for.
      ...tmpfsField(run.mounts),
      Memory: res?.memory?.limit ?? 0,
      MemorySwap: res?.memory?.swap ?? 0,
      NanoCpus: nanoCpus(spec),
      CpuShares: res?.cpu?.shares ?? 0,
      PidsLimit: res?.pids?.limit ?? null,
      Ulimits: run.rlimits.map((l) => ({ Name: l.type.replace(/^RLIMIT_/, '').toLowerCase(), Soft: l.soft, Hard: l.hard })),
      ...(run.init ? { Init: true } : {}),
      LogConfig: extra.logLimits === undefined ? { Type: run.log?.driver ?? 'k8s-file', Config: {} } : logConfigOf(run.log, extra.logLimits),
      ...unsetHostConfig(spec),
    },
    GraphDriver: { Name: 'overlay', Data: { MergedDir: v.paths.rootfs } },
    Mounts: mounts(v),
    Config: {
      Hostname: spec?.hostname ?? r.id.slice(0, 12),
      Domainname: '',
      User: run.user ?? '',
      AttachStdin: o.openStdin,
      AttachStdout: true,
      AttachStderr: true,
      Tty: o.tty,
      OpenStdin: o.openStdin,
      StdinOnce: o.stdinOnce,
      Env: p?.env ?? [],
      Cmd: run.entrypoint !== undefined || o.args.length > 0 ? o.args : o.command,
      Image: r.imageRef,
      Volumes: anonymousVolumes(v),
      WorkingDir: p?.cwd ?? '/',
      Entrypoint: run.entrypoint ?? null,
      OnBuild: null,
      Labels: r.labels,
      StopSignal: parseSignalName(o.stopSignal),
      StopTimeout: o.stopTimeout,
      ExposedPorts: exposedPorts(v),
      ...(o.health === undefined ? {} : { Healthcheck: o.health }),
    },
    NetworkSettings: networkSettings(v),
  };
}

export function summarizeContainer(v: ContainerView, health?: string, now = Date.now()): Record<string, unknown> {
  const r = v.record;
  return {
    Id: r.id,
    Names: [`/${r.name}`],
    Image: r.imageRef,
    ImageID: r.imageId,
    Command: v.options.command.map((a) => (/[\s"']/.test(a) ? JSON.stringify(a) : a)).join(' '),
    Created: Math.floor(Date.parse(r.createdAt) / 1000),
    Ports: summaryPorts(v),
    Labels: r.labels,
    State: dockerStatus(v),
    Status: statusText(v, health, now),
    HostConfig: { NetworkMode: v.options.run.network },
    NetworkSettings: summaryNetworks(v),
    Mounts: mounts(v),
  };
}
