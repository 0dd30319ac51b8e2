/** `berth image unmount DIR|IMAGE` — what `berth image mount` mounted (src/image/mount.ts). */
import { unmountStoredImage } from '../../../image/mount.ts';
import { defineCommand } from '../context.ts';

export default defineCommand({
  args: ['DIR|IMAGE'],
  flags: [],
  async run(ctx, input) {
    for (const t of await unmountStoredImage(await ctx.store(), input.args[0] ?? '')) ctx.out(`${t}\n`);
    return 0;
  },
});
