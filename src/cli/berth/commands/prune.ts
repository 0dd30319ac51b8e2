/** `berth image prune` — removes dangling images and every blob nothing names, and says which. */
import { prune as gc } from '../../../image/store/gc.ts';
import { type Parsed } from '../args.ts';
import type { CommandContext } from '../context.ts';
import { formatBytes } from '../progress.ts';
import type { Command } from './command.ts';

export const prune: Command = {
  usage: 'berth image prune',
  summary: 'Remove dangling images and unreferenced blobs',
  options: {},
  async run(ctx: CommandContext, _p: Parsed) {
    const r = await gc(await ctx.store());
    for (const id of r.images) ctx.out(`Deleted image: ${id.slice(7)}\n`);
    for (const d of r.blobs) ctx.out(`Deleted blob: ${d}\n`);
    if (r.ingests > 0) ctx.out(`Deleted ${r.ingests} unfinished download${r.ingests === 1 ? '' : 's'}\n`);
    ctx.info(`Reclaimed ${formatBytes(r.bytes)}`);
    return 0;
  },
};
