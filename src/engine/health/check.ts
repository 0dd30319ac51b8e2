/**
 * Docker's health check rules, pure (moby daemon/health.go): the command
 * from Test (CMD runs its arguments, CMD-SHELL a shell line, NONE none),
 * the defaults (interval and timeout 30 s, start period 0, 3 retries, 5 s
 * between probes while starting inside the start period), the state after
 * each probe (a pass makes it healthy and clears the streak; a failure
 * counts unless the container is still starting within its start period,
 * and Retries failures in a row make it unhealthy), the last 5 probes
 * kept, each output capped at 4096 bytes.
 */
import { invalidArgument } from '../../errors.ts';
import type { Healthcheck } from '../spec/health.ts';
import type { HealthProbe, HealthState } from '../store/health.ts';

/** Docker's API also has StartInterval (1.44), which image configs lack. */
export type HealthcheckConfig = Healthcheck & { StartInterval?: number };

export interface HealthSettings {
  command: string[];
  intervalMs: number;
  timeoutMs: number;
  startPeriodMs: number;
  startIntervalMs: number;
  retries: number;
  /** Docker's own spelling of the timeout, for the probe's message. */
  timeoutText: string;
}

export const MAX_OUTPUT = 4096;
export const MAX_LOG = 5;

const ms = (ns: number | undefined, fallbackNs: number): number => (ns === undefined || ns === 0 ? fallbackNs : ns) / 1e6;

/** Go's time.Duration.String() for the durations a health check has: "500ms", "1.5s", "1m30s", "1h0m0s". */
export function goDuration(ns: number): string {
  if (ns === 0) return '0s';
  if (ns < 1e3) return `${ns}ns`;
  if (ns < 1e6) return `${ns / 1e3}µs`;
  if (ns < 1e9) return `${ns / 1e6}ms`;
  const h = Math.floor(ns / 3600e9);
  const m = Math.floor((ns % 3600e9) / 60e9);
  const s = (ns % 60e9) / 1e9;
  return `${h > 0 ? `${h}h` : ''}${h > 0 || m > 0 ? `${m}m` : ''}${s}s`;
}

/** The settings of a check, or undefined when it runs nothing (no Test, NONE). */
export function healthSettings(check: HealthcheckConfig | undefined): HealthSettings | undefined {
  const test = check?.Test;
  if (check === undefined || test === undefined || test.length === 0 || test[0] === 'NONE') return undefined;
  let command: string[];
  if (test[0] === 'CMD') command = test.slice(1);
  else if (test[0] === 'CMD-SHELL') command = ['/bin/sh', '-c', ...test.slice(1)];
  else throw invalidArgument('health_check_invalid', `health check Test ${JSON.stringify(test)}: must start with CMD, CMD-SHELL or NONE`);
  if (command.length === 0 || command[0] === '') throw invalidArgument('health_check_invalid', `health check Test ${JSON.stringify(test)}: no command`);
  for (const [field, value] of Object.entries({ Interval: check.Interval, Timeout: check.Timeout, StartPeriod: check.StartPeriod, StartInterval: check.StartInterval, Retries: check.Retries })) {
    if (value !== undefined && (!Number.isSafeInteger(value) || value < 0)) throw invalidArgument('health_check_invalid', `health check ${field} ${value}: must be a non-negative integer`);
  }
  const timeoutNs = check.Timeout === undefined || check.Timeout === 0 ? 30e9 : check.Timeout;
  return {
    command,
    intervalMs: ms(check.Interval, 30e9),
    timeoutMs: timeoutNs / 1e6,
    startPeriodMs: ms(check.StartPeriod, 0),
    startIntervalMs: ms(check.StartInterval, 5e9),
    retries: check.Retries === undefined || check.Retries <= 0 ? 3 : check.Retries,
    timeoutText: goDuration(timeoutNs),
  };
}

/** The wait before the next probe (Docker's getInterval): inside the start period, StartInterval while starting, and never past the period's end. */
export function nextInterval(s: HealthSettings, state: HealthState, startedAtMs: number, nowMs: number): number {
  const elapsed = nowMs - startedAtMs;
  if (elapsed >= s.startPeriodMs) return s.intervalMs;
  const remaining = s.startPeriodMs - elapsed;
  if (remaining < s.intervalMs) return remaining;
  return state.Status === 'starting' ? s.startIntervalMs : s.intervalMs;
}

/** At most MAX_OUTPUT bytes of output, "..." when more was cut, as dockerd's limitedBuffer. */
export function cappedOutput(chunks: readonly Buffer[]): string {
  const all = Buffer.concat(chunks);
  return all.length > MAX_OUTPUT ? `${all.subarray(0, MAX_OUTPUT).toString()}...` : all.toString();
}

/** The state after one probe, which started at probe.Start. */
export function applyProbe(s: HealthSettings, prev: HealthState, probe: HealthProbe, startedAtMs: number): HealthState {
  const Log = [...prev.Log, probe].slice(-MAX_LOG);
  if (probe.ExitCode === 0) return { Status: 'healthy', FailingStreak: 0, Log };
  // Still starting and within the start period: a failure does not count.
  if (prev.Status === 'starting' && Date.parse(probe.Start) - startedAtMs < s.startPeriodMs) return { ...prev, Log };
  const FailingStreak = prev.FailingStreak + 1;
  return { Status: FailingStreak >= s.retries ? 'unhealthy' : prev.Status, FailingStreak, Log };
}
