import { state } from '../../../runtime/lifecycle/list.ts';
import { defineCommand } from '../context.ts';

export default defineCommand({
  args: ['ID'],
  flags: [],
  async run(ctx, input) {
    ctx.out(`${JSON.stringify(await state(ctx.runtime, input.args[0] ?? ''), null, 2)}\n`);
    return 0;
  },
});
