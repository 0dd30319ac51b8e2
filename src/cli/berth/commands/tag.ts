/** `berth tag IMAGE NAME...` — more names for an image. */
import { operands, type Parsed } from '../args.ts';
import type { CommandContext } from '../context.ts';
import type { Command } from './command.ts';

const usage = 'berth tag IMAGE NAME...';

export const tag: Command = {
  usage,
  summary: 'Give an image another name',
  options: {},
  async run(ctx: CommandContext, p: Parsed) {
    const [image = '', ...names] = operands(p, 2, Infinity, usage);
    const store = await ctx.store();
    for (const n of names) store.tag(image, n);
    return 0;
  },
};
