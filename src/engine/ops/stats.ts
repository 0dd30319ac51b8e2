/**
 * `GET /containers/{id}/stats`: one sample in Docker's stats JSON
 * (types.StatsJSON), from the container's cgroup (v1, v2 and hybrid, read
 * by the runtime's cgroup library from the paths in state.json), the host's
 * /proc/stat and the container's /proc/PID/net/dev:
 *
 *   let s = await readStats(record.cgroupPaths, pid);           // precpu empty (one-shot)
 *   s = await readStats(record.cgroupPaths, pid, { previous: s }); // a stream: precpu = the sample before
 *   cpuPercent(s); memoryUsage(s);                              // the docker CLI's figures
 *
 * What dockerd does and this keeps: `memory_stats.limit` is the host's
 * memory when the cgroup's limit is larger (unlimited); `system_cpu_usage`
 * is the host's CPU time in ns from /proc/stat's first line (user through
 * softirq), `online_cpus` its "cpuN" lines; v1 blkio lists every recursive
 * file, v2 only service bytes, with ops "read"/"write" (dockerd's v2
 * words); `networks` are the interfaces of the container's network
 * namespace but `lo`, left out when there are none (--network none) or when
 * no pid is given (give none for --network host: dockerd shows no networks
 * there). `name` and `id` are the caller's to add.
 */
import { readFile } from 'node:fs/promises';
import { totalmem } from 'node:os';
import { failedPrecondition } from '../../errors.ts';
import { cgroupFromPaths, type BlkioEntry, type CgroupPaths, type CgroupStats } from '../../runtime/cgroups/index.ts';

export interface CpuStatsJson {
  cpu_usage: { total_usage: number; percpu_usage?: number[]; usage_in_kernelmode: number; usage_in_usermode: number };
  system_cpu_usage?: number;
  online_cpus?: number;
  throttling_data: { periods: number; throttled_periods: number; throttled_time: number };
}

export interface MemoryStatsJson {
  usage?: number;
  max_usage?: number;
  stats?: Record<string, number>;
  failcnt?: number;
  limit?: number;
}

export interface BlkioEntryJson {
  major: number;
  minor: number;
  op: string;
  value: number;
}

const BLKIO_KEYS = [
  'io_service_bytes_recursive',
  'io_serviced_recursive',
  'io_queue_recursive',
  'io_service_time_recursive',
  'io_wait_time_recursive',
  'io_merged_recursive',
  'io_time_recursive',
  'sectors_recursive',
] as const;

/** Go's nil slices are JSON null. */
export type BlkioStatsJson = Record<(typeof BLKIO_KEYS)[number], BlkioEntryJson[] | null>;

export interface NetworkStatsJson {
  rx_bytes: number;
  rx_packets: number;
  rx_errors: number;
  rx_dropped: number;
  tx_bytes: number;
  tx_packets: number;
  tx_errors: number;
  tx_dropped: number;
}

export interface DockerStats {
  read: string;
  preread: string;
  pids_stats: { current?: number; limit?: number };
  blkio_stats: BlkioStatsJson;
  num_procs: number;
  storage_stats: Record<string, never>;
  cpu_stats: CpuStatsJson;
  precpu_stats: CpuStatsJson;
  memory_stats: MemoryStatsJson;
  networks?: Record<string, NetworkStatsJson>;
}

export interface ReadStatsOptions {
  /** The sample before (a stream): its read time and cpu stats become preread and precpu_stats. */
  previous?: DockerStats | undefined;
  /** A fake cgroupfs tree (tests). */
  fsRoot?: string;
  /** Where /proc is (tests); "/proc" by default. */
  procRoot?: string;
  /** The host's memory in bytes; os.totalmem() by default. */
  hostMemory?: number;
  now?: Date;
}

/** Go's zero time, as dockerd sends preread before a first sample. */
export const ZERO_TIME = '0001-01-01T00:00:00Z';
/** USER_HZ: /proc/stat counts ticks of 1/100 s on Linux. */
const NS_PER_TICK = 1e7;

export const emptyCpuStats = (): CpuStatsJson => ({
  cpu_usage: { total_usage: 0, usage_in_kernelmode: 0, usage_in_usermode: 0 },
  throttling_data: { periods: 0, throttled_periods: 0, throttled_time: 0 },
});

/** /proc/stat: the host's CPU time in ns (user, nice, system, idle, iowait, irq, softirq) and the online CPUs. */
export function parseProcStat(text: string): { systemUsage: number; onlineCpus: number } {
  let systemUsage: number | undefined;
  let onlineCpus = 0;
  for (const line of text.split('\n')) {
    const parts = line.trim().split(/\s+/);
    if (parts[0] === 'cpu') {
      const ticks = parts.slice(1, 8).map(Number);
      if (ticks.length < 7 || ticks.some((n) => !Number.isFinite(n))) throw failedPrecondition('stats_proc_stat', `/proc/stat: malformed cpu line "${line}"`);
      systemUsage = ticks.reduce((a, b) => a + b, 0) * NS_PER_TICK;
    } else if (/^cpu[0-9]+$/.test(parts[0] ?? '')) onlineCpus++;
  }
  if (systemUsage === undefined) throw failedPrecondition('stats_proc_stat', '/proc/stat: no cpu line');
  return { systemUsage, onlineCpus };
}

/** /proc/PID/net/dev: per interface, lo left out. */
export function parseNetDev(text: string): Record<string, NetworkStatsJson> {
  const out: Record<string, NetworkStatsJson> = {};
  for (const line of text.split('\n').slice(2)) {
    const colon = line.indexOf(':');
    if (colon === -1) continue;
    const name = line.slice(0, colon).trim();
    const n = line.slice(colon + 1).trim().split(/\s+/).map(Number);
    if (name === 'lo' || n.length < 16) continue;
    const at = (i: number): number => n[i] ?? 0;
    out[name] = {
      rx_bytes: at(0), rx_packets: at(1), rx_errors: at(2), rx_dropped: at(3),
      tx_bytes: at(8), tx_packets: at(9), tx_errors: at(10), tx_dropped: at(11),
    };
  }
  return out;
}

function blkioEntries(list: BlkioEntry[] | undefined, op?: (op: string) => string): BlkioEntryJson[] | null {
  if (list === undefined || list.length === 0) return null;
  return list.map((e) => ({ major: e.major ?? 0, minor: e.minor ?? 0, op: op === undefined ? (e.op ?? '') : op(e.op ?? ''), value: e.value ?? 0 }));
}

/** runc's stats (the cgroup library's) in Docker's words. */
export function dockerCgroupStats(s: CgroupStats, v2: boolean, hostMemory: number): Pick<DockerStats, 'cpu_stats' | 'memory_stats' | 'pids_stats' | 'blkio_stats'> {
  const cpu: CpuStatsJson = {
    cpu_usage: { total_usage: s.cpu.usage.total ?? 0, usage_in_kernelmode: s.cpu.usage.kernel, usage_in_usermode: s.cpu.usage.user },
    throttling_data: { periods: s.cpu.throttling.periods ?? 0, throttled_periods: s.cpu.throttling.throttledPeriods ?? 0, throttled_time: s.cpu.throttling.throttledTime ?? 0 },
  };
  if (s.cpu.usage.percpu !== undefined) cpu.cpu_usage.percpu_usage = s.cpu.usage.percpu;
  const memory: MemoryStatsJson = {};
  const put = (key: 'usage' | 'max_usage' | 'failcnt' | 'limit', value: number | undefined): void => {
    if (value !== undefined && value !== 0) memory[key] = value;
  };
  put('usage', s.memory.usage.usage);
  if (!v2) {
    put('max_usage', s.memory.usage.max);
    put('failcnt', s.memory.usage.failcnt);
  }
  if (s.memory.raw !== undefined) memory.stats = s.memory.raw;
  put('limit', Math.min(s.memory.usage.limit, hostMemory));
  const blkio = Object.fromEntries(BLKIO_KEYS.map((k) => [k, null])) as BlkioStatsJson;
  if (v2) {
    // dockerd's v2 reader reports service bytes only, "read"/"write" in lower case.
    blkio.io_service_bytes_recursive = blkioEntries(s.blkio.ioServiceBytesRecursive?.filter((e) => e.op === 'Read' || e.op === 'Write'), (op) => op.toLowerCase());
  } else {
    const from: Record<(typeof BLKIO_KEYS)[number], BlkioEntry[] | undefined> = {
      io_service_bytes_recursive: s.blkio.ioServiceBytesRecursive,
      io_serviced_recursive: s.blkio.ioServicedRecursive,
      io_queue_recursive: s.blkio.ioQueueRecursive,
      io_service_time_recursive: s.blkio.ioServiceTimeRecursive,
      io_wait_time_recursive: s.blkio.ioWaitTimeRecursive,
      io_merged_recursive: s.blkio.ioMergedRecursive,
      io_time_recursive: s.blkio.ioTimeRecursive,
      sectors_recursive: s.blkio.sectorsRecursive,
    };
    for (const k of BLKIO_KEYS) blkio[k] = blkioEntries(from[k]);
  }
  const pids: DockerStats['pids_stats'] = {};
  if (s.pids.current !== undefined && s.pids.current !== 0) pids.current = s.pids.current;
  if (s.pids.limit !== undefined && s.pids.limit !== 0) pids.limit = s.pids.limit;
  return { cpu_stats: cpu, memory_stats: memory, pids_stats: pids, blkio_stats: blkio };
}

/** One sample of the container's stats. */
export async function readStats(paths: CgroupPaths, pid: number | undefined, options: ReadStatsOptions = {}): Promise<DockerStats> {
  const proc = options.procRoot ?? '/proc';
  const cgroupOptions = options.fsRoot === undefined ? {} : { fsRoot: options.fsRoot };
  const now = options.now ?? new Date();
  const cg = await cgroupFromPaths(paths, cgroupOptions).stats();
  const host = parseProcStat(await readFile(`${proc}/stat`, 'latin1'));
  const parts = dockerCgroupStats(cg, paths.mode === 'v2', options.hostMemory ?? totalmem());
  parts.cpu_stats.system_cpu_usage = host.systemUsage;
  parts.cpu_stats.online_cpus = host.onlineCpus;
  const stats: DockerStats = {
    read: now.toISOString(),
    preread: options.previous?.read ?? ZERO_TIME,
    pids_stats: parts.pids_stats,
    blkio_stats: parts.blkio_stats,
    num_procs: 0,
    storage_stats: {},
    cpu_stats: parts.cpu_stats,
    precpu_stats: options.previous?.cpu_stats ?? emptyCpuStats(),
    memory_stats: parts.memory_stats,
  };
  if (pid !== undefined) {
    // The process may have exited since its pid was read: then there is nothing to say about its network.
    const text = await readFile(`${proc}/${pid}/net/dev`, 'latin1').catch(() => undefined);
    const networks = text === undefined ? {} : parseNetDev(text);
    if (Object.keys(networks).length > 0) stats.networks = networks;
  }
  return stats;
}

/**
 * CPU % as the docker CLI shows it: the container's CPU time over the
 * host's since the sample before, times the online CPUs (so 200% is two
 * CPUs busy). 0 without a sample before.
 */
export function cpuPercent(s: DockerStats): number {
  const cpuDelta = s.cpu_stats.cpu_usage.total_usage - s.precpu_stats.cpu_usage.total_usage;
  const systemDelta = (s.cpu_stats.system_cpu_usage ?? 0) - (s.precpu_stats.system_cpu_usage ?? 0);
  const given = s.cpu_stats.online_cpus ?? 0;
  const online = given !== 0 ? given : (s.cpu_stats.cpu_usage.percpu_usage?.length ?? 0);
  return systemDelta > 0 && cpuDelta > 0 ? (cpuDelta / systemDelta) * online * 100 : 0;
}

/**
 * MEM USAGE / LIMIT and MEM % as the docker CLI shows them. The CLI does
 * not show the cgroup's usage as it is: it subtracts the page cache that
 * the kernel can drop first, `total_inactive_file` on cgroup v1 and
 * `inactive_file` on v2 (older CLIs subtracted `cache`); so does this.
 */
export function memoryUsage(s: DockerStats): { used: number; limit: number; percent: number } {
  const usage = s.memory_stats.usage ?? 0;
  const st = s.memory_stats.stats ?? {};
  const v1 = st['total_inactive_file'];
  const v2 = st['inactive_file'] ?? 0;
  const used = v1 !== undefined && v1 < usage ? usage - v1 : v2 < usage ? usage - v2 : usage;
  const limit = s.memory_stats.limit ?? 0;
  return { used, limit, percent: limit === 0 ? 0 : (used / limit) * 100 };
}

/** NET I/O as the docker CLI sums it over the interfaces. */
export function networkIO(s: DockerStats): { rx: number; tx: number } {
  let rx = 0;
  let tx = 0;
  for (const n of Object.values(s.networks ?? {})) {
    rx += n.rx_bytes;
    tx += n.tx_bytes;
  }
  return { rx, tx };
}

/** BLOCK I/O as the docker CLI sums it: service bytes read and written, whatever the case of the op. */
export function blockIO(s: DockerStats): { read: number; write: number } {
  let read = 0;
  let write = 0;
  for (const e of s.blkio_stats.io_service_bytes_recursive ?? []) {
    const op = e.op.toLowerCase();
    if (op === 'read') read += e.value;
    else if (op === 'write') write += e.value;
  }
  return { read, write };
}
