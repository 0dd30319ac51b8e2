import { int, positional, str, bool } from '../../args.ts';
import { create } from '../../../runtime/lifecycle/create.ts';
import type { Command } from '../command.ts';

export const BUNDLE_FLAGS = [
  { name: 'bundle', short: 'b', type: 'string', value: 'DIR', help: 'path to the bundle (default: the current directory)' },
  { name: 'console-socket', type: 'string', value: 'PATH', help: 'unix socket that receives the terminal master (SCM_RIGHTS)' },
  { name: 'pid-file', type: 'string', value: 'PATH', help: 'write the container process id to this file' },
  { name: 'no-pivot', type: 'bool', help: 'use MS_MOVE and chroot instead of pivot_root' },
  { name: 'no-new-keyring', type: 'bool', help: 'accepted for runc compatibility: berth-runtime never creates a session keyring' },
  { name: 'preserve-fds', type: 'int', value: 'N', help: 'pass N more file descriptors (3 .. 3+N-1) to the container' },
] as const;

const command: Command = {
  name: 'create',
  usage: 'create [options] ID',
  description: 'create a container that waits for start',
  flags: [...BUNDLE_FLAGS],
  async run(ctx, { flags, rest }) {
    const [id = ''] = positional(rest, ['ID'], 'create');
    await create(ctx.runtime, id, {
      bundle: str(flags, 'bundle') ?? process.cwd(),
      pidFile: str(flags, 'pid-file'),
      consoleSocket: str(flags, 'console-socket'),
      noPivot: bool(flags, 'no-pivot'),
      preserveFds: int(flags, 'preserve-fds') ?? 0,
      wait: false,
    });
    return 0;
  },
};
export default command;
