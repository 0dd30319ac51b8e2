import { positional } from '../../args.ts';
import { start } from '../../../runtime/lifecycle/start.ts';
import type { Command } from '../command.ts';

const command: Command = {
  name: 'start',
  usage: 'start ID',
  description: 'start a created container',
  flags: [],
  async run(ctx, { rest }) {
    const [id = ''] = positional(rest, ['ID'], 'start');
    await start(ctx.runtime, id);
    return 0;
  },
};
export default command;
