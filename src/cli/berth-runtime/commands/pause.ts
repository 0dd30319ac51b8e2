import { pause } from '../../../runtime/lifecycle/pause.ts';
import { defineCommand } from '../context.ts';

export default defineCommand({
  args: ['ID'],
  flags: [],
  async run(ctx, input) {
    await pause(ctx.runtime, input.args[0] ?? '');
    return 0;
  },
});
