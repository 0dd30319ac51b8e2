/** `berth images [--json] [-q] [REPOSITORY]` — what the store holds (podman images). */
import { imageSummary, listImages, splitName } from '../../../image/list.ts';
import { familiarName } from '../../../image/registry/reference.ts';
import type { ImageRecord } from '../../../image/store/store.ts';
import { defineCommand } from '../context.ts';
import { formatBytes } from '../progress.ts';

interface Row {
  repository: string;
  tag: string;
  id: string;
  created: string;
  size: string;
}

function since(iso: string | undefined): string {
  if (iso === undefined) return 'unknown';
  const s = Math.max(0, (Date.now() - Date.parse(iso)) / 1000);
  if (!Number.isFinite(s)) return 'unknown';
  const units: [number, string][] = [[31536000, 'year'], [2592000, 'month'], [604800, 'week'], [86400, 'day'], [3600, 'hour'], [60, 'minute']];
  for (const [secs, name] of units) if (s >= secs) return `${Math.floor(s / secs)} ${name}${Math.floor(s / secs) === 1 ? '' : 's'} ago`;
  return 'less than a minute ago';
}

export default defineCommand({
  args: ['[REPOSITORY]'],
  flags: [
    { name: 'json', type: 'bool', help: 'print JSON (podman\'s fields)' },
    { name: 'no-trunc', type: 'bool', help: 'print whole image IDs' },
  ],
  async run(ctx, input) {
    const list = listImages(await ctx.store(), input.args[0]);
    if (input.bool('json')) {
      ctx.out(`${JSON.stringify(list.map(imageSummary), null, 2)}\n`);
      return 0;
    }
    const noTrunc = input.bool('no-trunc');
    const id = (img: ImageRecord): string => (noTrunc ? img.id : img.id.slice(7, 19));
    if (ctx.globals.quiet) {
      ctx.out([...new Set(list.map(id))].map((i) => `${i}\n`).join(''));
      return 0;
    }
    const rows: Row[] = [];
    for (const img of list) {
      const names = img.names.length > 0 ? img.names : ['<none>:<none>'];
      for (const n of names) {
        const { repository, tag } = n === '<none>:<none>' ? { repository: '<none>', tag: '<none>' } : splitName(familiarName(n, ctx.defaults));
        rows.push({ repository, tag, id: id(img), created: since(img.created), size: formatBytes(img.size) });
      }
    }
    const header: Row = { repository: 'REPOSITORY', tag: 'TAG', id: 'IMAGE ID', created: 'CREATED', size: 'SIZE' };
    const all = [header, ...rows];
    const w = (k: keyof Row): number => Math.max(...all.map((r) => r[k].length));
    const line = (r: Row): string =>
      `${r.repository.padEnd(w('repository'))}  ${r.tag.padEnd(w('tag'))}  ${r.id.padEnd(w('id'))}  ${r.created.padEnd(w('created'))}  ${r.size}`;
    ctx.out(all.map((r) => `${line(r)}\n`).join(''));
    return 0;
  },
});
