/** `berth system stop` — stops berthd (it finishes the requests in flight); containers keep running. */
import { stopDaemon } from '../../../api/daemon.ts';
import { defineCommand } from '../context.ts';

export default defineCommand({
  args: [],
  flags: [],
  async run(ctx) {
    const paths = ctx.daemonPaths();
    const pid = await stopDaemon(paths);
    ctx.info(`berthd${pid === undefined ? '' : ` (pid ${pid})`} stopped; containers keep running`);
    return 0;
  },
});
