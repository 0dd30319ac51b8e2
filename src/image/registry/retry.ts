/**
 * Retries with exponential back-off and jitter, for registry requests that
 * failed in a way a retry can fix: a 5xx or 429 answer, or a connection that
 * broke or was refused. Everything else fails at once.
 */
import { errnoCode, isBerthError } from '../../errors.ts';

export interface RetryOptions {
  attempts?: number;
  baseDelayMs?: number;
  maxDelayMs?: number;
  /** Told before each wait, so a caller can show "retrying". */
  onRetry?: (attempt: number, err: unknown, delayMs: number) => void;
}

const TRANSIENT_ERRNO = new Set(['ECONNRESET', 'ECONNREFUSED', 'EPIPE', 'ETIMEDOUT', 'ECONNABORTED', 'EAI_AGAIN', 'UND_ERR_SOCKET', 'ERR_STREAM_PREMATURE_CLOSE']);

export function isTransient(err: unknown): boolean {
  if (isBerthError(err)) return err.details['transient'] === true;
  const code = errnoCode(err);
  if (code !== undefined && TRANSIENT_ERRNO.has(code)) return true;
  return err instanceof Error && /socket hang up|aborted/i.test(err.message);
}

export function isRetryableStatus(status: number): boolean {
  return status === 429 || status === 408 || (status >= 500 && status !== 501 && status !== 505);
}

export async function withRetry<T>(fn: (attempt: number) => Promise<T>, options: RetryOptions = {}): Promise<T> {
  const attempts = options.attempts ?? 4;
  const base = options.baseDelayMs ?? 250;
  const max = options.maxDelayMs ?? 5000;
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn(attempt);
    } catch (err) {
      if (attempt >= attempts || !isTransient(err)) throw err;
      const delay = Math.min(max, base * 2 ** (attempt - 1)) * (0.5 + Math.random() / 2);
      options.onRetry?.(attempt, err, delay);
      await new Promise((r) => setTimeout(r, delay));
    }
  }
}
