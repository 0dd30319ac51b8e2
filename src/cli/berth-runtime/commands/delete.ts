import { bool, positional } from '../../args.ts';
import { deleteContainer } from '../../../runtime/lifecycle/delete.ts';
import type { Command } from '../command.ts';

const command: Command = {
  name: 'delete',
  usage: 'delete [options] ID',
  description: 'delete a container and what the runtime holds for it',
  flags: [{ name: 'force', short: 'f', type: 'bool', help: 'kill a running container first' }],
  async run(ctx, { flags, rest }) {
    const [id = ''] = positional(rest, ['ID'], 'delete');
    await deleteContainer(ctx.runtime, id, bool(flags, 'force'));
    return 0;
  },
};
export default command;
