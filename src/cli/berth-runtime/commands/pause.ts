import { positional } from '../../args.ts';
import { pause, resume } from '../../../runtime/lifecycle/pause.ts';
import type { Command } from '../command.ts';

export const pauseCommand: Command = {
  name: 'pause',
  usage: 'pause ID',
  description: 'freeze every process of the container',
  flags: [],
  async run(ctx, { rest }) {
    const [id = ''] = positional(rest, ['ID'], 'pause');
    await pause(ctx.runtime, id);
    return 0;
  },
};

export const resumeCommand: Command = {
  name: 'resume',
  usage: 'resume ID',
  description: 'thaw a paused container',
  flags: [],
  async run(ctx, { rest }) {
    const [id = ''] = positional(rest, ['ID'], 'resume');
    await resume(ctx.runtime, id);
    return 0;
  },
};
