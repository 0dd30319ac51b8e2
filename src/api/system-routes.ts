/**
 * The daemon's own routes, in dockerd's shapes so the docker CLI and SDKs
 * negotiate and report against berthd: `/_ping` (GET and HEAD), `/version`,
 * `/info`, Prometheus' `/metrics`, and berth's `POST /berth/shutdown`
 * (stops the daemon, never the containers). `/info` says only what berthd
 * knows to be true; the engine adds its counts through a hook.
 */
import { randomUUID } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, statfsSync, writeFileSync } from 'node:fs';
import { arch, availableParallelism, hostname, release, totalmem } from 'node:os';
import { join } from 'node:path';
import { errnoCode } from '../errors.ts';
import { BERTH_VERSION } from '../runtime/features.ts';
import type { DaemonPaths } from './paths.ts';
import { bytes, json, type Reply } from './reply.ts';
import { absentRoutes } from './routes/absent.ts';
import { API_VERSION, MIN_API_VERSION } from './router.ts';
import type { ApiServer } from './server.ts';

export { BERTH_VERSION };

/** What the engine knows and the daemon does not: filled by whoever registers the engine's routes. */
export interface InfoHooks {
  counts?: () => Promise<EngineCounts> | EngineCounts;
  /** The snapshot driver ("overlay" or "copy"). */
  driver?: () => Promise<string> | string;
}

export interface EngineCounts {
  Containers: number;
  ContainersRunning: number;
  ContainersPaused: number;
  ContainersStopped: number;
  Images: number;
}

/** Go's GOARCH names, which Docker clients expect. */
export function goArch(nodeArch: string = arch()): string {
  const names: Record<string, string> = { x64: 'amd64', ia32: '386', arm64: 'arm64', arm: 'arm', ppc64: 'ppc64le', s390x: 's390x', riscv64: 'riscv64' };
  return names[nodeArch] ?? nodeArch;
}

function osRelease(): Record<string, string> {
  const out: Record<string, string> = {};
  try {
    for (const line of readFileSync('/etc/os-release', 'utf8').split('\n')) {
      const m = /^([A-Z_]+)=(.*)$/.exec(line);
      if (m !== null) out[m[1] ?? ''] = (m[2] ?? '').replace(/^"(.*)"$/, '$1');
    }
  } catch {
    // no os-release: the fields stay empty, as dockerd leaves them
  }
  return out;
}

const CGROUP2_SUPER_MAGIC = 0x63677270;

/** "2" on a unified hierarchy; "1" on v1 and hybrid hosts (Docker counts hybrid as 1). */
export function cgroupVersion(): string {
  try {
    return statfsSync('/sys/fs/cgroup').type === CGROUP2_SUPER_MAGIC ? '2' : '1';
  } catch {
    return '1';
  }
}

/** The daemon's ID, made once and kept under the root (dockerd keeps one in its root too). */
export function daemonId(root: string): string {
  const file = join(root, 'berthd.id');
  try {
    const id = readFileSync(file, 'utf8').trim();
    if (/^[0-9a-f-]{36}$/.test(id)) return id;
  } catch (err) {
    if (errnoCode(err) !== 'ENOENT') throw err;
  }
  const id = randomUUID();
  mkdirSync(root, { recursive: true, mode: 0o700 });
  writeFileSync(file, `${id}\n`, { mode: 0o644 });
  return id;
}

function openFds(): number {
  try {
    return readdirSync('/proc/self/fd').length;
  } catch {
    return 0;
  }
}

async function defaultDriver(root: string): Promise<string> {
  const { detectDriver } = await import('../image/snapshot/detect.ts');
  const dir = join(root, 'snapshots');
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  return detectDriver(dir);
}

export function versionBody(): Record<string, unknown> {
  const details = { ApiVersion: API_VERSION, MinAPIVersion: MIN_API_VERSION, Os: 'linux', Arch: goArch(), KernelVersion: release(), Experimental: 'false' };
  return {
    Platform: { Name: 'berth' },
    Components: [
      { Name: 'Engine', Version: BERTH_VERSION, Details: details },
      { Name: 'Node.js', Version: process.versions.node, Details: {} },
    ],
    Version: BERTH_VERSION,
    ApiVersion: API_VERSION,
    MinAPIVersion: MIN_API_VERSION,
    Os: 'linux',
    Arch: goArch(),
    KernelVersion: release(),
  };
}

export async function infoBody(paths: DaemonPaths, id: string, hooks: InfoHooks): Promise<Record<string, unknown>> {
  const counts: EngineCounts = (await hooks.counts?.()) ?? { Containers: 0, ContainersRunning: 0, ContainersPaused: 0, ContainersStopped: 0, Images: 0 };
  const os = osRelease();
  return {
    ID: id,
    ...counts,
    Driver: await (hooks.driver ?? (() => defaultDriver(paths.root)))(),
    DriverStatus: [],
    DockerRootDir: paths.root,
    CgroupDriver: 'cgroupfs',
    CgroupVersion: cgroupVersion(),
    NFd: openFds(),
    SystemTime: new Date().toISOString(),
    KernelVersion: release(),
    OperatingSystem: os['PRETTY_NAME'] ?? 'Linux',
    OSVersion: os['VERSION_ID'] ?? '',
    OSType: 'linux',
    Architecture: goArch() === 'amd64' ? 'x86_64' : goArch() === 'arm64' ? 'aarch64' : goArch(),
    NCPU: availableParallelism(),
    MemTotal: totalmem(),
    Name: hostname(),
    Labels: [],
    ExperimentalBuild: false,
    ServerVersion: BERTH_VERSION,
    // What berth has: named volumes of the local driver, the host's network or none, its own init and runtime.
    Plugins: { Volume: ['local'], Network: ['host', 'null'], Log: [] },
    Swarm: { LocalNodeState: 'inactive', ControlAvailable: false },
    Runtimes: { 'berth-runtime': { path: 'berth-runtime' } },
    DefaultRuntime: 'berth-runtime',
    InitBinary: 'berth-init',
    SecurityOptions: ['name=seccomp,profile=builtin'],
    Warnings: [],
  };
}

export interface SystemRoutesOptions {
  paths: DaemonPaths;
  hooks: InfoHooks;
  /** Called after the shutdown request's answer is written. */
  shutdown: () => void;
  startedAt: number;
}

export function registerSystemRoutes(server: ApiServer, options: SystemRoutesOptions): void {
  const { router, metrics } = server;
  const ping = (): Reply => ({
    type: 'bytes',
    status: 200,
    body: 'OK',
    contentType: 'text/plain; charset=utf-8',
    headers: { 'Cache-Control': 'no-cache, no-store, must-revalidate', Pragma: 'no-cache', Swarm: 'inactive' },
  });
  router.get('/_ping', ping);
  router.head('/_ping', ping);
  router.get('/version', () => json(versionBody()));
  const id = daemonId(options.paths.root);
  router.get('/info', async () => json(await infoBody(options.paths, id, options.hooks)));
  absentRoutes(router);

  metrics.collect('process_resident_memory_bytes', 'Resident memory of berthd in bytes', () => process.memoryUsage.rss());
  metrics.collect('process_start_time_seconds', 'When berthd started, in seconds since the epoch', () => Math.floor(options.startedAt / 1000));
  metrics.collect('berth_uptime_seconds', 'Seconds since berthd started', () => Math.round((Date.now() - options.startedAt) / 1000));
  metrics.collect('process_open_fds', 'Open file descriptors of berthd', openFds);
  router.get('/metrics', () => bytes(metrics.render(), 'text/plain; version=0.0.4; charset=utf-8'));

  router.post('/berth/shutdown', () => {
    setImmediate(options.shutdown);
    return json({ message: 'berthd is stopping; containers keep running' });
  });
}
