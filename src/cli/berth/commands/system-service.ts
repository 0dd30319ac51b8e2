/** `berth system service [--log-level LEVEL]` — berthd in the foreground, for supervisors (podman system service). */
import { parseLogLevel } from '../../../api/log.ts';
import { serve } from '../../berthd/serve.ts';
import { defineCommand } from '../context.ts';

export default defineCommand({
  args: [],
  flags: [
    { name: 'log-level', type: 'string', value: 'LEVEL', help: 'debug, info, warn or error (default info); logs are JSON lines on stderr' },
    { name: 'group', type: 'string', value: 'NAME', help: 'the socket\'s group, who may use berthd besides root (default "berth" when it exists)' },
  ],
  description: 'Serves the Docker Engine API on the socket until SIGTERM, SIGINT or \'berth system stop\'; containers outlive it.',
  async run(ctx, input) {
    return serve({
      paths: ctx.daemonPaths(),
      logLevel: parseLogLevel(input.str('log-level') ?? 'info'),
      group: input.str('group'),
      write: (line) => ctx.stderr.write(line),
    });
  },
});
