/** `berth images [--json] [-q] [REPOSITORY]` — what the store holds (podman images). */
import { familiarName } from '../../../image/registry/reference.ts';
import type { ImageRecord } from '../../../image/store/store.ts';
import { bool, operands, type Parsed } from '../args.ts';
import type { CommandContext } from '../context.ts';
import { formatBytes } from '../progress.ts';
import type { Command } from './command.ts';

const usage = 'berth images [--json] [--quiet] [--no-trunc] [REPOSITORY]';

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

function splitName(name: string): { repository: string; tag: string } {
  const i = name.lastIndexOf(':');
  return i > name.lastIndexOf('/') ? { repository: name.slice(0, i), tag: name.slice(i + 1) } : { repository: name, tag: '<none>' };
}

export function imageJson(img: ImageRecord): Record<string, unknown> {
  return {
    Id: img.id.slice(7),
    Digest: img.indexDigest ?? img.manifestDigest,
    ManifestDigest: img.manifestDigest,
    RepoTags: img.names,
    RepoDigests: img.repoDigests,
    Names: img.names,
    Created: img.created === undefined ? null : Math.floor(Date.parse(img.created) / 1000),
    CreatedAt: img.created ?? null,
    Size: img.size,
    Os: img.os,
    Architecture: img.architecture,
    ...(img.variant === undefined ? {} : { Variant: img.variant }),
    Dangling: img.names.length === 0,
  };
}

export const images: Command = {
  usage,
  summary: 'List images in the store',
  options: { json: { type: 'boolean' }, 'no-trunc': { type: 'boolean' } },
  run(ctx: CommandContext, p: Parsed) {
    const [filter] = operands(p, 0, 1, usage);
    return (async () => {
      const store = await ctx.store();
      let list = store.list();
      if (filter !== undefined) {
        const want = store.parseName(filter);
        const repo = `${want.domain}/${want.path}`;
        list = list.filter((img) => img.names.some((n) => splitName(n).repository === repo && (want.tag === undefined || splitName(n).tag === want.tag)));
      }
      if (bool(p, 'json')) {
        ctx.out(`${JSON.stringify(list.map(imageJson), null, 2)}\n`);
        return 0;
      }
      const noTrunc = bool(p, 'no-trunc');
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
    })();
  },
};
