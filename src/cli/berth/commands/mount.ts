/**
 * `berth image mount [--writable] [IMAGE [DIR]]`, as podman's: the image's
 * root filesystem mounted at DIR (default <root>/image-mounts/<id>),
 * read-only unless --writable (src/image/mount.ts). Without IMAGE, lists
 * what is mounted.
 */
import { mountStoredImage, storedImageMounts } from '../../../image/mount.ts';
import { defineCommand } from '../context.ts';

export default defineCommand({
  args: ['[IMAGE]', '[DIR]'],
  flags: [{ name: 'writable', type: 'bool', help: 'a writable mount (writes are discarded on unmount)' }],
  async run(ctx, input) {
    const [image, dir] = input.args;
    const store = await ctx.store();
    if (image === undefined) {
      for (const m of await storedImageMounts(store)) ctx.out(`${m.target}\t${m.parent}\t${m.readonly ? 'ro' : 'rw'}\n`);
      return 0;
    }
    const target = await mountStoredImage(store, store.resolve(image), { dir, writable: input.bool('writable') });
    ctx.out(`${target}\n`);
    return 0;
  },
});
