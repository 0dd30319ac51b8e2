import { deleteContainer } from '../../../runtime/lifecycle/delete.ts';
import { defineCommand } from '../context.ts';

export default defineCommand({
  args: ['ID'],
  flags: [{ name: 'force', short: 'f', type: 'bool', help: 'kill a running container first' }],
  async run(ctx, input) {
    const [id = ''] = input.args;
    await deleteContainer(ctx.runtime, id, input.bool('force'));
    return 0;
  },
});
