/**
 * Metering every call that reaches a replica: its duration (from the
 * moment it is sent to the replica to the end of the answer, rounded up to
 * the millisecond: a wait for a replica is not billed), its CPU time and its peak
 * memory, into the Prometheus metrics (usage-metrics.ts) and the durable
 * per-minute sums (usage-store.ts). How CPU and memory are attributed
 * depends on who can see the call:
 *
 * - Exactly, where berth's watchdog forks a process per call (modes
 *   streaming, serializing): it reaps the process with wait4 and sends its
 *   CPU time and maximum RSS (with what it waited for) in `X-Berth-Usage`,
 *   a response header, or a trailer once the output streamed. The gateway
 *   takes it only from replicas running the watchdog (whose http mode
 *   drops an upstream's X-Berth-Usage) and strips it before the client
 *   sees the answer.
 * - Shared, where one long-lived process serves every call (watchdog mode
 *   http, images serving :8080 themselves): the replica's cgroup CPU time
 *   gained while calls were in flight is divided equally among them,
 *   interval by interval; CPU used while no call runs is billed to none.
 *   The peak is the replica's highest memory use since its cgroup's peak
 *   was reset when it last went from idle to busy: it covers the server
 *   itself and every call overlapping this one.
 *
 * GB-seconds are billed as clouds bill them: the memory limit (the peak
 * when the function has none) times the duration, with 1 GB = 2^30 bytes.
 *
 * A call whose replica's cgroup counted an OOM kill while it ran and that
 * failed (a 5xx, or the connection lost) was killed by its memory limit:
 * the gateway answers 502 naming the limit, and counts it as such.
 */
import type { IncomingMessage } from 'node:http';
import { DEFAULT_UPSTREAM_TIMEOUT_MS, limitsOf, upstreamTimeoutReason } from './limits.ts';
import type { Replica } from './replicas.ts';
import type { FunctionStore } from './store.ts';
import type { FailureReason, UsageMetrics } from './usage-metrics.ts';
import type { UsageStore } from './usage-store.ts';
import { splitFunctionKey } from './namespaces.ts';

export const USAGE_HEADER = 'x-berth-usage';

/** `cpu_us=N maxrss_kb=N exit=N` as the watchdog writes it; undefined when it is not that. */
export function parseUsageHeader(v: unknown): { cpuUs: number; maxRssKb: number; exit: number } | undefined {
  const m = typeof v === 'string' ? /^cpu_us=(\d+) maxrss_kb=(\d+) exit=(\d+)$/.exec(v.trim()) : null;
  return m === null ? undefined : { cpuUs: Number(m[1]), maxRssKb: Number(m[2]), exit: Number(m[3]) };
}

interface Limits {
  revision: number;
  memory: string | undefined;
  memoryBytes: number | undefined;
  /** How long the gateway waits for the answer, and why that long (limits.ts). */
  timeoutMs: number;
  timeoutReason: string;
}

/** The calls in flight on one replica, and whether its watchdog meters them (learned from its first answer). */
class ReplicaMeter {
  readonly open = new Set<Call>();
  lastCpu: number | undefined;
  source: 'unknown' | 'watchdog' | 'cgroup' = 'unknown';
  /** In a batch of the relay's reports: the cgroup is read once for the whole batch (Metering.batch). */
  batching = false;
  batchPeak: number | undefined;
  readonly replica: Replica;

  constructor(replica: Replica) {
    this.replica = replica;
  }

  private get sharing(): boolean {
    return this.source !== 'watchdog' && this.replica.cgroup !== undefined;
  }

  get shares(): boolean {
    return this.sharing;
  }

  /** Divides the CPU time gained since the last look among the calls open meanwhile. */
  advance(): void {
    const now = this.replica.cgroup?.cpuNs();
    if (now === undefined) return;
    if (this.lastCpu !== undefined && now > this.lastCpu && this.open.size > 0) {
      const share = (now - this.lastCpu) / this.open.size;
      for (const c of this.open) c.cpuShareNs += share;
    }
    this.lastCpu = now;
  }

  enter(c: Call): void {
    if (this.sharing) {
      if (!this.batching) this.advance();
      if (this.open.size === 0) this.replica.cgroup?.resetPeak();
    }
    this.open.add(c);
  }

  leave(c: Call): void {
    if (this.sharing && !this.batching) this.advance();
    this.open.delete(c);
  }

  peakBytes(): number | undefined {
    return this.batching ? this.batchPeak : this.replica.cgroup?.peakBytes();
  }
}

export interface MeteringDeps {
  store: FunctionStore;
  namespace: string;
  metrics: UsageMetrics;
  usage: UsageStore;
}

export class Metering {
  private readonly limits = new Map<string, Limits>();
  private readonly meters = new WeakMap<Replica, ReplicaMeter>();
  readonly deps: MeteringDeps;

  constructor(deps: MeteringDeps) {
    this.deps = deps;
  }

  /** The function's limits (read from its record again only when its revision changes). */
  limitsOf(fn: string, revision: number): Limits {
    const known = this.limits.get(fn);
    if (known !== undefined && known.revision === revision) return known;
    const { namespace, name } = splitFunctionKey(fn);
    const spec = this.deps.store.get(namespace, name)?.spec;
    const all = spec === undefined ? undefined : limitsOf(spec);
    const timeoutMs = all?.upstreamTimeoutMs ?? DEFAULT_UPSTREAM_TIMEOUT_MS;
    const l: Limits = {
      revision,
      memory: all?.memory,
      memoryBytes: all?.memoryBytes,
      timeoutMs,
      timeoutReason: upstreamTimeoutReason(spec ?? { envVars: {} }, timeoutMs),
    };
    this.limits.set(fn, l);
    return l;
  }

  private meter(replica: Replica): ReplicaMeter {
    let m = this.meters.get(replica);
    if (m === undefined) this.meters.set(replica, (m = new ReplicaMeter(replica)));
    return m;
  }

  begin(fn: string, replica: Replica): Call {
    return new Call(this, fn, this.meter(replica), this.limitsOf(fn, replica.revision));
  }

  /**
   * One batch of the relay's reports for a replica (src/faas/relay.ts):
   * the calls it began, then the cgroup read once (its CPU time gained
   * since the last read divided among every call open in the batch, its
   * peak taken for every call ending in it), then the calls it ended. The
   * calls of a batch happened within one turn of the relay's loop, so one
   * read stands for each of theirs; a replica shared by many calls is not
   * read twice per call at tens of thousands of calls a second.
   */
  batch(replica: Replica, begins: () => void, ends: () => void): void {
    const m = this.meter(replica);
    m.batching = true;
    try {
      begins();
      if (m.shares) {
        m.advance();
        m.batchPeak = replica.cgroup?.peakBytes();
      }
      ends();
    } finally {
      m.batching = false;
      m.batchPeak = undefined;
    }
  }
}

export class Call {
  cpuShareNs = 0;
  private readonly started = performance.now();
  private readonly oomBefore: number | undefined;
  private usage: ReturnType<typeof parseUsageHeader>;
  private oom = false;
  private ended = false;
  private readonly metering: Metering;
  private readonly fn: string;
  private readonly meter: ReplicaMeter;
  readonly limits: Limits;

  constructor(metering: Metering, fn: string, meter: ReplicaMeter, limits: Limits) {
    this.metering = metering;
    this.fn = fn;
    this.meter = meter;
    this.limits = limits;
    // Only a limit makes the cgroup's OOM killer strike (the host's own is another matter).
    this.oomBefore = limits.memoryBytes === undefined ? undefined : meter.replica.cgroup?.oomKills();
    meter.enter(this);
  }

  /**
   * Whether the call failed because the OOM killer struck its replica
   * (status undefined: the connection was lost); the message to answer with.
   */
  killed(status: number | undefined): string | undefined {
    if (this.oomBefore === undefined || (status !== undefined && status < 500)) return undefined;
    const now = this.meter.replica.cgroup?.oomKills();
    if (now === undefined || now <= this.oomBefore) return undefined;
    this.oom = true;
    return `function "${this.fn}": killed: memory limit ${this.limits.memory ?? ''} reached\n`;
  }

  /** The 504's body when the gateway stops waiting for the answer. */
  timedOut(): string {
    return `function "${this.fn}": no answer within ${this.limits.timeoutReason}\n`;
  }

  /** Reads the watchdog's account of the call from the answer's head (and, once it ended, its trailers). */
  answered(res: IncomingMessage): void {
    if (!this.meter.replica.watchdog) return;
    const announced = String(res.headers.trailer ?? '').toLowerCase().includes(USAGE_HEADER);
    const usage = parseUsageHeader(announced ? res.trailers[USAGE_HEADER] : res.headers[USAGE_HEADER]);
    if (usage !== undefined) this.usage = usage;
    // A watchdog that forks says so in every whole answer; one that proxies (mode http) never does.
    if (this.meter.source === 'unknown' && res.complete && res.statusCode !== 429) this.meter.source = usage !== undefined ? 'watchdog' : 'cgroup';
  }

  /** The relay's account of the call (src/faas/relay.ts): the watchdog's usage as it read it, and the status. */
  relayed(usage: { cpuUs: number; maxRssKb: number } | undefined, status: number): void {
    if (!this.meter.replica.watchdog) return;
    if (usage !== undefined) this.usage = { ...usage, exit: 0 };
    if (this.meter.source === 'unknown' && status >= 200 && status !== 429 && status !== 499) this.meter.source = usage !== undefined ? 'watchdog' : 'cgroup';
  }

  /** The call is over: its figures go to the metrics and the sums (`elapsedMs`: as the relay timed it). */
  end(status: number, elapsedMs = performance.now() - this.started): void {
    if (this.ended) return;
    this.ended = true;
    this.meter.leave(this);
    const durationMs = Math.max(1, Math.ceil(elapsedMs));
    const watchdog = this.usage !== undefined || this.meter.source === 'watchdog';
    const cpuUs = this.usage !== undefined ? this.usage.cpuUs : watchdog ? 0 : this.cpuShareNs / 1000;
    const peakBytes = this.usage !== undefined ? this.usage.maxRssKb * 1024 : watchdog ? undefined : this.meter.peakBytes();
    const billed = this.limits.memoryBytes ?? peakBytes ?? 0;
    const gbSeconds = (billed / 2 ** 30) * (durationMs / 1000);
    const failure: FailureReason | undefined = this.oom ? 'oom' : status === 504 ? 'timeout' : status >= 500 ? 'error' : undefined;
    this.metering.deps.metrics.call(this.fn, cpuUs / 1e6, peakBytes, gbSeconds, failure);
    this.metering.deps.usage.add({ fn: this.fn, at: Date.now(), failed: failure !== undefined, durationMs, cpuUs, gbSeconds, peakBytes });
  }
}
