/**
 * The gateway's Prometheus metrics, with OpenFaaS's names and labels so its
 * dashboards and alert rules read them: invocations by function and status
 * code, their durations as a histogram, and the replicas each function has
 * ready. A function is named as OpenFaaS names it in metrics: NAME.NAMESPACE.
 */
export type Labels = Readonly<Record<string, string>>;

/** The part of a Prometheus registry the gateway uses (berthd's, src/api/metrics.ts, fits it). */
export interface MetricsRegistryLike {
  counter(name: string, help: string): { inc(labels?: Labels, n?: number): void };
  histogram(name: string, help: string, buckets?: readonly number[]): { observe(v: number, labels?: Labels): void };
  collect(name: string, help: string, collect: () => number | readonly (readonly [Labels, number])[]): void;
  render(): string;
}

export class GatewayMetrics {
  private readonly invocations: { inc(labels?: Labels, n?: number): void };
  private readonly seconds: { observe(v: number, labels?: Labels): void };
  private readonly counts = new Map<string, number>();
  /** One label set per function and code, reused: the registry keeps its text (src/api/metrics.ts). */
  private readonly labelSets = new Map<string, Labels>();
  private readonly namespace: string;

  constructor(namespace: string, registry: MetricsRegistryLike, replicaCounts: () => Iterable<readonly [string, number]>) {
    this.namespace = namespace;
    this.invocations = registry.counter('gateway_function_invocation_total', 'Function invocations, by function and status code');
    this.seconds = registry.histogram('gateway_functions_seconds', 'Function invocation time taken, by function and status code');
    registry.collect('gateway_service_count', 'Replicas ready, by function', () =>
      [...replicaCounts()].map(([fn, n]) => [{ function_name: this.label(fn) }, n] as const),
    );
  }

  /** `fn` is a function's key (src/faas/namespaces.ts): NAME.NAMESPACE already outside the default namespace. */
  private label(fn: string): string {
    return fn.includes('.') ? fn : `${fn}.${this.namespace}`;
  }

  invoked(fn: string, code: number, seconds: number): void {
    const key = `${fn} ${code}`;
    let labels = this.labelSets.get(key);
    if (labels === undefined) this.labelSets.set(key, (labels = Object.freeze({ function_name: this.label(fn), code: String(code) })));
    this.invocations.inc(labels);
    this.seconds.observe(seconds, labels);
    this.counts.set(fn, (this.counts.get(fn) ?? 0) + 1);
  }

  /** Invocations of a function since this berthd started (FunctionStatus.invocationCount). */
  invocationCount(fn: string): number {
    return this.counts.get(fn) ?? 0;
  }

  forget(fn: string): void {
    this.counts.delete(fn);
    for (const key of this.labelSets.keys()) if (key.startsWith(`${fn} `)) this.labelSets.delete(key);
  }
}
