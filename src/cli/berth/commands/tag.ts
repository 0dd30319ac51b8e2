/** `berth tag IMAGE NAME...` — more names for an image. */
import { defineCommand } from '../context.ts';

export default defineCommand({
  args: ['IMAGE', 'NAME...'],
  flags: [],
  async run(ctx, input) {
    const [image = '', ...names] = input.args;
    const store = await ctx.store();
    for (const n of names) store.tag(image, n);
    return 0;
  },
});
