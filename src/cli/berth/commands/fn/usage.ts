/**
 * `berth fn usage [--since 1h|RFC3339] [-n NAMESPACE] [--json] [--gateway URL]`: what
 * each function's calls used, from the gateway's `GET /system/usage`
 * (berth's own, under the gateway's basic auth: the credentials are read
 * from ROOT/secrets as berthd keeps them): invocations, failures, total
 * duration, CPU-seconds and GB-seconds, the way a cloud bills (the memory
 * limit, or each call's measured peak when a function has none, times the
 * duration; 1 GB = 2^30 bytes), with the highest peak of a call. The sums
 * are per minute: --since counts from the start of its minute.
 *
 * The gateway is --gateway, else OPENFAAS_URL (as faas-cli reads it), else
 * http://127.0.0.1:8080.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describeError, invalidArgument, unavailable } from '../../../../errors.ts';
import { parseSince } from '../../../../faas/routes/usage.ts';
import type { FunctionUsage } from '../../../../faas/usage-store.ts';
import { bytesSize } from '../../../../go-units.ts';
import { defineCommand } from '../../context.ts';
import { tabwrite } from '../../format/tabwriter.ts';

export interface UsageReport {
  since: string;
  until: string;
  memoryBasis: string;
  functions: FunctionUsage[];
}

const DEFAULT_GATEWAY = 'http://127.0.0.1:8080';

const isNum = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);

/** The gateway's answer, checked (it comes over the network). */
export function checkUsageReport(v: unknown): UsageReport {
  const bad = (why: string): never => {
    throw unavailable('faas_usage_failed', `functions gateway: /system/usage: unexpected answer: ${why}`);
  };
  if (typeof v !== 'object' || v === null) return bad('not a JSON object');
  const o = v as Record<string, unknown>;
  if (typeof o['since'] !== 'string' || typeof o['until'] !== 'string' || typeof o['memoryBasis'] !== 'string' || !Array.isArray(o['functions'])) return bad('since, until, memoryBasis or functions missing');
  const functions = o['functions'].map((f: unknown, i): FunctionUsage => {
    const r = (typeof f === 'object' && f !== null ? f : {}) as Record<string, unknown>;
    const nums = ['invocations', 'failures', 'durationSeconds', 'cpuSeconds', 'gbSeconds', 'memoryPeakBytes'] as const;
    if (typeof r['name'] !== 'string' || typeof r['namespace'] !== 'string' || nums.some((k) => !isNum(r[k]))) return bad(`functions[${i}] is not a function's usage`);
    return {
      name: r['name'], namespace: r['namespace'],
      invocations: r['invocations'] as number, failures: r['failures'] as number, durationSeconds: r['durationSeconds'] as number,
      cpuSeconds: r['cpuSeconds'] as number, gbSeconds: r['gbSeconds'] as number, memoryPeakBytes: r['memoryPeakBytes'] as number,
    };
  });
  return { since: o['since'], until: o['until'], memoryBasis: o['memoryBasis'], functions };
}

/** GET /system/usage; `since` as the flag gives it (checked here, so the error names the flag). */
export async function fetchUsage(gateway: string, auth: string, since: string | undefined, now = Date.now(), namespace?: string): Promise<UsageReport> {
  const params = new URLSearchParams();
  if (namespace !== undefined) params.set('namespace', namespace);
  if (since !== undefined) {
    let ms: number;
    try {
      ms = parseSince(since, now);
    } catch {
      throw invalidArgument('invalid_flag', `--since ${JSON.stringify(since)}: not a time (a duration back from now like 1h, or RFC 3339 like 2026-12-07T08:00:00Z)`);
    }
    params.set('since', new Date(ms).toISOString());
  }
  const query = params.size === 0 ? '' : `?${params.toString()}`;
  const url = `${gateway.replace(/\/+$/, '')}/system/usage${query}`;
  let res: Response;
  try {
    res = await fetch(url, { headers: { Authorization: auth } });
  } catch (err) {
    throw unavailable('faas_usage_failed', `functions gateway ${gateway}: ${describeError(err)}`, { cause: err });
  }
  const text = await res.text();
  if (res.status !== 200) throw unavailable('faas_usage_failed', `functions gateway ${gateway}: GET /system/usage: ${res.status} ${text.trim()}`);
  try {
    return checkUsageReport(JSON.parse(text) as unknown);
  } catch (err) {
    if (err instanceof SyntaxError) throw unavailable('faas_usage_failed', `functions gateway ${gateway}: /system/usage: not JSON`);
    throw err;
  }
}

const fixed = (n: number, digits: number): string => n.toFixed(digits);

/** The table `berth fn usage` prints. */
export function renderUsage(r: UsageReport): string {
  const lines = ['FUNCTION\tINVOCATIONS\tFAILURES\tDURATION (s)\tCPU-SECONDS\tGB-SECONDS\tPEAK MEMORY'];
  for (const f of r.functions) {
    lines.push([f.name, String(f.invocations), String(f.failures), fixed(f.durationSeconds, 3), fixed(f.cpuSeconds, 3), fixed(f.gbSeconds, 6), f.memoryPeakBytes > 0 ? bytesSize(f.memoryPeakBytes) : '-'].join('\t'));
  }
  return `${tabwrite(lines.join('\n'))}\nsince ${r.since}; ${r.memoryBasis}\n`;
}

/** Basic auth from the credentials berthd keeps under ROOT/secrets. */
export function gatewayAuth(root: string): string {
  const read = (f: string): string => {
    const path = join(root, 'secrets', f);
    try {
      return readFileSync(path, 'utf8').trim();
    } catch (err) {
      throw unavailable('faas_usage_failed', `${path}: cannot read the gateway's credentials (${describeError(err)}); has berthd run with the gateway on this root?`, { cause: err });
    }
  };
  return `Basic ${Buffer.from(`${read('basic-auth-user')}:${read('basic-auth-password')}`).toString('base64')}`;
}

export default defineCommand({
  args: [],
  flags: [
    { name: 'since', type: 'string', value: 'string', help: 'Usage from this time on: a duration back from now (1h) or RFC 3339' },
    { name: 'namespace', short: 'n', type: 'string', value: 'string', help: 'The functions of this namespace (default: openfaas-fn)' },
    { name: 'json', type: 'bool', help: 'Print the gateway\'s JSON' },
    { name: 'gateway', short: 'g', type: 'string', value: 'string', help: 'The functions gateway (default: OPENFAAS_URL, else http://127.0.0.1:8080)' },
  ],
  async run(ctx, input) {
    const gateway = input.str('gateway') ?? process.env['OPENFAAS_URL'] ?? DEFAULT_GATEWAY;
    const report = await fetchUsage(gateway, gatewayAuth(ctx.globals.root), input.str('since'), Date.now(), input.str('namespace'));
    ctx.out(input.bool('json') ? `${JSON.stringify(report, null, 2)}\n` : renderUsage(report));
    return 0;
  },
});
