/**
 * How long a registry transfer may take. Two bounds: an idle timeout (no
 * byte moved on the connection for that long; a stall, retried and resumed
 * like a broken connection) and an overall deadline for a blob or manifest,
 * across its retries (a trickle; not retried). The deadline grows with the
 * size: 5 minutes plus the time the content takes at 64 KiB/s, unless a
 * fixed one is set. Users set them with BERTH_REGISTRY_IDLE_TIMEOUT and
 * BERTH_REGISTRY_TIMEOUT (seconds), library callers with the client's options.
 */
import { invalidArgument, unavailable, type BerthError } from '../../errors.ts';

export interface TransferTimeouts {
  /** No byte for this long ends the attempt (ms). */
  idleMs: number;
  /** A fixed overall deadline per transfer (ms); undefined: scaled to the size. */
  deadlineMs?: number;
}

export const IDLE_ENV = 'BERTH_REGISTRY_IDLE_TIMEOUT';
export const DEADLINE_ENV = 'BERTH_REGISTRY_TIMEOUT';
const DEFAULT_IDLE_MS = 60_000;
const BASE_DEADLINE_MS = 5 * 60_000;
const MIN_BYTES_PER_SECOND = 64 * 1024;

function seconds(env: NodeJS.ProcessEnv, name: string): number | undefined {
  const raw = env[name];
  if (raw === undefined || raw === '') return undefined;
  const n = Number(raw);
  if (!Number.isFinite(n) || n <= 0) throw invalidArgument('invalid_timeout', `${name}="${raw}": want a number of seconds greater than 0`);
  return Math.round(n * 1000);
}

export function timeoutsFromEnv(env: NodeJS.ProcessEnv = process.env): TransferTimeouts {
  const deadlineMs = seconds(env, DEADLINE_ENV);
  return { idleMs: seconds(env, IDLE_ENV) ?? DEFAULT_IDLE_MS, ...(deadlineMs === undefined ? {} : { deadlineMs }) };
}

/** The overall time a transfer of `size` bytes may take. */
export function deadlineFor(t: TransferTimeouts, size: number): number {
  return t.deadlineMs ?? BASE_DEADLINE_MS + Math.ceil((size / MIN_BYTES_PER_SECOND) * 1000);
}

function formatDuration(ms: number): string {
  return `${ms / 1000} s`;
}

export function idleTimeout(what: string, ms: number): BerthError {
  return unavailable('registry_timeout', `${what}: the registry sent nothing for ${formatDuration(ms)} (idle timeout, ${IDLE_ENV})`, {
    details: { transient: true, timeoutMs: ms },
  });
}

export function deadlineExceeded(what: string, ms: number): BerthError {
  return unavailable('registry_timeout', `${what}: not complete after ${formatDuration(ms)} (transfer deadline, ${DEADLINE_ENV})`, {
    details: { transient: false, timeoutMs: ms },
  });
}
