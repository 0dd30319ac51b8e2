/**
 * The health check a container gets: the `--health-*` flags over the image's
 * HEALTHCHECK, field by field, as docker merges them (a flag left out keeps
 * the image's value); `--no-healthcheck` turns it off and conflicts with the
 * other flags. Durations are Go's ("30s", "1m30s") and kept in nanoseconds,
 * as in image configs.
 */
import type { ImageConfigDetails } from '../../oci/image-spec.ts';
import { parseDuration } from '../../image/build/duration.ts';
import { conflict, flagError } from './flag-error.ts';

export type Healthcheck = NonNullable<ImageConfigDetails['Healthcheck']>;

export interface HealthFlags {
  healthCmd?: string | undefined;
  healthInterval?: string | undefined;
  healthRetries?: string | undefined;
  healthTimeout?: string | undefined;
  healthStartPeriod?: string | undefined;
  noHealthcheck?: boolean | undefined;
}

/** What the user asked for: undefined when no health flag was given. */
export type HealthOptions = { disabled: true } | { disabled: false; check: Healthcheck } | undefined;

const HEALTH_FLAGS = [
  ['healthCmd', '--health-cmd'],
  ['healthInterval', '--health-interval'],
  ['healthRetries', '--health-retries'],
  ['healthTimeout', '--health-timeout'],
  ['healthStartPeriod', '--health-start-period'],
] as const;

function duration(flag: string, raw: string): number {
  let ns: number;
  try {
    ns = parseDuration(raw);
  } catch (err) {
    throw flagError(flag, raw, 'not a duration (e.g. 30s, 1m30s, 500ms)', err);
  }
  if (ns !== 0 && ns < 1e6) throw flagError(flag, raw, 'must be at least 1ms');
  return ns;
}

export function parseHealth(f: HealthFlags): HealthOptions {
  const given = HEALTH_FLAGS.filter(([key]) => f[key] !== undefined);
  if (f.noHealthcheck === true) {
    const first = given[0];
    if (first !== undefined) throw conflict('--no-healthcheck', first[1]);
    return { disabled: true };
  }
  if (given.length === 0) return undefined;
  const check: Healthcheck = {};
  if (f.healthCmd !== undefined && f.healthCmd !== '') check.Test = ['CMD-SHELL', f.healthCmd];
  if (f.healthInterval !== undefined) check.Interval = duration('--health-interval', f.healthInterval);
  if (f.healthTimeout !== undefined) check.Timeout = duration('--health-timeout', f.healthTimeout);
  if (f.healthStartPeriod !== undefined) check.StartPeriod = duration('--health-start-period', f.healthStartPeriod);
  if (f.healthRetries !== undefined) {
    if (!/^\d+$/.test(f.healthRetries)) throw flagError('--health-retries', f.healthRetries, 'not a non-negative integer');
    check.Retries = Number(f.healthRetries);
  }
  return { disabled: false, check };
}

/** The container's health check, or undefined for none. */
export function effectiveHealthcheck(image: Healthcheck | undefined, asked: HealthOptions): Healthcheck | undefined {
  if (asked?.disabled === true) return undefined;
  const merged: Healthcheck = { ...image };
  if (asked !== undefined) {
    for (const [k, v] of Object.entries(asked.check) as [keyof Healthcheck, never][]) {
      if (v !== 0 || merged[k] === undefined) merged[k] = v;
    }
  }
  const test = merged.Test;
  if (test === undefined || test.length === 0 || test[0] === 'NONE') return undefined;
  return merged;
}
