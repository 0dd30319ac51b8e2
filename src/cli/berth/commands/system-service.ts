/** `berth system service [--log-level LEVEL] [berthd's flags]` — berthd in the foreground, for supervisors (podman system service). */
import { parseLogLevel } from '../../../api/log.ts';
import { asyncOptions, gatewayOption, primedMaxOption } from '../../berthd/gateway.ts';
import { networkOptions, optionalSleep, parseApiAddress, serve, sleepAfterOption } from '../../berthd/serve.ts';
import { defineCommand } from '../context.ts';

export default defineCommand({
  args: [],
  flags: [
    { name: 'log-level', type: 'string', value: 'LEVEL', help: 'debug, info, warn or error (default info); logs are JSON lines on stderr' },
    { name: 'group', type: 'string', value: 'NAME', help: 'the socket\'s group, who may use berthd besides root (default "berth" when it exists)' },
    { name: 'bridge', type: 'string', value: 'NAME', help: 'the default network\'s bridge, when it is first made (default berth0)' },
    { name: 'bip', type: 'string', value: 'CIDR', help: 'the default network\'s bridge address and prefix, when it is first made (default 172.17.0.1/16 or the next free pool)' },
    { name: 'network-pool', type: 'string', value: 'N', help: 'network namespaces kept ready on the default network (default 2; 0 disables)' },
    { name: 'api', type: 'list', value: 'tcp://ADDRESS:PORT', help: 'also serve the API on this TCP address (no authentication: whoever reaches it is root on this host)' },
    { name: 'gateway', type: 'string', value: 'ADDR:PORT', help: 'the functions gateway (OpenFaaS\'s API), or off (default 127.0.0.1:8080)' },
    { name: 'async-max-inflight', type: 'string', value: 'N', help: 'async function calls tried at once, all functions together (default 16)' },
    { name: 'async-function-max-inflight', type: 'string', value: 'N', help: 'async calls of one function tried at once (default 4)' },
    { name: 'sleep-after', type: 'string', value: 'DURATION', help: 'sleep when idle this long, woken by the next connection (default 60s; 0 or never: stay awake)' },
    { name: 'faas-primed-max', type: 'string', value: 'N', help: 'functions at zero whose next replica is kept primed, the most recently used first (default 100; 0 disables)' },
  ],
  description: 'Serves the Docker Engine API on the socket until SIGTERM, SIGINT or \'berth system stop\'; containers outlive it.',
  async run(ctx, input) {
    return serve({
      paths: ctx.daemonPaths(),
      logLevel: parseLogLevel(input.str('log-level') ?? 'info'),
      group: input.str('group'),
      network: networkOptions({ bridge: input.str('bridge'), bip: input.str('bip'), pool: input.str('network-pool') }),
      tcp: input.list('api').map(parseApiAddress),
      ...optionalSleep(sleepAfterOption(input.str('sleep-after'))),
      gateway: gatewayOption(
        input.str('gateway'),
        asyncOptions({ maxInflight: input.str('async-max-inflight'), perFunction: input.str('async-function-max-inflight') }),
        primedMaxOption(input.str('faas-primed-max')),
      ),
      write: (line) => ctx.stderr.write(line),
    });
  },
});
