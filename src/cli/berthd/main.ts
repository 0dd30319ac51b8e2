/**
 * berthd: the daemon serving the engine over the Docker Engine API on a
 * unix socket (bundled by scripts/build.ts as build/berthd.cjs).
 *
 *   berthd [--root DIR] [--run-root DIR] [--socket PATH] [--log-level LEVEL]
 */
import { parseArgs } from 'node:util';
import { parseLogLevel } from '../../api/log.ts';
import { daemonPaths, DEFAULT_RUN_ROOT } from '../../api/paths.ts';
import { BERTH_VERSION } from '../../api/system-routes.ts';
import { exitCodeFor } from '../../error-status.ts';
import { describeError, invalidArgument } from '../../errors.ts';
import { DEFAULT_ROOT } from '../../image/store/default-root.ts';
import { asyncOptions, gatewayOption, primedMaxOption } from './gateway.ts';
import { networkOptions, optionalSleep, parseApiAddress, serve, sleepAfterOption } from './serve.ts';

const HELP = `Usage: berthd [OPTIONS]

The berth daemon: serves containers over the Docker Engine API on a unix socket.
Stopping it (SIGTERM, SIGINT, 'berth system stop') leaves containers running.

Options:
  --root DIR         state: images, containers, volumes, the log (default ${DEFAULT_ROOT})
  --run-root DIR     run-time state and the lock (default ${DEFAULT_RUN_ROOT})
  --socket PATH      the API socket, mode 0660 (default RUN-ROOT/berth.sock)
  --api tcp://ADDRESS:PORT
                     also serve the API on this TCP address (repeatable); no
                     authentication: whoever reaches it is root on this host
  --group NAME       the socket's group, who may use berthd besides root
                     (default "berth" when that group exists, else root's)
  --log-level LEVEL  debug, info, warn or error (default info); logs are JSON lines on stderr
  --bridge NAME      the default network's bridge, when it is first made (default berth0)
  --bip CIDR         the default network's bridge address and prefix, when it is first made
                     (default: 172.17.0.1/16, or the next of docker's pools the host does not use)
  --network-pool N   network namespaces kept attached to the default network, ready for
                     the next container (default 2; 0 disables)
  --gateway ADDR:PORT  the functions gateway (OpenFaaS's API), or off (default 127.0.0.1:8080)
  --async-max-inflight N
                     async function calls tried at once, all functions together (default 16)
  --async-function-max-inflight N
                     async calls of one function tried at once (default 4)
  --faas-primed-max N
                     functions at zero whose next replica is kept primed (its monitor and
                     blocked process up, its network attached), the most recently used
                     first (default 100; 0 disables); the others keep it only created
  --sleep-after DURATION
                     sleep when idle this long (no container running, no function deployed,
                     no client connected): the process becomes a small native program holding
                     the sockets, and the next connection wakes berthd (default 60s; 0 or
                     never: stay awake; BERTH_SLEEP_AFTER when not given)
  --if-absent        exit 0 quietly when another berthd runs for this run root
  --version          print the version
  -h, --help         show this help
`;

async function main(argv: string[]): Promise<number> {
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        root: { type: 'string' },
        'run-root': { type: 'string' },
        socket: { type: 'string' },
        group: { type: 'string' },
        api: { type: 'string', multiple: true },
        'log-level': { type: 'string' },
        bridge: { type: 'string' },
        bip: { type: 'string' },
        'network-pool': { type: 'string' },
        gateway: { type: 'string' },
        'async-max-inflight': { type: 'string' },
        'async-function-max-inflight': { type: 'string' },
        'faas-primed-max': { type: 'string' },
        'sleep-after': { type: 'string' },
        'if-absent': { type: 'boolean' },
        version: { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      },
      strict: true,
      allowPositionals: false,
    }));
  } catch (err) {
    throw invalidArgument('unknown_flag', `${describeError(err)} (see 'berthd --help')`);
  }
  if (values.help === true) {
    process.stdout.write(HELP);
    return 0;
  }
  if (values.version === true) {
    process.stdout.write(`berthd version ${BERTH_VERSION}\n`);
    return 0;
  }
  return serve({
    paths: daemonPaths({ root: values.root, runRoot: values['run-root'], socket: values.socket }),
    logLevel: parseLogLevel(values['log-level'] ?? 'info'),
    ifAbsent: values['if-absent'] === true,
    group: values.group,
    network: networkOptions({ bridge: values.bridge, bip: values.bip, pool: values['network-pool'] }),
    tcp: (values.api ?? []).map(parseApiAddress),
    ...optionalSleep(sleepAfterOption(values['sleep-after'])),
    gateway: gatewayOption(
      values.gateway,
      asyncOptions({ maxInflight: values['async-max-inflight'], perFunction: values['async-function-max-inflight'] }),
      primedMaxOption(values['faas-primed-max']),
    ),
  });
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`berthd: ${describeError(err)}\n`);
    process.exit(exitCodeFor(err));
  },
);
