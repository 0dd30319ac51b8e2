import { resume } from '../../../runtime/lifecycle/pause.ts';
import { defineCommand } from '../context.ts';

export default defineCommand({
  args: ['ID'],
  flags: [],
  async run(ctx, input) {
    await resume(ctx.runtime, input.args[0] ?? '');
    return 0;
  },
});
