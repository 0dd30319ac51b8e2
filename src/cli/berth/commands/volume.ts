/** `berth volume create|ls|inspect|rm|prune`, as docker's, through berthd's `/volumes` routes. */
import { VOLUME_CREATE_FLAGS, VOLUME_INSPECT_FLAGS, VOLUME_LS_FLAGS, VOLUME_PRUNE_FLAGS, VOLUME_RM_FLAGS, volumeCreateFrom } from '../command-flags.ts';
import { defineCommand } from '../context.ts';
import { filtersParam, parseFilters } from '../format/filters.ts';
import { inspectEach } from './inspect-each.ts';
import { removeEach } from './remove-each.ts';
import { renderList } from '../format/list.ts';
import { humanSize } from '../../../go-units.ts';

export const create = defineCommand({
  args: ['[VOLUME]'],
  flags: VOLUME_CREATE_FLAGS,
  async run(ctx, input) {
    const o = volumeCreateFrom(input.flags);
    const client = await ctx.daemon();
    const v = (await client.json('POST', '/volumes/create', { body: { Name: input.args[0] ?? '', Driver: o.driver, Labels: o.labels } })) as { Name: string };
    ctx.out(`${v.Name}\n`);
    return 0;
  },
});

const LS_TABLE = 'table {{.Driver}}\t{{.Name}}';
const LS_HEADER = { Driver: 'DRIVER', Name: 'VOLUME NAME', Mountpoint: 'MOUNTPOINT', Scope: 'SCOPE', Labels: 'LABELS', CreatedAt: 'CREATED' };

export const ls = defineCommand({
  args: [],
  flags: VOLUME_LS_FLAGS,
  async run(ctx, input) {
    const filters = parseFilters(input.list('filter'), 'volume ls');
    const client = await ctx.daemon();
    const r = (await client.json('GET', '/volumes', { query: { filters: filtersParam(filters) } })) as { Volumes: { Name: string; Labels: Record<string, string> | null }[] };
    const format = input.bool('quiet') ? '{{.Name}}' : input.str('format') === 'json' ? '{{json .}}' : (input.str('format') ?? LS_TABLE);
    const items = r.Volumes.map((v) => ({ ...v, Labels: Object.entries(v.Labels ?? {}).map(([k, x]) => `${k}=${x}`).join(',') }));
    ctx.out(renderList(format, items, LS_HEADER));
    return 0;
  },
});

export const inspect = defineCommand({
  args: ['VOLUME...'],
  flags: VOLUME_INSPECT_FLAGS,
  async run(ctx, input) {
    const client = await ctx.daemon();
    return inspectEach(ctx, input.args, (name) => client.json('GET', `/volumes/${encodeURIComponent(name)}`), input.str('format'));
  },
});

export const rm = defineCommand({
  args: ['VOLUME...'],
  flags: VOLUME_RM_FLAGS,
  async run(ctx, input) {
    const client = await ctx.daemon();
    return removeEach(ctx, input.args, (name) => client.json('DELETE', `/volumes/${encodeURIComponent(name)}`, { query: { force: input.bool('force') } }));
  },
});

export const prune = defineCommand({
  args: [],
  flags: VOLUME_PRUNE_FLAGS,
  async run(ctx, input) {
    const filters = parseFilters(input.list('filter'), 'volume prune');
    if (input.bool('all')) filters['all'] = { true: true };
    const client = await ctx.daemon();
    const r = (await client.json('POST', '/volumes/prune', { query: { filters: filtersParam(filters) } })) as { VolumesDeleted: string[] | null; SpaceReclaimed: number };
    const deleted = r.VolumesDeleted ?? [];
    if (deleted.length > 0) ctx.out(`Deleted Volumes:\n${deleted.map((d) => `${d}\n`).join('')}\n`);
    ctx.out(`Total reclaimed space: ${humanSize(r.SpaceReclaimed)}\n`);
    return 0;
  },
});
