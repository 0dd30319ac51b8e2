import { bool } from '../../args.ts';
import { invalidArgument } from '../../../errors.ts';
import { kill, parseSignal } from '../../../runtime/lifecycle/kill.ts';
import type { Command } from '../command.ts';

const command: Command = {
  name: 'kill',
  usage: 'kill [options] ID [SIGNAL]',
  description: 'send a signal (default SIGTERM) to the container',
  flags: [{ name: 'all', short: 'a', type: 'bool', help: 'send it to every process of the container' }],
  async run(ctx, { flags, rest }) {
    if (rest.length < 1 || rest.length > 2) throw invalidArgument('wrong_args', 'kill: expects ID and an optional SIGNAL');
    const [id = '', sig = 'SIGTERM'] = rest;
    await kill(ctx.runtime, id, parseSignal(sig), bool(flags, 'all'));
    return 0;
  },
};
export default command;
