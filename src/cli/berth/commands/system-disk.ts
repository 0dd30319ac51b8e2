/**
 * `berth system df [-v]` (docker's summary of images, containers, local
 * volumes and their reclaimable space, from `GET /system/df`) and `berth
 * system prune [-a] [--volumes]` (stopped containers, then dangling images
 * — every unused one with -a — and with --volumes the unused anonymous
 * volumes).
 */
import { defineCommand } from '../context.ts';
import { renderList } from '../format/list.ts';
import { humanSize } from '../../../go-units.ts';

interface Df {
  Images: { Size: number; Containers: number }[];
  Containers: { State: string; SizeRw?: number }[];
  Volumes: { UsageData: { Size: number; RefCount: number } }[];
}

const HEADER = { Type: 'TYPE', Total: 'TOTAL', Active: 'ACTIVE', Size: 'SIZE', Reclaimable: 'RECLAIMABLE' };

function reclaimable(part: number, whole: number): string {
  return whole === 0 ? `${humanSize(part)}` : `${humanSize(part)} (${Math.round((part / whole) * 100)}%)`;
}

export const df = defineCommand({
  args: [],
  flags: [{ name: 'format', type: 'string', value: 'string', help: 'Format output using a custom template' }],
  async run(ctx, input) {
    const client = await ctx.daemon();
    const d = (await client.json('GET', '/system/df')) as Df;
    const imgSize = d.Images.reduce((a, i) => a + i.Size, 0);
    const imgFree = d.Images.filter((i) => i.Containers === 0).reduce((a, i) => a + i.Size, 0);
    const ctrSize = d.Containers.reduce((a, c) => a + (c.SizeRw ?? 0), 0);
    const ctrFree = d.Containers.filter((c) => c.State !== 'running' && c.State !== 'paused').reduce((a, c) => a + (c.SizeRw ?? 0), 0);
    const volSize = d.Volumes.reduce((a, v) => a + Math.max(0, v.UsageData.Size), 0);
    const volFree = d.Volumes.filter((v) => v.UsageData.RefCount === 0).reduce((a, v) => a + Math.max(0, v.UsageData.Size), 0);
    const rows = [
      { Type: 'Images', Total: d.Images.length, Active: d.Images.filter((i) => i.Containers > 0).length, Size: humanSize(imgSize), Reclaimable: reclaimable(imgFree, imgSize) },
      { Type: 'Containers', Total: d.Containers.length, Active: d.Containers.filter((c) => c.State === 'running' || c.State === 'paused').length, Size: humanSize(ctrSize), Reclaimable: reclaimable(ctrFree, ctrSize) },
      { Type: 'Local Volumes', Total: d.Volumes.length, Active: d.Volumes.filter((v) => v.UsageData.RefCount > 0).length, Size: humanSize(volSize), Reclaimable: reclaimable(volFree, volSize) },
      { Type: 'Build Cache', Total: 0, Active: 0, Size: humanSize(0), Reclaimable: humanSize(0) },
    ];
    ctx.out(renderList(input.str('format') ?? 'table {{.Type}}\t{{.Total}}\t{{.Active}}\t{{.Size}}\t{{.Reclaimable}}', rows, HEADER));
    return 0;
  },
});

export const prune = defineCommand({
  args: [],
  flags: [
    { name: 'all', short: 'a', type: 'bool', help: 'Remove all unused images not just dangling ones' },
    { name: 'volumes', type: 'bool', help: 'Prune anonymous volumes' },
    { name: 'force', short: 'f', type: 'bool', help: 'Do not prompt for confirmation' },
  ],
  async run(ctx, input) {
    const client = await ctx.daemon();
    const c = (await client.json('POST', '/containers/prune')) as { ContainersDeleted: string[] | null; SpaceReclaimed: number };
    let reclaimed = c.SpaceReclaimed;
    for (const id of c.ContainersDeleted ?? []) ctx.out(`Deleted Container: ${id}\n`);
    if (input.bool('volumes')) {
      const v = (await client.json('POST', '/volumes/prune')) as { VolumesDeleted: string[] | null; SpaceReclaimed: number };
      for (const name of v.VolumesDeleted ?? []) ctx.out(`Deleted Volume: ${name}\n`);
      reclaimed += v.SpaceReclaimed;
    }
    const i = (await client.json('POST', '/images/prune', { query: { filters: JSON.stringify({ dangling: { [input.bool('all') ? 'false' : 'true']: true } }) } })) as { ImagesDeleted: { Deleted?: string; Untagged?: string }[] | null; SpaceReclaimed: number };
    for (const x of i.ImagesDeleted ?? []) ctx.out(x.Deleted !== undefined ? `Deleted Image: ${x.Deleted}\n` : `Untagged: ${x.Untagged ?? ''}\n`);
    reclaimed += i.SpaceReclaimed;
    ctx.out(`Total reclaimed space: ${humanSize(reclaimed)}\n`);
    return 0;
  },
});
