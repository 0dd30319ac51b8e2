/** `berth system info [--json]` — what berthd runs on and holds (`GET /info`, docker info's fields). */
import { ApiClient } from '../../../api/client.ts';
import { defineCommand } from '../context.ts';
import { formatBytes } from '../progress.ts';

/** The fields shown, in docker info's order and words. */
const FIELDS: [string, string][] = [
  ['ServerVersion', 'Server Version'],
  ['Containers', 'Containers'],
  ['ContainersRunning', ' Running'],
  ['ContainersPaused', ' Paused'],
  ['ContainersStopped', ' Stopped'],
  ['Images', 'Images'],
  ['Driver', 'Storage Driver'],
  ['CgroupDriver', 'Cgroup Driver'],
  ['CgroupVersion', 'Cgroup Version'],
  ['KernelVersion', 'Kernel Version'],
  ['OperatingSystem', 'Operating System'],
  ['Architecture', 'Architecture'],
  ['NCPU', 'CPUs'],
  ['MemTotal', 'Total Memory'],
  ['Name', 'Name'],
  ['ID', 'ID'],
  ['DockerRootDir', 'Root Dir'],
];

export default defineCommand({
  args: [],
  flags: [{ name: 'json', type: 'bool', help: 'print berthd\'s answer as JSON' }],
  async run(ctx, input) {
    const paths = ctx.daemonPaths();
    const info = await new ApiClient(paths.socket).json('GET', '/info');
    if (input.bool('json')) {
      ctx.out(`${JSON.stringify(info, null, 2)}\n`);
      return 0;
    }
    const fields = typeof info === 'object' && info !== null ? (info as Record<string, unknown>) : {};
    let text = `Socket: ${paths.socket}\n`;
    for (const [key, label] of FIELDS) {
      const v = fields[key];
      if (typeof v === 'number' && key === 'MemTotal') text += `${label}: ${formatBytes(v)}\n`;
      else if (typeof v === 'string' || typeof v === 'number') text += `${label}: ${v}\n`;
    }
    ctx.out(text);
    return 0;
  },
});
