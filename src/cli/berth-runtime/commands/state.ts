import { positional } from '../../args.ts';
import { state } from '../../../runtime/lifecycle/list.ts';
import type { Command } from '../command.ts';

const command: Command = {
  name: 'state',
  usage: 'state ID',
  description: 'print the state of a container (runtime-spec JSON)',
  flags: [],
  async run(ctx, { rest }) {
    const [id = ''] = positional(rest, ['ID'], 'state');
    ctx.out(`${JSON.stringify(await state(ctx.runtime, id), null, 2)}\n`);
    return 0;
  },
};
export default command;
