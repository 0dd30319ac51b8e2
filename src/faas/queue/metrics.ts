/**
 * The async queue's Prometheus series on the gateway's /metrics, with the
 * function named as OpenFaaS names it (NAME.NAMESPACE):
 *
 *   gateway_async_queue_depth{function_name, state}   calls queued, running, dead (read from the table at each scrape)
 *   gateway_async_accepted_total{function_name}       calls accepted (202)
 *   gateway_async_attempts_total{function_name, code} tries, by the function's status ("error" when none came)
 *   gateway_async_retries_total{function_name}        tries scheduled again
 *   gateway_async_dead_letters_total{function_name}   calls that became dead letters
 *   gateway_async_callbacks_total{function_name, result}  callbacks: ok, retried, failed
 */
import type { MetricsRegistryLike } from '../metrics.ts';
import type { CallStore } from './store.ts';

type Counter = ReturnType<MetricsRegistryLike['counter']>;

export class QueueMetrics {
  private readonly accepted: Counter;
  private readonly attempts: Counter;
  private readonly retries: Counter;
  private readonly deadLetters: Counter;
  private readonly callbacks: Counter;
  private readonly namespace: string;

  constructor(namespace: string, registry: MetricsRegistryLike, calls: CallStore) {
    this.namespace = namespace;
    this.accepted = registry.counter('gateway_async_accepted_total', 'Async calls accepted, by function');
    this.attempts = registry.counter('gateway_async_attempts_total', 'Tries of async calls, by function and status code (error: no answer)');
    this.retries = registry.counter('gateway_async_retries_total', 'Async calls scheduled for another try, by function');
    this.deadLetters = registry.counter('gateway_async_dead_letters_total', 'Async calls that became dead letters, by function');
    this.callbacks = registry.counter('gateway_async_callbacks_total', 'Callbacks of async calls, by function and result (ok, retried, failed)');
    registry.collect('gateway_async_queue_depth', 'Async calls owed, by function and state (queued, running, dead)', () =>
      calls.countsByFunction().map((c) => [{ function_name: this.label(c.function), state: c.state }, c.n] as const),
    );
  }

  private label(fn: string): string {
    return `${fn}.${this.namespace}`;
  }

  accept(fn: string): void {
    this.accepted.inc({ function_name: this.label(fn) });
  }

  attempt(fn: string, status: number | undefined): void {
    this.attempts.inc({ function_name: this.label(fn), code: status === undefined ? 'error' : String(status) });
  }

  retry(fn: string): void {
    this.retries.inc({ function_name: this.label(fn) });
  }

  dead(fn: string): void {
    this.deadLetters.inc({ function_name: this.label(fn) });
  }

  callback(fn: string, result: 'ok' | 'retried' | 'failed'): void {
    this.callbacks.inc({ function_name: this.label(fn), result });
  }
}
