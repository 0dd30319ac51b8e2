/**
 * `berth stats` as `docker stats` prints it, from Docker's stats JSON
 * (`GET /containers/{id}/stats`): CPU % from cpu_stats against
 * precpu_stats scaled by the online CPUs, memory without the inactive page
 * cache (cgroup v2 inactive_file, v1 total_inactive_file), the summed
 * network and block I/O; memory in binary units (BytesSize, "12.3MiB"), I/O
 * in decimal ones with three digits (HumanSizeWithPrecision, "1.5MB"),
 * exactly as docker's CLI chooses them.
 */
import { internal } from '../../../errors.ts';
import { renderList } from './list.ts';
import { marshalContext, TYPE_NAME } from './template.ts';
import { bytesSize, formatFixed, humanSizeWithPrecision, truncateId } from '../../../go-units.ts';

export interface StatsEntry {
  /** The container as the user named it (the ID when all are listed). */
  container: string;
  /** With docker's leading "/". */
  name: string;
  id: string;
  cpuPercentage: number;
  memory: number;
  memoryLimit: number;
  memoryPercentage: number;
  networkRx: number;
  networkTx: number;
  blockRead: number;
  blockWrite: number;
  pidsCurrent: number;
  /** No answer in time: every value shows "--". */
  isInvalid: boolean;
}

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const rec = (v: unknown): Record<string, unknown> => (isRecord(v) ? v : {});
const num = (v: unknown): number => (typeof v === 'number' && Number.isFinite(v) ? v : 0);

interface CpuStats {
  total: number;
  system: number;
  online: number;
}

function cpuStats(v: unknown): CpuStats {
  const s = rec(v);
  const usage = rec(s['cpu_usage']);
  const percpu = usage['percpu_usage'];
  const online = num(s['online_cpus']);
  return { total: num(usage['total_usage']), system: num(s['system_cpu_usage']), online: online === 0 && Array.isArray(percpu) ? percpu.length : online };
}

/** docker's calculateCPUPercentUnix. */
export function cpuPercent(previous: CpuStats, current: CpuStats): number {
  const cpuDelta = current.total - previous.total;
  const systemDelta = current.system - previous.system;
  return systemDelta > 0 && cpuDelta > 0 ? (cpuDelta / systemDelta) * current.online * 100 : 0;
}

/** docker's calculateMemUsageUnixNoCache. */
export function memoryUsage(memoryStats: unknown): number {
  const m = rec(memoryStats);
  const usage = num(m['usage']);
  const stats = rec(m['stats']);
  const v1 = stats['total_inactive_file'];
  if (typeof v1 === 'number' && v1 < usage) return usage - v1;
  const v2 = num(stats['inactive_file']);
  return v2 < usage ? usage - v2 : usage;
}

function blockIo(blkio: unknown): [number, number] {
  let read = 0;
  let write = 0;
  const list = rec(blkio)['io_service_bytes_recursive'];
  for (const e of Array.isArray(list) ? list : []) {
    const op = rec(e)['op'];
    const first = typeof op === 'string' ? op[0] : undefined;
    if (first === 'r' || first === 'R') read += num(rec(e)['value']);
    if (first === 'w' || first === 'W') write += num(rec(e)['value']);
  }
  return [read, write];
}

function network(networks: unknown): [number, number] {
  let rx = 0;
  let tx = 0;
  for (const n of Object.values(rec(networks))) {
    rx += num(rec(n)['rx_bytes']);
    tx += num(rec(n)['tx_bytes']);
  }
  return [rx, tx];
}

/** One stats answer from the daemon as the row docker shows. */
export function statsEntry(container: string, stats: unknown): StatsEntry {
  if (!isRecord(stats)) throw internal('daemon_response_invalid', `stats of container "${container}" from the daemon: not an object`);
  const memory = memoryUsage(stats['memory_stats']);
  const limit = num(rec(stats['memory_stats'])['limit']);
  const [networkRx, networkTx] = network(stats['networks']);
  const [blockRead, blockWrite] = blockIo(stats['blkio_stats']);
  return {
    container,
    name: typeof stats['name'] === 'string' ? stats['name'] : '',
    id: typeof stats['id'] === 'string' ? stats['id'] : '',
    cpuPercentage: cpuPercent(cpuStats(stats['precpu_stats']), cpuStats(stats['cpu_stats'])),
    memory,
    memoryLimit: limit,
    memoryPercentage: limit !== 0 ? (memory / limit) * 100 : 0,
    networkRx,
    networkTx,
    blockRead,
    blockWrite,
    pidsCurrent: num(rec(stats['pids_stats'])['current']),
    isInvalid: false,
  };
}

/** A container whose stats did not come (docker zeroes and shows "--"). */
export function invalidStatsEntry(container: string): StatsEntry {
  return { container, name: '', id: '', cpuPercentage: 0, memory: 0, memoryLimit: 0, memoryPercentage: 0, networkRx: 0, networkTx: 0, blockRead: 0, blockWrite: 0, pidsCurrent: 0, isInvalid: true };
}

const percentage = (v: number): string => `${formatFixed(v, 2)}%`;

/** docker's statsContext (Linux): what a --format template sees. */
export function statsContext(s: StatsEntry, trunc: boolean): Record<string | symbol, unknown> {
  return {
    [TYPE_NAME]: '*container.statsContext',
    BlockIO: s.isInvalid ? '--' : `${humanSizeWithPrecision(s.blockRead, 3)} / ${humanSizeWithPrecision(s.blockWrite, 3)}`,
    CPUPerc: s.isInvalid ? '--' : percentage(s.cpuPercentage),
    Container: s.container,
    ID: trunc ? truncateId(s.id) : s.id,
    MemPerc: s.isInvalid ? '--' : percentage(s.memoryPercentage),
    MemUsage: s.isInvalid ? '-- / --' : `${bytesSize(s.memory)} / ${bytesSize(s.memoryLimit)}`,
    Name: s.name.length > 1 ? s.name.slice(1) : '--',
    NetIO: s.isInvalid ? '--' : `${humanSizeWithPrecision(s.networkRx, 3)} / ${humanSizeWithPrecision(s.networkTx, 3)}`,
    PIDs: s.isInvalid ? '--' : String(s.pidsCurrent),
    MarshalJSON: marshalContext,
  };
}

const DEFAULT_TABLE = 'table {{.ID}}\t{{.Name}}\t{{.CPUPerc}}\t{{.MemUsage}}\t{{.MemPerc}}\t{{.NetIO}}\t{{.BlockIO}}\t{{.PIDs}}';

const STATS_HEADER = {
  Container: 'CONTAINER',
  Name: 'NAME',
  ID: 'CONTAINER ID',
  CPUPerc: 'CPU %',
  MemUsage: 'MEM USAGE / LIMIT',
  MemPerc: 'MEM %',
  NetIO: 'NET I/O',
  BlockIO: 'BLOCK I/O',
  PIDs: 'PIDS',
};

/** One screen of `stats` (without --format: docker's table). */
export function renderStats(entries: readonly StatsEntry[], format: string | undefined, trunc = true): string {
  const f = format === undefined || format === '' || format === 'table' ? DEFAULT_TABLE : format;
  return renderList(f, entries.map((e) => statsContext(e, trunc)), STATS_HEADER);
}
