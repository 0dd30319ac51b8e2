/**
 * When an async call is tried again, as OpenFaaS Pro's queue-worker does:
 * per function, annotations `com.openfaas.retry.attempts` (tries in all,
 * the first included), `com.openfaas.retry.codes` (the statuses tried
 * again, comma-separated), `com.openfaas.retry.min_wait` and
 * `com.openfaas.retry.max_wait` (Go durations: the first wait, and the
 * most any wait may be). OpenFaaS falls back to its defaults on a bad
 * value; berth refuses the deployment naming the annotation, so a typo
 * is not silently a different policy.
 *
 * The wait before try n+1 doubles from min_wait, with ±25 % jitter (calls
 * that failed together do not come back together), and stays within
 * [min_wait, max_wait]. A Retry-After in seconds (429, 503) is honoured
 * within the same bounds.
 */
import { parseDuration } from '../../image/build/duration.ts';
import { invalidArgument } from '../../errors.ts';

export const ANNOTATION_RETRY_ATTEMPTS = 'com.openfaas.retry.attempts';
export const ANNOTATION_RETRY_CODES = 'com.openfaas.retry.codes';
export const ANNOTATION_RETRY_MIN_WAIT = 'com.openfaas.retry.min_wait';
export const ANNOTATION_RETRY_MAX_WAIT = 'com.openfaas.retry.max_wait';

export interface RetryPolicy {
  /** Tries in all, the first included (1: never tried again). */
  attempts: number;
  /** Statuses from the function that are tried again. */
  codes: ReadonlySet<number>;
  minWaitMs: number;
  maxWaitMs: number;
}

/**
 * OpenFaaS's chart defaults (10 tries, 10s, 2m), with the statuses that
 * say "later" (408, 429, 502, 503, 504) and not 500: a function's own
 * error is mostly the same on the next try.
 */
export const DEFAULT_RETRY: RetryPolicy = {
  attempts: 10,
  codes: new Set([408, 429, 502, 503, 504]),
  minWaitMs: 10_000,
  maxWaitMs: 120_000,
};

/** More tries than this is a queue that never drains. */
const MAX_ATTEMPTS = 1000;

function bad(annotation: string, why: string): never {
  throw invalidArgument('faas_deployment_invalid', `function deployment: annotations.${annotation}: ${why}`);
}

function durationMs(annotation: string, raw: string): number {
  try {
    return Math.round(parseDuration(raw) / 1e6);
  } catch {
    return bad(annotation, `"${raw}" is not a duration (like 500ms, 5s or 1m)`);
  }
}

/** A function's retry policy from its annotations (defaults where absent); a bad value is refused naming it. */
export function retryPolicyOf(annotations: Readonly<Record<string, string>>, defaults: RetryPolicy = DEFAULT_RETRY): RetryPolicy {
  let { attempts, codes, minWaitMs, maxWaitMs } = defaults;
  const a = annotations[ANNOTATION_RETRY_ATTEMPTS];
  if (a !== undefined) {
    if (!/^\d{1,4}$/.test(a) || Number(a) < 1 || Number(a) > MAX_ATTEMPTS) bad(ANNOTATION_RETRY_ATTEMPTS, `"${a}" is not a number of tries (1 to ${MAX_ATTEMPTS}, the first included)`);
    attempts = Number(a);
  }
  const c = annotations[ANNOTATION_RETRY_CODES];
  if (c !== undefined) {
    const list = c.split(',').map((s) => s.trim()).filter((s) => s !== '');
    for (const s of list) if (!/^[1-5]\d\d$/.test(s)) bad(ANNOTATION_RETRY_CODES, `"${s}" is not an HTTP status (like 429,503)`);
    codes = new Set(list.map(Number));
  }
  const min = annotations[ANNOTATION_RETRY_MIN_WAIT];
  if (min !== undefined) minWaitMs = durationMs(ANNOTATION_RETRY_MIN_WAIT, min);
  const max = annotations[ANNOTATION_RETRY_MAX_WAIT];
  if (max !== undefined) maxWaitMs = durationMs(ANNOTATION_RETRY_MAX_WAIT, max);
  if (maxWaitMs < minWaitMs) {
    bad(max !== undefined ? ANNOTATION_RETRY_MAX_WAIT : ANNOTATION_RETRY_MIN_WAIT, `max_wait (${maxWaitMs}ms) is below min_wait (${minWaitMs}ms)`);
  }
  return { attempts, codes, minWaitMs, maxWaitMs };
}

/** A Retry-After header in delay-seconds (HTTP-dates are not honoured), in ms. */
export function retryAfterMs(header: string | undefined): number | undefined {
  if (header === undefined || !/^\d{1,6}$/.test(header.trim())) return undefined;
  return Number(header.trim()) * 1000;
}

/**
 * The wait before the next try, after `failed` tries have failed (1 or
 * more). `random` is in [0, 1) (Math.random; a test hands its own).
 */
export function backoffMs(p: RetryPolicy, failed: number, random: () => number = Math.random, retryAfter?: number): number {
  const clamp = (ms: number): number => Math.min(p.maxWaitMs, Math.max(p.minWaitMs, Math.round(ms)));
  if (retryAfter !== undefined) return clamp(retryAfter);
  // 2^30 and up only overflows the bound anyway.
  const raw = p.minWaitMs * 2 ** Math.min(30, Math.max(0, failed - 1));
  return clamp(raw * (0.75 + random() * 0.5));
}
