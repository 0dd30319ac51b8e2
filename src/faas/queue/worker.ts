/**
 * The worker of the async queue, inside the gateway: it takes queued calls
 * in the order they were accepted (per function, among those due), at most
 * `maxInflight` at once and `maxInflightPerFunction` for one function (the
 * queue-worker's max_inflight), tries each through the gateway's own
 * `/function/` path, and then:
 *
 *   answered, status not retried      → callback (if any), deleted
 *   no answer, timeout, retried status → queued again after the back-off
 *                                        (src/faas/queue/retry.ts) while tries remain,
 *                                        else callback (with the last answer) and a dead letter
 *   callback failing every time        → a dead letter (replaying it calls the function again)
 *
 * Each try is a row before it starts; a berthd killed meanwhile leaves the
 * call `running`, and the next start puts it back in the queue: a call is
 * delivered at least once, as with OpenFaaS's NATS queue.
 */
import { functionKey } from '../namespaces.ts';
import { Agent } from 'node:http';
import { describeError } from '../../errors.ts';
import type { FaasLogger } from '../log.ts';
import type { FunctionStore } from '../store.ts';
import { callbackHeaders, callbackRetryable, postOnce } from './callback.ts';
import { deliver, type Outcome, type Target } from './deliver.ts';
import type { QueueMetrics } from './metrics.ts';
import { backoffMs, DEFAULT_RETRY, retryAfterMs, retryPolicyOf, type RetryPolicy } from './retry.ts';
import { busyKey, type CallRecord, type CallStore } from './store.ts';

export interface AsyncQueueOptions {
  /** Tries under way at once, all functions together (default 16). */
  maxInflight: number;
  /** Tries under way at once for one function (default 4). */
  maxInflightPerFunction: number;
  /** One try's longest time, scale from zero included (default 5 min). */
  attemptTimeoutMs: number;
  /** The largest request body queued (default 1 MiB, NATS's default message size). */
  maxBodyBytes: number;
  /** The most of an answer kept for the callback (default 8 MiB). */
  maxResponseBytes: number;
  /** Calls owed (queued and running) before /async-function answers 503 (default 100,000). */
  maxQueued: number;
  /** Dead letters kept; past it the oldest go (default 10,000). */
  maxDead: number;
  /** POSTs of one callback, the first included (default 5), waiting from callbackMinWaitMs, doubling. */
  callbackAttempts: number;
  callbackMinWaitMs: number;
  callbackTimeoutMs: number;
  /** The retry policy of a function without retry annotations. */
  retry: RetryPolicy;
}

export const DEFAULT_ASYNC: AsyncQueueOptions = {
  maxInflight: 16,
  maxInflightPerFunction: 4,
  attemptTimeoutMs: 5 * 60_000,
  maxBodyBytes: 1024 * 1024,
  maxResponseBytes: 8 * 1024 * 1024,
  maxQueued: 100_000,
  maxDead: 10_000,
  callbackAttempts: 5,
  callbackMinWaitMs: 500,
  callbackTimeoutMs: 30_000,
  retry: DEFAULT_RETRY,
};

export interface AsyncQueueDeps {
  calls: CallStore;
  functions: FunctionStore;
  namespace: string;
  logger: FaasLogger;
  metrics: QueueMetrics;
  options: AsyncQueueOptions;
}

/** Resolves after `ms`, or at once when `signal` aborts. */
function wait(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const t = setTimeout(done, ms);
    function done(): void {
      clearTimeout(t);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done, { once: true });
  });
}

export class AsyncQueue {
  private readonly d: AsyncQueueDeps;
  private readonly agent = new Agent({ keepAlive: true, maxSockets: 256 });
  private readonly perFunction = new Map<string, number>();
  private readonly running = new Set<Promise<void>>();
  private readonly stop = new AbortController();
  private target: Target | undefined;
  private timer: NodeJS.Timeout | undefined;
  private timerAt = Infinity;

  constructor(d: AsyncQueueDeps) {
    this.d = d;
  }

  get options(): AsyncQueueOptions {
    return this.d.options;
  }

  /** Starts taking calls, sent to the gateway at `target`; what a previous berthd was trying goes back to the queue first. */
  start(target: Target): void {
    this.target = target;
    const requeued = this.d.calls.recover();
    if (requeued > 0) this.d.logger.info('async calls re-queued after a restart (delivered at least once)', { calls: requeued });
    this.wake();
  }

  /** Looks for due calls now (a call was accepted, replayed, or a try ended). */
  wake(): void {
    if (this.target === undefined || this.stop.signal.aborted) return;
    try {
      this.pump();
    } catch (err) {
      this.d.logger.warn('async queue: taking calls failed', { err: describeError(err) });
      this.schedule(Date.now() + 1000);
    }
  }

  async close(): Promise<void> {
    this.stop.abort();
    if (this.timer !== undefined) clearTimeout(this.timer);
    await Promise.allSettled([...this.running]);
    this.agent.destroy();
  }

  private pump(): void {
    const o = this.d.options;
    // One clock reading for the claim and the timer: a call falling due between the two (a timer fires
    // up to a millisecond early, a claim takes a fraction of one) would be neither claimed nor waited for.
    let now = Date.now();
    while (this.running.size < o.maxInflight) {
      const busy = [...this.perFunction].filter(([, n]) => n >= o.maxInflightPerFunction).map(([fn]) => fn);
      now = Date.now();
      const claimed = this.d.calls.claim(busy, now);
      if (claimed === undefined) break;
      this.begin(claimed.call, claimed.attempt);
    }
    // Calls due by `now` but not claimed are held by a busy function or a full queue and come when a
    // try ends; only a later one needs the timer.
    const next = this.d.calls.nextDue();
    if (next !== undefined && next > now) this.schedule(next);
  }

  private schedule(at: number): void {
    if (this.timer !== undefined && this.timerAt <= at) return;
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timerAt = at;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.timerAt = Infinity;
      this.wake();
    }, Math.max(0, at - Date.now()));
    this.timer.unref();
  }

  private begin(call: CallRecord, attempt: number): void {
    const key = busyKey(call.namespace, call.function);
    this.perFunction.set(key, (this.perFunction.get(key) ?? 0) + 1);
    const p = this.run(call, attempt)
      .catch((err: unknown) => this.d.logger.warn('async call: handling failed', { call: call.id, function: functionKey(call.namespace, call.function), err: describeError(err) }))
      .finally(() => {
        this.running.delete(p);
        const n = (this.perFunction.get(key) ?? 1) - 1;
        if (n <= 0) this.perFunction.delete(key);
        else this.perFunction.set(key, n);
        this.wake();
      });
    this.running.add(p);
  }

  private policy(call: CallRecord): RetryPolicy | undefined {
    const rec = this.d.functions.get(call.namespace, call.function);
    if (rec === undefined) return undefined;
    try {
      return retryPolicyOf(rec.spec.annotations, this.d.options.retry);
    } catch {
      // Refused at deploy; a record from before that check gets the defaults.
      return this.d.options.retry;
    }
  }

  private async run(call: CallRecord, attempt: number): Promise<void> {
    const { calls, metrics, logger, options } = this.d;
    const policy = this.policy(call);
    if (policy === undefined) {
      const error = `function "${functionKey(call.namespace, call.function)}": not deployed (any more); replay the call once it is`;
      calls.answered(call.seq, attempt, { seconds: 0, error });
      calls.dead(call.seq, error, options.maxDead);
      metrics.dead(functionKey(call.namespace, call.function));
      logger.info('async call is a dead letter', { call: call.id, function: functionKey(call.namespace, call.function), reason: error });
      return;
    }
    const out = await deliver(this.target!, call, { agent: this.agent, timeoutMs: options.attemptTimeoutMs, maxResponseBytes: options.maxResponseBytes }, this.stop.signal);
    if (this.stop.signal.aborted && out.status === undefined) {
      calls.interrupted(call.seq, attempt, out.seconds);
      return;
    }
    const record = { seconds: out.seconds, ...(out.status === undefined ? {} : { status: out.status }), ...(out.error === undefined ? {} : { error: out.error }) };
    metrics.attempt(functionKey(call.namespace, call.function), out.status);
    const retryable = out.status === undefined || policy.codes.has(out.status);
    const tried = call.attempts + 1;
    if (retryable && tried < policy.attempts) {
      const ms = backoffMs(policy, tried, Math.random, out.status === 429 || out.status === 503 ? retryAfterMs(firstHeader(out.headers['retry-after'])) : undefined);
      calls.retry(call.seq, attempt, record, Date.now() + ms);
      metrics.retry(functionKey(call.namespace, call.function));
      logger.debug('async call tried again later', { call: call.id, function: functionKey(call.namespace, call.function), status: out.status, error: out.error, tries: tried, waitMs: ms });
      return;
    }
    calls.answered(call.seq, attempt, record);
    const callbackError = call.callbackUrl === undefined ? undefined : await this.callback(call, out);
    if (this.stop.signal.aborted && callbackError !== undefined) {
      // Stopping during the callback: the next start makes the call again (at least once).
      calls.interrupted(call.seq, attempt, out.seconds);
      return;
    }
    if (retryable || callbackError !== undefined) {
      const reason = retryable ? `${tried} tries spent; last: ${out.error ?? `status ${out.status}`}` : undefined;
      const error = [reason, callbackError].filter((s) => s !== undefined).join('; ');
      const dropped = calls.dead(call.seq, error, options.maxDead);
      metrics.dead(functionKey(call.namespace, call.function));
      logger.info('async call is a dead letter', { call: call.id, function: functionKey(call.namespace, call.function), reason: error });
      if (dropped.length > 0) logger.warn('dead letters past the limit dropped, the oldest first', { calls: dropped, limit: options.maxDead });
      return;
    }
    calls.done(call.seq);
  }

  /** POSTs the answer to the call's callback URL, tried again a few times; undefined, or why it failed. */
  private async callback(call: CallRecord, out: Outcome): Promise<string | undefined> {
    const { options, metrics, logger } = this.d;
    const url = call.callbackUrl!;
    const headers = callbackHeaders(out, { callId: call.id, fn: functionKey(call.namespace, call.function), startedAt: Date.now() - out.seconds * 1000 });
    let last = '';
    for (let i = 1; i <= options.callbackAttempts; i++) {
      try {
        const status = await postOnce(url, headers, out.body, { agent: this.agent, timeoutMs: options.callbackTimeoutMs }, this.stop.signal);
        if (!callbackRetryable(status)) {
          metrics.callback(functionKey(call.namespace, call.function), 'ok');
          if (status >= 400) logger.info('async callback refused by its receiver', { call: call.id, url, status });
          return undefined;
        }
        last = `status ${status}`;
      } catch (err) {
        last = describeError(err);
      }
      if (this.stop.signal.aborted) return `callback to ${url} stopped: berthd stopping`;
      if (i < options.callbackAttempts) {
        metrics.callback(functionKey(call.namespace, call.function), 'retried');
        await wait(options.callbackMinWaitMs * 2 ** (i - 1), this.stop.signal);
      }
    }
    metrics.callback(functionKey(call.namespace, call.function), 'failed');
    return `callback to ${url} failed ${options.callbackAttempts} times; last: ${last}`;
  }
}

function firstHeader(v: string | string[] | undefined): string | undefined {
  return Array.isArray(v) ? v[0] : v;
}
