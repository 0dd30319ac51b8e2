/**
 * `berth rmi IMAGE...` (`berth image rm`) — names untagged, images removed
 * as src/image/remove.ts decides; every removal is printed.
 */
import { removeImages } from '../../../image/remove.ts';
import { defineCommand } from '../context.ts';

export default defineCommand({
  args: ['IMAGE...'],
  flags: [{ name: 'force', short: 'f', type: 'bool', help: 'remove an image by ID even when it has several names' }],
  async run(ctx, input) {
    const removals = await removeImages(await ctx.store(), input.args, { force: input.bool('force') });
    for (const r of removals) ctx.out('untagged' in r ? `Untagged: ${r.untagged}\n` : `Deleted: ${r.deleted}\n`);
    return 0;
  },
});
