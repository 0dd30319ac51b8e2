/**
 * `GET /system/usage[?since=]` (berth's own, under basic auth like all of
 * /system): per function, the calls that reached a replica since `since`
 * (RFC 3339, Unix seconds, or a Go duration back from now such as `1h`;
 * default: all that is kept, 30 days), their failures, summed duration,
 * CPU seconds and GB-seconds, and the highest peak memory of a call. The
 * sums are kept per minute: `since` counts from the start of its minute.
 */
import { namespaceQuery } from '../namespaces.ts';
import { parseDuration } from '../../image/build/duration.ts';
import { invalidArgument } from '../../errors.ts';
import type { UsageStore } from '../usage-store.ts';
import { ok, route, type GatewayRoute } from './types.ts';

export const MEMORY_BASIS = 'GB-seconds: the memory limit (the peak of each call when the function has none) times the duration, 1 GB = 2^30 bytes';

/** `since` as ms since the epoch. */
export function parseSince(raw: string, now: number): number {
  if (/^\d+(\.\d+)?$/.test(raw)) return Math.floor(Number(raw) * 1000);
  if (/^\d{4}-\d{2}-\d{2}T/.test(raw)) {
    const t = Date.parse(raw);
    if (!Number.isNaN(t)) return t;
  } else {
    try {
      return now - parseDuration(raw) / 1e6;
    } catch {
      // Named below.
    }
  }
  throw invalidArgument('faas_query_invalid', `since ${JSON.stringify(raw)}: not a time (RFC 3339 like 2026-12-07T08:00:00Z, Unix seconds, or a duration back from now like 1h)`);
}

export function usageRoutes(usage: UsageStore, now: () => number = Date.now): GatewayRoute[] {
  return [
    route('GET', '/system/usage', ({ query }) => {
      const t = now();
      const raw = query.get('since');
      const since = raw === null || raw === '' ? 0 : parseSince(raw, t);
      return ok({
        since: new Date(Math.floor(since / 60_000) * 60_000).toISOString(),
        until: new Date(t).toISOString(),
        memoryBasis: MEMORY_BASIS,
        functions: usage.query(since, namespaceQuery(query)),
      });
    }),
  ];
}
