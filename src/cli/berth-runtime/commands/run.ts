import { run } from '../../../runtime/lifecycle/run.ts';
import { defineCommand, optionalPath } from '../context.ts';
import { BUNDLE_FLAGS } from './create.ts';

export default defineCommand({
  args: ['ID'],
  flags: [
    ...BUNDLE_FLAGS,
    { name: 'detach', short: 'd', type: 'bool', help: 'do not wait for the container' },
    { name: 'keep', type: 'bool', help: 'do not delete the container after it exits' },
    { name: 'no-subreaper', type: 'bool', help: 'accepted for runc compatibility' },
  ],
  run(ctx, input) {
    const [id = ''] = input.args;
    return run(ctx.runtime, id, {
      bundle: ctx.path(input.str('bundle') ?? '.'),
      pidFile: optionalPath(ctx, input.str('pid-file')),
      consoleSocket: optionalPath(ctx, input.str('console-socket')),
      noPivot: input.bool('no-pivot'),
      preserveFds: input.int('preserve-fds') ?? 0,
      detach: input.bool('detach'),
      keep: input.bool('keep'),
    });
  },
});
