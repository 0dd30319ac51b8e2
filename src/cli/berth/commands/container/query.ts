/**
 * The container commands that read: ps, inspect, logs, top, port, stats,
 * events, and container prune. Each asks berthd over the Docker Engine
 * API and prints as docker does (src/cli/berth/format).
 */
import { CONTAINER_PRUNE_FLAGS, EVENTS_FLAGS, INSPECT_FLAGS, LOGS_FLAGS, NO_FLAGS, PS_FLAGS, STATS_FLAGS, logsOptionsFrom } from '../../command-flags.ts';
import { defineCommand } from '../../context.ts';
import { asEventMessage, eventsTemplate, renderEvent } from '../../format/events.ts';
import { filtersParam, parseFilters } from '../../format/filters.ts';
import { inspectEach } from '../inspect-each.ts';
import { asContainerSummary, psWantsSize, renderPs } from '../../format/ps.ts';
import { invalidStatsEntry, renderStats, statsEntry, type StatsEntry } from '../../format/stats.ts';
import { tabwrite } from '../../format/tabwriter.ts';
import { parseSince } from '../../since.ts';
import { demux, containerPath as path } from './attach-io.ts';

const seconds = (ns: bigint): string => `${ns / 1_000_000_000n}.${(ns % 1_000_000_000n).toString().padStart(9, '0')}`;

export const ps = defineCommand({
  args: [],
  flags: PS_FLAGS,
  async run(ctx, input) {
    const filters = parseFilters(input.list('filter'), 'ps');
    const last = input.bool('latest') ? 1 : input.int('last');
    const client = await ctx.daemon();
    const all = input.bool('all') || (last !== undefined && last > 0);
    const list = (await client.json('GET', '/containers/json', { query: { all, limit: last, filters: filtersParam(filters), size: psWantsSize(input.str('format'), input.bool('size')) } })) as unknown[];
    ctx.out(renderPs(list.map((c, i) => asContainerSummary(c, i)), { format: input.str('format'), quiet: input.bool('quiet'), size: input.bool('size'), noTrunc: input.bool('no-trunc') }));
    return 0;
  },
});

export const inspect = defineCommand({
  args: ['CONTAINER...'],
  flags: INSPECT_FLAGS,
  async run(ctx, input) {
    const client = await ctx.daemon();
    return inspectEach(ctx, input.args, (name) => client.json('GET', path(name, '/json'), { query: { size: input.bool('size') } }), input.str('format'));
  },
});

export const logs = defineCommand({
  args: ['CONTAINER'],
  flags: LOGS_FLAGS,
  async run(ctx, input) {
    const o = logsOptionsFrom(input.flags);
    const [name = ''] = input.args;
    const client = await ctx.daemon();
    const info = (await client.json('GET', path(name, '/json'))) as { Config: { Tty: boolean } };
    const feed = info.Config.Tty ? (b: Buffer) => void process.stdout.write(b) : demux((b) => void process.stdout.write(b), (b) => void process.stderr.write(b));
    const query = {
      stdout: true,
      stderr: true,
      follow: o.follow,
      timestamps: o.timestamps,
      ...(o.since === undefined ? {} : { since: seconds(o.since) }),
      ...(o.until === undefined ? {} : { until: seconds(o.until) }),
      ...(o.tail === undefined ? {} : { tail: o.tail }),
    };
    for await (const chunk of client.stream('GET', path(name, '/logs'), { query })) feed(chunk);
    return 0;
  },
});

export const top = defineCommand({
  args: ['CONTAINER', '[PS_OPTIONS...]'],
  flags: NO_FLAGS,
  flagsEndAtFirstArg: true,
  async run(ctx, input) {
    const [name = '', ...psArgs] = input.args;
    const client = await ctx.daemon();
    const r = (await client.json('GET', path(name, '/top'), { query: { ps_args: psArgs.length > 0 ? psArgs.join(' ') : undefined } })) as { Titles: string[]; Processes: string[][] };
    ctx.out(tabwrite([r.Titles.join('\t'), ...r.Processes.map((p) => p.join('\t'))].join('\n') + '\n'));
    return 0;
  },
});

export const port = defineCommand({
  args: ['CONTAINER', '[PRIVATE_PORT[/PROTO]]'],
  flags: NO_FLAGS,
  async run(ctx, input) {
    const [name = '', which] = input.args;
    const client = await ctx.daemon();
    const info = (await client.json('GET', path(name, '/json'))) as { NetworkSettings: { Ports: Record<string, { HostIp: string; HostPort: string }[] | null> } };
    const ports = Object.entries(info.NetworkSettings.Ports ?? {});
    const wanted = which === undefined ? undefined : which.includes('/') ? which : `${which}/tcp`;
    let found = false;
    for (const [p, bindings] of ports) {
      if (wanted !== undefined && p !== wanted) continue;
      for (const b of bindings ?? []) {
        found = true;
        ctx.out(wanted === undefined ? `${p} -> ${b.HostIp}:${b.HostPort}\n` : `${b.HostIp}:${b.HostPort}\n`);
      }
    }
    if (wanted !== undefined && !found) {
      ctx.stderr.write(`berth: no public port '${wanted}' published for ${name}\n`);
      return 1;
    }
    return 0;
  },
});

export const stats = defineCommand({
  args: ['[CONTAINER...]'],
  flags: STATS_FLAGS,
  async run(ctx, input) {
    const client = await ctx.daemon();
    const names = input.args.length > 0 ? [...input.args] : ((await client.json('GET', '/containers/json', { query: { all: input.bool('all') } })) as { Id: string }[]).map((c) => c.Id.slice(0, 12));
    const once = async (): Promise<StatsEntry[]> =>
      Promise.all(
        names.map(async (n) => {
          try {
            // A stream's second sample carries the first as precpu: CPU % needs both.
            let first: unknown;
            for await (const chunk of client.stream('GET', path(n, '/stats'), { query: { stream: true } })) {
              const line = chunk.toString().trim();
              if (line === '') continue;
              if (first !== undefined) return statsEntry(n, JSON.parse(line));
              first = JSON.parse(line);
            }
            return invalidStatsEntry(n);
          } catch {
            return invalidStatsEntry(n);
          }
        }),
      );
    const trunc = !input.bool('no-trunc');
    if (input.bool('no-stream')) {
      ctx.out(renderStats(await once(), input.str('format'), trunc));
      return 0;
    }
    for (;;) {
      const entries = await once();
      if (ctx.stdout.isTTY) ctx.out('\x1b[2J\x1b[H');
      ctx.out(renderStats(entries, input.str('format'), trunc));
    }
  },
});

export const events = defineCommand({
  args: [],
  flags: EVENTS_FLAGS,
  async run(ctx, input) {
    const filters = parseFilters(input.list('filter'), 'events');
    const template = eventsTemplate(input.str('format'));
    const since = input.str('since');
    const until = input.str('until');
    const client = await ctx.daemon();
    const query = {
      filters: filtersParam(filters),
      ...(since === undefined ? {} : { since: seconds(parseSince(since, Date.now(), '--since')) }),
      ...(until === undefined ? {} : { until: seconds(parseSince(until, Date.now(), '--until')) }),
    };
    let rest = '';
    for await (const chunk of client.stream('GET', '/events', { query })) {
      rest += chunk.toString();
      let nl: number;
      while ((nl = rest.indexOf('\n')) >= 0) {
        const line = rest.slice(0, nl).trim();
        rest = rest.slice(nl + 1);
        if (line !== '') ctx.out(renderEvent(asEventMessage(JSON.parse(line)), template, input.str('format') ?? ''));
      }
    }
    return 0;
  },
});

export const prune = defineCommand({
  args: [],
  flags: CONTAINER_PRUNE_FLAGS,
  async run(ctx, input) {
    const filters = parseFilters(input.list('filter'), 'container prune');
    const client = await ctx.daemon();
    const r = (await client.json('POST', '/containers/prune', { query: { filters: filtersParam(filters) } })) as { ContainersDeleted: string[] | null; SpaceReclaimed: number };
    const deleted = r.ContainersDeleted ?? [];
    if (deleted.length > 0) ctx.out(`Deleted Containers:\n${deleted.map((d) => `${d}\n`).join('')}\n`);
    const { humanSize } = await import('../../../../go-units.ts');
    ctx.out(`Total reclaimed space: ${humanSize(r.SpaceReclaimed)}\n`);
    return 0;
  },
});
