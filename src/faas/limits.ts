/**
 * A function's limits as a user can see them (in `describe`) and as the
 * gateway enforces them: memory and CPU (limits.memory, limits.cpu: the
 * replica's cgroup), the watchdog's timeouts (envVars exec_timeout,
 * read_timeout, write_timeout; 10s each when not given, as OpenFaaS's
 * watchdogs), and how long the gateway waits for an answer: the
 * function's exec_timeout and a second of grace when it is given (so the
 * watchdog's own 504 comes first, and an image serving :8080 itself, with
 * no watchdog, is held to it too), else 65s, faasd's upstream_timeout.
 */
import { parseDuration } from '../image/build/duration.ts';
import { cpus, memoryBytes, type FunctionSpec } from './deployment.ts';

export const DEFAULT_UPSTREAM_TIMEOUT_MS = 65_000;
const WATCHDOG_DEFAULT = '10s';
const GRACE_MS = 1_000;

export interface FunctionLimits {
  memory?: string;
  memoryBytes?: number;
  cpu?: string;
  cpus?: number;
  /** exec_timeout, read_timeout, write_timeout as the watchdog takes them, and upstream_timeout (the gateway's). */
  timeouts: Record<'exec_timeout' | 'read_timeout' | 'write_timeout' | 'upstream_timeout', string>;
  upstreamTimeoutMs: number;
}

/** A watchdog duration (Go syntax, or whole seconds) in ms; undefined when it is neither (the watchdog then refuses to start, naming it). */
export function watchdogDurationMs(raw: string | undefined): number | undefined {
  if (raw === undefined || raw === '') return undefined;
  if (/^\d+$/.test(raw)) return Number(raw) * 1000;
  try {
    return parseDuration(raw) / 1e6;
  } catch {
    return undefined;
  }
}

function seconds(ms: number): string {
  return ms % 1000 === 0 ? `${ms / 1000}s` : `${ms}ms`;
}

export function limitsOf(spec: FunctionSpec): FunctionLimits {
  const memory = spec.limits?.memory;
  const cpu = spec.limits?.cpu;
  const env = spec.envVars;
  const execMs = watchdogDurationMs(env['exec_timeout']);
  const upstreamTimeoutMs = execMs !== undefined && execMs > 0 ? execMs + GRACE_MS : DEFAULT_UPSTREAM_TIMEOUT_MS;
  return {
    ...(memory === undefined ? {} : { memory, memoryBytes: memoryBytes('limits.memory', memory) }),
    ...(cpu === undefined ? {} : { cpu, cpus: cpus('limits.cpu', cpu) }),
    timeouts: {
      exec_timeout: env['exec_timeout'] ?? WATCHDOG_DEFAULT,
      read_timeout: env['read_timeout'] ?? WATCHDOG_DEFAULT,
      write_timeout: env['write_timeout'] ?? WATCHDOG_DEFAULT,
      upstream_timeout: seconds(upstreamTimeoutMs),
    },
    upstreamTimeoutMs,
  };
}

/** Why the gateway stopped waiting, for the 504's body. */
export function upstreamTimeoutReason(spec: Pick<FunctionSpec, 'envVars'>, ms: number): string {
  const exec = spec.envVars['exec_timeout'];
  return exec !== undefined && watchdogDurationMs(exec) !== undefined
    ? `exec_timeout ${exec} (the gateway waits ${seconds(ms)})`
    : `the gateway's upstream timeout of ${seconds(ms)}`;
}

/**
 * What `describe` adds to OpenFaaS's FunctionStatus: the timeouts that
 * apply (given or defaulted) and, when the function has limits, each in
 * bytes and CPUs as enforced. OpenFaaS's own `limits` (as given) stay.
 */
export function limitsShown(spec: FunctionSpec): { timeouts: FunctionLimits['timeouts']; limitsEnforced?: { memoryBytes?: number; cpus?: number } } {
  const l = limitsOf(spec);
  const enforced = { ...(l.memoryBytes === undefined ? {} : { memoryBytes: l.memoryBytes }), ...(l.cpus === undefined ? {} : { cpus: l.cpus }) };
  return { timeouts: l.timeouts, ...(Object.keys(enforced).length === 0 ? {} : { limitsEnforced: enforced }) };
}
