/**
 * Resource usage in the shape of runc's `events --stats` data (its
 * types.Stats: cpu, memory, pids, blkio, hugetlb). Fields runc marks
 * `omitempty` are left out when zero, so the JSON matches what tools that
 * parse runc's output expect. Unlimited ("max") is 2^64-1 as runc prints it
 * (as a JSON number it reads back as 18446744073709552000).
 */
import type { CgroupFs } from './fs.ts';
import type { BlkioEntry, BlkioStats, CgroupStats, CpuStats, MemoryEntry, MemoryStats } from './types.ts';
import { errnoCode, isBerthError } from '../../errors.ts';
import { parseCgroupNumber, parseKeyValues, readOptional as readControlOptional } from './write.ts';

/** Statistics a kernel cannot give (deprecated kmem files answer EOPNOTSUPP, some EINVAL) read as absent. */
async function readOptional(fs: CgroupFs, dir: string, file: string): Promise<string | undefined> {
  try {
    return await readControlOptional(fs, dir, file);
  } catch (err) {
    const code = isBerthError(err) ? err.details['errno'] : errnoCode(err);
    if (code === 'EOPNOTSUPP' || code === 'EINVAL' || code === 'ENODEV') return undefined;
    throw err;
  }
}

/** 2^64-1, which a double rounds to 2^64. */
export const U64_MAX = 2 ** 64;
/** USER_HZ: cpuacct.stat counts in ticks of 1/100 s. */
const TICK_NS = 1e7;

/** Adds `key: value` only when value is non-zero (Go's omitempty). */
function put<T extends object>(obj: T, key: keyof T, value: number | number[] | undefined): void {
  if (value === undefined) return;
  if (Array.isArray(value) ? value.length > 0 : value !== 0) (obj as Record<keyof T, unknown>)[key] = value;
}

const finite = (n: number): number => (Number.isNaN(n) ? 0 : n === Infinity ? U64_MAX : n);

async function number(fs: CgroupFs, dir: string | undefined, file: string): Promise<number> {
  if (dir === undefined) return 0;
  const text = await readOptional(fs, dir, file);
  return text === undefined ? 0 : finite(parseCgroupNumber(text));
}

async function keyValues(fs: CgroupFs, dir: string | undefined, file: string): Promise<Map<string, number>> {
  if (dir === undefined) return new Map();
  const text = await readOptional(fs, dir, file);
  return text === undefined ? new Map() : parseKeyValues(text);
}

function memoryEntry(limit: number, usage: number, max: number, failcnt: number): MemoryEntry {
  const e: MemoryEntry = { limit, failcnt };
  put(e, 'usage', usage);
  put(e, 'max', max);
  return e;
}

function memoryStats(cache: number, usage: MemoryEntry, swap: MemoryEntry, kernel: MemoryEntry, kernelTCP: MemoryEntry, raw: Map<string, number>): MemoryStats {
  const m: MemoryStats = { usage, swap, kernel, kernelTCP };
  put(m, 'cache', cache);
  if (raw.size > 0) m.raw = Object.fromEntries(raw);
  return m;
}

function cpuStats(total: number, kernel: number, user: number, percpu: number[], percpuKernel: number[], percpuUser: number[], throttle: Map<string, number>, timeScale: number): CpuStats {
  const usage: CpuStats['usage'] = { kernel, user };
  put(usage, 'total', total);
  put(usage, 'percpu', percpu);
  put(usage, 'percpu_kernel', percpuKernel);
  put(usage, 'percpu_user', percpuUser);
  const throttling: CpuStats['throttling'] = {};
  put(throttling, 'periods', throttle.get('nr_periods'));
  put(throttling, 'throttledPeriods', throttle.get('nr_throttled'));
  const time = throttle.get('throttled_time') ?? (throttle.get('throttled_usec') ?? 0) * timeScale;
  put(throttling, 'throttledTime', time);
  return { usage, throttling };
}

/** "8:0 Read 123" lines (v1 blkio); "Total" lines are dropped, "8:0 123" lines have no op. */
function blkioEntries(text: string | undefined): BlkioEntry[] {
  const out: BlkioEntry[] = [];
  for (const line of (text ?? '').split('\n')) {
    const f = line.trim().split(/\s+/);
    const dev = /^(\d+):(\d+)$/.exec(f[0] ?? '');
    if (dev === null || f.length < 2) continue;
    const e: BlkioEntry = {};
    put(e, 'major', Number(dev[1]));
    put(e, 'minor', Number(dev[2]));
    if (f.length >= 3 && f[1] !== undefined) e.op = f[1];
    put(e, 'value', Number(f[f.length - 1]));
    out.push(e);
  }
  return out;
}

async function blkioV1(fs: CgroupFs, dir: string | undefined): Promise<BlkioStats> {
  const b: BlkioStats = {};
  if (dir === undefined) return b;
  const read = (file: string): Promise<string | undefined> => readOptional(fs, dir, file);
  const cfq = await read('blkio.io_service_bytes_recursive');
  if (cfq !== undefined && cfq.trim() !== '' && cfq.trim() !== 'Total 0') {
    const files: [keyof BlkioStats, string][] = [
      ['ioServiceBytesRecursive', 'blkio.io_service_bytes_recursive'],
      ['ioServicedRecursive', 'blkio.io_serviced_recursive'],
      ['ioQueueRecursive', 'blkio.io_queued_recursive'],
      ['ioServiceTimeRecursive', 'blkio.io_service_time_recursive'],
      ['ioWaitTimeRecursive', 'blkio.io_wait_time_recursive'],
      ['ioMergedRecursive', 'blkio.io_merged_recursive'],
      ['ioTimeRecursive', 'blkio.time_recursive'],
      ['sectorsRecursive', 'blkio.sectors_recursive'],
    ];
    for (const [key, file] of files) {
      const entries = blkioEntries(await read(file));
      if (entries.length > 0) b[key] = entries;
    }
    return b;
  }
  const bfq = blkioEntries(await read('blkio.bfq.io_service_bytes_recursive'));
  const prefix = bfq.length > 0 ? 'blkio.bfq' : 'blkio.throttle';
  const bytes = blkioEntries(await read(`${prefix}.io_service_bytes_recursive`));
  const ios = blkioEntries(await read(`${prefix}.io_serviced_recursive`));
  if (bytes.length > 0) b.ioServiceBytesRecursive = bytes;
  if (ios.length > 0) b.ioServicedRecursive = ios;
  return b;
}

/** io.stat: "8:0 rbytes=1 wbytes=2 rios=3 wios=4 dbytes=0 dios=0". */
function blkioV2(text: string | undefined): BlkioStats {
  const bytes: BlkioEntry[] = [];
  const ios: BlkioEntry[] = [];
  const ops: Record<string, [BlkioEntry[], string]> = {
    rbytes: [bytes, 'Read'], wbytes: [bytes, 'Write'], dbytes: [bytes, 'Discard'],
    rios: [ios, 'Read'], wios: [ios, 'Write'], dios: [ios, 'Discard'],
  };
  for (const line of (text ?? '').split('\n')) {
    const [devText, ...fields] = line.trim().split(/\s+/);
    const dev = /^(\d+):(\d+)$/.exec(devText ?? '');
    if (dev === null) continue;
    for (const field of fields) {
      const [k, v] = field.split('=');
      const target = ops[k ?? ''];
      if (target === undefined || v === undefined) continue;
      const e: BlkioEntry = {};
      put(e, 'major', Number(dev[1]));
      put(e, 'minor', Number(dev[2]));
      e.op = target[1];
      put(e, 'value', Number(v));
      target[0].push(e);
    }
  }
  const b: BlkioStats = {};
  if (bytes.length > 0) b.ioServiceBytesRecursive = bytes;
  if (ios.length > 0) b.ioServicedRecursive = ios;
  return b;
}

/** Page sizes with hugetlb files in a directory: "hugetlb.2MB.limit_in_bytes" → "2MB". */
async function hugeSizes(fs: CgroupFs, dir: string, suffix: string): Promise<string[]> {
  const files = await fs.files(dir).catch(() => []);
  return files.filter((f) => f.startsWith('hugetlb.') && f.endsWith(suffix) && !f.includes('.rsvd.')).map((f) => f.slice('hugetlb.'.length, -suffix.length));
}

const perCpu = (text: string | undefined): number[] => (text ?? '').trim().split(/\s+/).filter(Boolean).map(Number);

export async function statsV1(fs: CgroupFs, dirs: Record<string, string>): Promise<CgroupStats> {
  const acct = dirs['cpuacct'];
  const ticks = await keyValues(fs, acct, 'cpuacct.stat');
  const all = acct === undefined ? undefined : await readOptional(fs, acct, 'cpuacct.usage_all');
  const pk: number[] = [];
  const pu: number[] = [];
  for (const line of (all ?? '').split('\n').slice(1)) {
    const [, user, sys] = line.trim().split(/\s+/).map(Number);
    if (user === undefined || sys === undefined) continue;
    pu.push(user);
    pk.push(sys);
  }
  const cpu = cpuStats(
    await number(fs, acct, 'cpuacct.usage'), (ticks.get('system') ?? 0) * TICK_NS, (ticks.get('user') ?? 0) * TICK_NS,
    perCpu(acct === undefined ? undefined : await readOptional(fs, acct, 'cpuacct.usage_percpu')), pk, pu,
    await keyValues(fs, dirs['cpu'], 'cpu.stat'), 1,
  );
  const mem = dirs['memory'];
  const entry = async (prefix: string): Promise<MemoryEntry> =>
    memoryEntry(
      await number(fs, mem, `${prefix}.limit_in_bytes`), await number(fs, mem, `${prefix}.usage_in_bytes`),
      await number(fs, mem, `${prefix}.max_usage_in_bytes`), await number(fs, mem, `${prefix}.failcnt`),
    );
  const raw = await keyValues(fs, mem, 'memory.stat');
  const memory = memoryStats(raw.get('cache') ?? 0, await entry('memory'), await entry('memory.memsw'), await entry('memory.kmem'), await entry('memory.kmem.tcp'), raw);
  const hugetlb: CgroupStats['hugetlb'] = {};
  const huge = dirs['hugetlb'];
  for (const size of huge === undefined ? [] : await hugeSizes(fs, huge, '.limit_in_bytes')) {
    const h: CgroupStats['hugetlb'][string] = { failcnt: await number(fs, huge, `hugetlb.${size}.failcnt`) };
    put(h, 'usage', await number(fs, huge, `hugetlb.${size}.usage_in_bytes`));
    put(h, 'max', await number(fs, huge, `hugetlb.${size}.max_usage_in_bytes`));
    hugetlb[size] = h;
  }
  return { cpu, memory, pids: await pidsStats(fs, dirs['pids']), blkio: await blkioV1(fs, dirs['blkio']), hugetlb };
}

async function pidsStats(fs: CgroupFs, dir: string | undefined): Promise<CgroupStats['pids']> {
  const p: CgroupStats['pids'] = {};
  put(p, 'current', await number(fs, dir, 'pids.current'));
  const max = dir === undefined ? undefined : await readOptional(fs, dir, 'pids.max');
  // runc reports "max" as no limit (0, left out).
  if (max !== undefined && max.trim() !== 'max') put(p, 'limit', Number(max.trim()));
  return p;
}

export async function statsV2(fs: CgroupFs, dir: string): Promise<CgroupStats> {
  const cs = await keyValues(fs, dir, 'cpu.stat');
  const cpu = cpuStats((cs.get('usage_usec') ?? 0) * 1000, (cs.get('system_usec') ?? 0) * 1000, (cs.get('user_usec') ?? 0) * 1000, [], [], [], cs, 1000);
  const memUsage = await number(fs, dir, 'memory.current');
  const memLimit = await number(fs, dir, 'memory.max');
  const events = await keyValues(fs, dir, 'memory.events');
  const usage = memoryEntry(memLimit, memUsage, await number(fs, dir, 'memory.peak'), events.get('max') ?? 0);
  // v1 reports swap as memory+swap; runc keeps that meaning on v2.
  const swapLimit = await number(fs, dir, 'memory.swap.max');
  const swap = memoryEntry(
    swapLimit === U64_MAX || memLimit === U64_MAX ? U64_MAX : swapLimit + memLimit,
    (await number(fs, dir, 'memory.swap.current')) + memUsage, 0, 0,
  );
  const raw = await keyValues(fs, dir, 'memory.stat');
  const memory = memoryStats(raw.get('file') ?? 0, usage, swap, memoryEntry(0, 0, 0, 0), memoryEntry(0, 0, 0, 0), raw);
  const hugetlb: CgroupStats['hugetlb'] = {};
  for (const size of await hugeSizes(fs, dir, '.max')) {
    const h: CgroupStats['hugetlb'][string] = { failcnt: (await keyValues(fs, dir, `hugetlb.${size}.events`)).get('max') ?? 0 };
    put(h, 'usage', await number(fs, dir, `hugetlb.${size}.current`));
    hugetlb[size] = h;
  }
  return { cpu, memory, pids: await pidsStats(fs, dir), blkio: blkioV2(await readOptional(fs, dir, 'io.stat')), hugetlb };
}
