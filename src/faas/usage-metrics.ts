/**
 * What metering adds to the gateway's /metrics, per function (named
 * NAME.NAMESPACE, as OpenFaaS names functions in metrics; the duration is
 * OpenFaaS's own gateway_functions_seconds, in metrics.ts):
 *
 *   gateway_function_invocation_inflight     gauge      requests in flight (OpenFaaS Pro's name)
 *   berth_function_cpu_seconds_total         counter    CPU time of the calls
 *   berth_function_cpu_seconds               histogram  CPU time per call
 *   berth_function_memory_peak_bytes         histogram  peak memory per call (where measured)
 *   berth_function_gb_seconds_total          counter    memory (limit, else peak) × duration, in GiB-seconds
 *   berth_function_failures_total            counter    failed calls by reason: oom, timeout, error
 */
import type { MetricsRegistryLike } from './metrics.ts';

type Labels = Readonly<Record<string, string>>;

const CPU_BUCKETS = [0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 10, 60];
const MEMORY_BUCKETS = [1, 4, 16, 32, 64, 128, 256, 512, 1024, 4096].map((mi) => mi * 2 ** 20);

export type FailureReason = 'oom' | 'timeout' | 'error';

export class UsageMetrics {
  private readonly cpuTotal: { inc(labels?: Labels, n?: number): void };
  private readonly cpu: { observe(v: number, labels?: Labels): void };
  private readonly memory: { observe(v: number, labels?: Labels): void };
  private readonly gbSeconds: { inc(labels?: Labels, n?: number): void };
  private readonly failures: { inc(labels?: Labels, n?: number): void };
  private readonly namespace: string;

  constructor(namespace: string, registry: MetricsRegistryLike, inflight: () => Iterable<readonly [string, number]>) {
    this.namespace = namespace;
    const r = registry;
    registry.collect('gateway_function_invocation_inflight', 'Requests in flight, by function', () =>
      [...inflight()].map(([fn, n]) => [{ function_name: this.label(fn) }, n] as const),
    );
    this.cpuTotal = r.counter('berth_function_cpu_seconds_total', 'CPU time used by function calls, in seconds');
    this.cpu = r.histogram('berth_function_cpu_seconds', 'CPU time per function call, in seconds', CPU_BUCKETS);
    this.memory = r.histogram('berth_function_memory_peak_bytes', 'Peak memory per function call, in bytes', MEMORY_BUCKETS);
    this.gbSeconds = r.counter('berth_function_gb_seconds_total', 'Memory (the limit, else the peak) times duration of function calls, in GiB-seconds');
    this.failures = r.counter('berth_function_failures_total', 'Failed function calls, by reason (oom, timeout, error)');
  }

  private label(fn: string): string {
    // A key outside the default namespace is NAME.NAMESPACE already (src/faas/namespaces.ts).
    return fn.includes('.') ? fn : `${fn}.${this.namespace}`;
  }

  /** One label set per function, reused: the registry keeps its text (tens of thousands of calls a second through the relay). */
  private readonly labelSets = new Map<string, Labels>();

  call(fn: string, cpuSeconds: number, peakBytes: number | undefined, gbSeconds: number, failure: FailureReason | undefined): void {
    let labels = this.labelSets.get(fn);
    if (labels === undefined) this.labelSets.set(fn, (labels = Object.freeze({ function_name: this.label(fn) })));
    this.cpuTotal.inc(labels, cpuSeconds);
    this.cpu.observe(cpuSeconds, labels);
    if (peakBytes !== undefined) this.memory.observe(peakBytes, labels);
    this.gbSeconds.inc(labels, gbSeconds);
    if (failure !== undefined) this.failures.inc({ ...labels, reason: failure });
  }
}
