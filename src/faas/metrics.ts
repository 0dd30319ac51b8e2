/**
 * The gateway's Prometheus metrics, with OpenFaaS's names and labels so its
 * dashboards and alert rules read them: invocations by function and status
 * code, their durations as a histogram, and the replicas each function has
 * ready. A function is named as OpenFaaS names it in metrics: NAME.NAMESPACE.
 */
import { MetricsRegistry, type Counter, type Histogram } from '../api/metrics.ts';

export class GatewayMetrics {
  readonly registry = new MetricsRegistry();
  private readonly invocations: Counter;
  private readonly seconds: Histogram;
  private readonly counts = new Map<string, number>();
  private readonly namespace: string;

  constructor(namespace: string, replicaCounts: () => Iterable<readonly [string, number]>) {
    this.namespace = namespace;
    this.invocations = this.registry.counter('gateway_function_invocation_total', 'Function invocations, by function and status code');
    this.seconds = this.registry.histogram('gateway_functions_seconds', 'Function invocation time taken, by function and status code');
    this.registry.collect('gateway_service_count', 'Replicas ready, by function', () =>
      [...replicaCounts()].map(([fn, n]) => [{ function_name: this.label(fn) }, n] as const),
    );
  }

  private label(fn: string): string {
    return `${fn}.${this.namespace}`;
  }

  invoked(fn: string, code: number, seconds: number): void {
    const labels = { function_name: this.label(fn), code: String(code) };
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
  }
}
