import { start } from '../../../runtime/lifecycle/start.ts';
import { defineCommand } from '../context.ts';

export default defineCommand({
  args: ['ID'],
  flags: [],
  async run(ctx, input) {
    await start(ctx.runtime, input.args[0] ?? '');
    return 0;
  },
});
