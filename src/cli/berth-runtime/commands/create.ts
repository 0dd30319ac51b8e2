import { create } from '../../../runtime/lifecycle/create.ts';
import { defineCommand, optionalPath } from '../context.ts';

export const BUNDLE_FLAGS = [
  { name: 'bundle', short: 'b', type: 'string', value: 'DIR', help: 'path to the bundle (default: the current directory)' },
  { name: 'console-socket', type: 'string', value: 'PATH', help: 'unix socket that receives the terminal master (SCM_RIGHTS)' },
  { name: 'pid-file', type: 'string', value: 'PATH', help: 'write the container process id to this file' },
  { name: 'no-pivot', type: 'bool', help: 'use MS_MOVE and chroot instead of pivot_root' },
  { name: 'no-new-keyring', type: 'bool', help: 'accepted for runc compatibility: berth-runtime never creates a session keyring' },
  { name: 'preserve-fds', type: 'int', value: 'N', help: 'pass N more file descriptors (3 .. 3+N-1) to the container' },
] as const;

export default defineCommand({
  args: ['ID'],
  flags: BUNDLE_FLAGS,
  async run(ctx, input) {
    const [id = ''] = input.args;
    await create(ctx.runtime, id, {
      bundle: ctx.path(input.str('bundle') ?? '.'),
      pidFile: optionalPath(ctx, input.str('pid-file')),
      consoleSocket: optionalPath(ctx, input.str('console-socket')),
      noPivot: input.bool('no-pivot'),
      preserveFds: input.int('preserve-fds') ?? 0,
      wait: false,
    });
    return 0;
  },
});
