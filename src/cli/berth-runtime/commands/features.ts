import { positional } from '../../args.ts';
import { features } from '../../../runtime/features.ts';
import type { Command } from '../command.ts';

const command: Command = {
  name: 'features',
  usage: 'features',
  description: 'print what berth-runtime implements (runtime-spec features JSON)',
  flags: [],
  run(ctx, { rest }) {
    positional(rest, [], 'features');
    ctx.out(`${JSON.stringify(features(), null, 2)}\n`);
    return Promise.resolve(0);
  },
};
export default command;
