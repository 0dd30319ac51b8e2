/** `berth image prune` — removes dangling images and every blob nothing names, and says which. */
import { prune } from '../../../image/store/gc.ts';
import { defineCommand } from '../context.ts';
import { formatBytes } from '../progress.ts';

export default defineCommand({
  args: [],
  flags: [],
  async run(ctx) {
    const r = await prune(await ctx.store());
    for (const id of r.images) ctx.out(`Deleted image: ${id.slice(7)}\n`);
    for (const d of r.blobs) ctx.out(`Deleted blob: ${d}\n`);
    if (r.ingests > 0) ctx.out(`Deleted ${r.ingests} unfinished download${r.ingests === 1 ? '' : 's'}\n`);
    ctx.info(`Reclaimed ${formatBytes(r.bytes)}`);
    return 0;
  },
});
