/**
 * `berth rmi IMAGE...` — a name is untagged (and the image removed once it
 * has no name left); an ID removes the image, refusing one that still has
 * several names unless --force. Blobs no other image uses are deleted with
 * it. Every removal is printed.
 */
import { failedPrecondition } from '../../../errors.ts';
import { prune } from '../../../image/store/gc.ts';
import { isDigest } from '../../../image/store/digest.ts';
import { bool, operands, type Parsed } from '../args.ts';
import type { CommandContext } from '../context.ts';
import type { Command } from './command.ts';

const usage = 'berth rmi [--force] IMAGE...';

export const rmi: Command = {
  usage,
  summary: 'Remove images from the store',
  options: { force: { type: 'boolean', short: 'f' } },
  async run(ctx: CommandContext, p: Parsed) {
    const targets = operands(p, 1, Infinity, usage);
    const store = await ctx.store();
    const force = bool(p, 'force');
    for (const target of targets) {
      const img = store.resolve(target);
      const byId = isDigest(target) || img.id.slice(7).startsWith(target) || target === img.id;
      const name = byId ? undefined : img.names.find((n) => n === store.canonicalTagged(target));
      if (name !== undefined && img.names.length > 1) {
        store.untag(name);
        ctx.out(`Untagged: ${name}\n`);
        continue;
      }
      if (byId && img.names.length > 1 && !force) {
        throw failedPrecondition('image_has_names', `image ${img.id.slice(7, 19)}: has ${img.names.length} names (${img.names.join(', ')}); remove them one by one or use --force`);
      }
      for (const n of img.names) ctx.out(`Untagged: ${n}\n`);
      store.deleteImage(img.id);
      ctx.out(`Deleted: ${img.id.slice(7)}\n`);
    }
    await prune(store, { dangling: false });
    return 0;
  },
};
