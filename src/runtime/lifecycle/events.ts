/**
 * `events`: what runc's events command prints, as data. A stats event
 * carries runc's types.Stats (cpu, cpuset, memory, pids, blkio, hugetlb,
 * intel_rdt, network_interfaces, in that order); an oom event says the
 * kernel OOM-killed a process of the container. The stream ends when the
 * container's first process is gone or its cgroup is removed.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { errnoCode, failedPrecondition } from '../../errors.ts';
import { type CgroupPaths, type CgroupStats, watchOom } from '../cgroups/index.ts';
import { isAlive } from '../state/proc.ts';
import type { ContainerRecord } from '../state/store.ts';
import { cgroupOf } from './cgroup.ts';
import { type RuntimeContext, warn } from './context.ts';
import { containerStatus } from './status.ts';

/** runc's types.CPUSet: the lists, and the v1 flags as numbers. */
export interface CpusetStats {
  cpus?: number[];
  cpu_exclusive: number;
  mems?: number[];
  mem_hardwall: number;
  mem_exclusive: number;
  memory_migrate: number;
  memory_spread_page: number;
  memory_spread_slab: number;
  memory_pressure: number;
  sched_load_balance: number;
  sched_relax_domain_level: number;
}

export type RuncStats = Pick<CgroupStats, 'cpu'> & { cpuset: CpusetStats } & Omit<CgroupStats, 'cpu'> & {
  intel_rdt: Record<string, never>;
  network_interfaces: null;
};

export interface RuntimeEvent {
  type: 'stats' | 'oom';
  id: string;
  data?: RuncStats;
}

/** How often the OOM counter is read (v1 control files do not notify). */
const OOM_POLL_MS = 50;
/** How often the container's first process is looked for. */
const ALIVE_POLL_MS = 50;

/** "0-2,5" → [0, 1, 2, 5]. */
export function parseCpuList(text: string): number[] {
  const out: number[] = [];
  for (const part of text.trim().split(',')) {
    const m = /^(\d+)(?:-(\d+))?$/.exec(part.trim());
    if (m === null) continue;
    const from = Number(m[1]);
    const to = m[2] === undefined ? from : Number(m[2]);
    for (let n = from; n <= to && out.length < 65536; n++) out.push(n);
  }
  return out;
}

async function readText(dir: string, file: string): Promise<string | undefined> {
  try {
    return await readFile(join(dir, file), 'utf8');
  } catch (err) {
    if (['ENOENT', 'EOPNOTSUPP', 'EINVAL', 'ENODEV'].includes(errnoCode(err) ?? '')) return undefined;
    throw err;
  }
}

/**
 * cpuset is the one part of runc's stats the cgroup library does not report
 * (it reads no cpuset files); these are plain reads of the container's own
 * cpuset directory (v1) or of the effective lists (v2).
 */
export async function cpusetStats(paths: CgroupPaths): Promise<CpusetStats> {
  const v2 = paths.mode === 'v2';
  const dir = v2 ? paths.dirs['unified'] : paths.dirs['cpuset'];
  const flags = ['cpu_exclusive', 'mem_hardwall', 'mem_exclusive', 'memory_migrate', 'memory_spread_page', 'memory_spread_slab', 'memory_pressure', 'sched_load_balance', 'sched_relax_domain_level'] as const;
  const out: CpusetStats = Object.fromEntries(flags.map((f) => [f, 0])) as unknown as CpusetStats;
  if (dir === undefined) return out;
  const cpus = parseCpuList((await readText(dir, v2 ? 'cpuset.cpus.effective' : 'cpuset.cpus')) ?? '');
  const mems = parseCpuList((await readText(dir, v2 ? 'cpuset.mems.effective' : 'cpuset.mems')) ?? '');
  if (cpus.length > 0) out.cpus = cpus;
  if (mems.length > 0) out.mems = mems;
  if (!v2) {
    for (const f of flags) {
      const n = Number((await readText(dir, `cpuset.${f}`))?.trim());
      if (Number.isFinite(n)) out[f] = n;
    }
  }
  // Keep runc's key order: cpus, cpu_exclusive, mems, then the rest.
  const { cpus: c, cpu_exclusive, mems: m, ...rest } = out;
  return { ...(c && { cpus: c }), cpu_exclusive, ...(m && { mems: m }), ...rest };
}

/** Keys in the order runc's encoder writes them, so the output diffs cleanly against runc's. */
function runcOrder(s: CgroupStats): Pick<CgroupStats, 'cpu' | 'memory'> {
  const { total, percpu, percpu_kernel, percpu_user, kernel, user } = s.cpu.usage;
  const { cache, usage, swap, kernel: kmem, kernelTCP, raw } = s.memory;
  return {
    cpu: {
      usage: {
        ...(total !== undefined && { total }), ...(percpu !== undefined && { percpu }),
        ...(percpu_kernel !== undefined && { percpu_kernel }), ...(percpu_user !== undefined && { percpu_user }), kernel, user,
      },
      throttling: s.cpu.throttling,
    },
    memory: { ...(cache !== undefined && { cache }), usage, swap, kernel: kmem, kernelTCP, ...(raw !== undefined && { raw }) },
  };
}

export async function runcStats(paths: CgroupPaths): Promise<RuncStats> {
  const s = await cgroupOf({}, paths).stats();
  const { cpu, memory } = runcOrder(s);
  return { cpu, cpuset: await cpusetStats(paths), memory, pids: s.pids, blkio: s.blkio, hugetlb: s.hugetlb, intel_rdt: {}, network_interfaces: null };
}

const rawJSON = (JSON as unknown as { rawJSON: (text: string) => unknown }).rawJSON;

/**
 * One JSON line. Counters are uint64 in runc: a double above 2^53 is written
 * as the exact integer it holds, and 2^64 (how the library reads "max") as
 * 2^64-1, since Go decoders refuse a uint64 written as 18446744073709552000.
 */
export function encodeEvent(event: RuntimeEvent): string {
  return JSON.stringify(event, (_key, value: unknown) => {
    if (typeof value !== 'number' || !Number.isInteger(value) || Math.abs(value) <= Number.MAX_SAFE_INTEGER) return value;
    return rawJSON(value >= 2 ** 64 ? '18446744073709551615' : BigInt(value).toString());
  });
}

/** The container, when it is not stopped (runc refuses events for a stopped one). */
async function notStopped(ctx: RuntimeContext, id: string): Promise<ContainerRecord & { cgroup: CgroupPaths }> {
  const record = await ctx.store.read(id);
  if ((await containerStatus(ctx, record)) === 'stopped') throw failedPrecondition('not_running', `container "${id}": not running`);
  if (!record.cgroup) throw failedPrecondition('no_cgroup', `container "${id}": has no cgroup`);
  return { ...record, cgroup: record.cgroup };
}

/** `events --stats`: one stats event. */
export async function statsEvent(ctx: RuntimeContext, id: string): Promise<RuntimeEvent> {
  const record = await notStopped(ctx, id);
  return { type: 'stats', id, data: await runcStats(record.cgroup) };
}

export interface WatchOptions {
  /** Time between stats events; the first comes after one interval, as with runc. */
  intervalMs: number;
  onEvent: (event: RuntimeEvent) => void;
  /** Ends the stream early (the reader went away). */
  signal?: AbortSignal;
}

/** Streams events until the container stops, its cgroup goes, or the signal aborts. */
export async function watchEvents(ctx: RuntimeContext, id: string, options: WatchOptions): Promise<void> {
  const record = await notStopped(ctx, id);
  const { onEvent, signal } = options;
  await new Promise<void>((resolve) => {
    let done = false;
    let statsTimer: NodeJS.Timeout | undefined;
    const finish = (): void => {
      if (done) return;
      done = true;
      clearTimeout(statsTimer);
      clearInterval(aliveTimer);
      oom[Symbol.dispose]();
      signal?.removeEventListener('abort', finish);
      resolve();
    };
    const oom = watchOom(record.cgroup, (kills) => {
      for (let i = 0; i < kills && !done; i++) onEvent({ type: 'oom', id });
    }, { intervalMs: OOM_POLL_MS, onGone: finish });
    const tick = async (): Promise<void> => {
      try {
        const data = await runcStats(record.cgroup);
        if (!done) onEvent({ type: 'stats', id, data });
      } catch (err) {
        // As runc: a failed read is logged and the stream goes on.
        warn(`container "${id}": stats: ${err instanceof Error ? err.message : String(err)}`, { id });
      }
      if (!done) statsTimer = setTimeout(() => void tick(), options.intervalMs);
    };
    statsTimer = setTimeout(() => void tick(), options.intervalMs);
    const aliveTimer = setInterval(() => {
      if (isAlive(record.pid, record.pidStartTime)) return;
      clearInterval(aliveTimer);
      // The kernel counts an OOM kill before the victim is gone: two more reads of the
      // counter report a kill that ended the container before the stream ends.
      setTimeout(finish, 2 * OOM_POLL_MS + 10);
    }, ALIVE_POLL_MS);
    if (signal?.aborted) finish();
    signal?.addEventListener('abort', finish);
  });
}
