import { kill, parseSignal } from '../../../runtime/lifecycle/kill.ts';
import { defineCommand } from '../context.ts';

export default defineCommand({
  args: ['ID', '[SIGNAL]'],
  flags: [{ name: 'all', short: 'a', type: 'bool', help: 'send it to every process of the container' }],
  async run(ctx, input) {
    const [id = '', sig = 'SIGTERM'] = input.args;
    await kill(ctx.runtime, id, parseSignal(sig), input.bool('all'));
    return 0;
  },
});
