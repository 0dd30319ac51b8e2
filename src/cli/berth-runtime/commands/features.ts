import { features } from '../../../runtime/features.ts';
import { defineCommand } from '../context.ts';

export default defineCommand({
  args: [],
  flags: [],
  run(ctx) {
    ctx.out(`${JSON.stringify(features(), null, 2)}\n`);
    return Promise.resolve(0);
  },
});
