/**
 * Values of Docker's `filters` that mean the same for every kind of
 * object: a label (`key` or `key=value`) and prune's `until` (Unix
 * seconds, RFC 3339, or a duration back from now). Shared by the API's
 * container filters and the network store.
 */
import { invalidArgument } from './errors.ts';

export function labelMatches(labels: Record<string, string>, want: string): boolean {
  const eq = want.indexOf('=');
  if (eq < 0) return want in labels;
  return labels[want.slice(0, eq)] === want.slice(eq + 1);
}

/** `until` as milliseconds since the epoch. */
export function untilMs(raw: string): number {
  if (/^\d+(\.\d+)?$/.test(raw)) return Number(raw) * 1000;
  const m = /^(\d+)(s|m|h)$/.exec(raw);
  if (m) return Date.now() - Number(m[1]) * { s: 1000, m: 60_000, h: 3_600_000 }[m[2] as 's' | 'm' | 'h'];
  const t = Date.parse(raw);
  if (Number.isNaN(t)) throw invalidArgument('api_filters_invalid', `filter until="${raw}": not a time (Unix seconds, RFC 3339 or a duration like 10m)`);
  return t;
}
