import { bool, int, positional, str } from '../../args.ts';
import { run } from '../../../runtime/lifecycle/run.ts';
import type { Command } from '../command.ts';
import { BUNDLE_FLAGS } from './create.ts';

const command: Command = {
  name: 'run',
  usage: 'run [options] ID',
  description: 'create and start a container; in the foreground, exit with its status',
  flags: [
    ...BUNDLE_FLAGS,
    { name: 'detach', short: 'd', type: 'bool', help: 'do not wait for the container' },
    { name: 'keep', type: 'bool', help: 'do not delete the container after it exits' },
    { name: 'no-subreaper', type: 'bool', help: 'accepted for runc compatibility' },
  ],
  async run(ctx, { flags, rest }) {
    const [id = ''] = positional(rest, ['ID'], 'run');
    return run(ctx.runtime, id, {
      bundle: str(flags, 'bundle') ?? process.cwd(),
      pidFile: str(flags, 'pid-file'),
      consoleSocket: str(flags, 'console-socket'),
      noPivot: bool(flags, 'no-pivot'),
      preserveFds: int(flags, 'preserve-fds') ?? 0,
      detach: bool(flags, 'detach'),
      keep: bool(flags, 'keep'),
    });
  },
};
export default command;
