/**
 * Runs berthd in this process until it is told to stop (SIGTERM, SIGINT,
 * `berth system stop`): what `berthd` and `berth system service` both do.
 * Stopping ends the daemon only; containers keep running under their
 * monitors. The engine's routes are registered through `onStart`.
 */
import { isIP } from 'node:net';
import { describeError, invalidArgument, isBerthError } from '../../errors.ts';
import { createLogger, type LogLevel } from '../../api/log.ts';
import type { DaemonPaths } from '../../api/paths.ts';
import type { ApiServer } from '../../api/server.ts';
import { startService, type Service } from '../../api/service.ts';
import { groupId } from '../../api/socket.ts';
import { startEngine, type EngineNetworkOptions } from '../../api/engine-service.ts';
import type { Engine } from '../../engine/engine.ts';
import type { Gateway } from '../../faas/gateway.ts';
import { Inherited } from '../../api/activation.ts';
import { DEFAULT_SLEEP_AFTER_MS, Sleeper } from '../../api/sleep.ts';
import { parseDuration } from '../../image/build/duration.ts';
import { startCliServer, type CliServer } from './cli-server.ts';
import { startDaemonGateway, type GatewayFlag } from './gateway.ts';

export interface ServeOptions {
  paths: DaemonPaths;
  logLevel: LogLevel;
  /** Exit 0 without a word when another berthd holds the run root (how ensureDaemon starts one). */
  ifAbsent?: boolean;
  onStart?: (server: ApiServer, service: Service) => void | Promise<void>;
  write?: (line: string) => void;
  /** The socket's group (dockerd's -G): given, it must exist; by default "berth" when there is one, else root's. */
  group?: string | undefined;
  network?: EngineNetworkOptions;
  /** The functions gateway's address (--gateway); undefined: off. */
  gateway?: GatewayFlag | undefined;
  /** `--api tcp://HOST:PORT` values, checked. */
  tcp?: readonly { host: string; port: number }[];
  /** --sleep-after in ms (0: never; default DEFAULT_SLEEP_AFTER_MS): berthd sleeps when idle this long (src/api/sleep.ts). */
  sleepAfterMs?: number;
}

export const DEFAULT_SOCKET_GROUP = 'berth';

function socketGid(group: string | undefined): number | undefined {
  const gid = groupId(group ?? DEFAULT_SOCKET_GROUP);
  if (gid === undefined && group !== undefined) throw invalidArgument('daemon_group_unknown', `--group: no group "${group}" in /etc/group`);
  return gid;
}

/**
 * The network flags of berthd and `berth system service`, checked; where a
 * flag is absent, BERTH_BRIDGE, BERTH_BIP and BERTH_NETWORK_POOL give it
 * (so a berthd the CLI starts on demand gets them too).
 */
export function networkOptions(given: { bridge?: string | undefined; bip?: string | undefined; pool?: string | undefined }, env: NodeJS.ProcessEnv = process.env): EngineNetworkOptions {
  const f = { bridge: given.bridge ?? env['BERTH_BRIDGE'], bip: given.bip ?? env['BERTH_BIP'], pool: given.pool ?? env['BERTH_NETWORK_POOL'] };
  if (f.pool !== undefined && !/^\d{1,3}$/.test(f.pool)) throw invalidArgument('daemon_flag_invalid', `--network-pool ${JSON.stringify(f.pool)}: not a number of namespaces (0 to 999)`);
  if (f.bridge !== undefined && !/^[a-zA-Z0-9_.-]{1,15}$/.test(f.bridge)) throw invalidArgument('daemon_flag_invalid', `--bridge ${JSON.stringify(f.bridge)}: not an interface name (1 to 15 of [a-zA-Z0-9_.-])`);
  return {
    ...(f.pool === undefined ? {} : { pool: Number(f.pool) }),
    ...(f.bridge === undefined ? {} : { bridge: f.bridge }),
    ...(f.bip === undefined ? {} : { bip: f.bip }),
  };
}

/**
 * --sleep-after DURATION (Go's syntax: 60s, 5m; 0 or never: never sleep),
 * else BERTH_SLEEP_AFTER (so a berthd the CLI starts on demand gets it), in ms.
 */
export function sleepAfterOption(raw: string | undefined, env: NodeJS.ProcessEnv = process.env): number | undefined {
  const v = raw ?? env['BERTH_SLEEP_AFTER'];
  if (v === undefined || v === '') return undefined;
  if (v === 'never') return 0;
  let ns: number;
  try {
    ns = parseDuration(v);
  } catch {
    ns = NaN;
  }
  if (!Number.isFinite(ns) || (ns !== 0 && ns < 100e6)) {
    throw invalidArgument('daemon_flag_invalid', `--sleep-after ${JSON.stringify(v)}: not a duration of 100ms or more (like 60s or 5m), 0 or never`);
  }
  return Math.round(ns / 1e6);
}

/** The ServeOptions field of an optional --sleep-after. */
export const optionalSleep = (ms: number | undefined): { sleepAfterMs?: number } => (ms === undefined ? {} : { sleepAfterMs: ms });

/** `--api tcp://HOST:PORT` (dockerd's -H): an IP address or localhost, and a port. */
export function parseApiAddress(raw: string): { host: string; port: number } {
  const m = /^tcp:\/\/(\[[0-9a-fA-F:]+\]|[^:/[\]]+):(\d{1,5})$/.exec(raw);
  const host = m?.[1]?.replace(/^\[|\]$/g, '');
  const port = Number(m?.[2]);
  if (m === null || host === undefined || (host !== 'localhost' && isIP(host) === 0) || port > 65535) {
    throw invalidArgument('daemon_flag_invalid', `--api ${JSON.stringify(raw)}: not tcp://ADDRESS:PORT (an IP address or localhost, and a port)`);
  }
  return { host, port };
}

/** Serves until stopped; the exit code. */
export async function serve(options: ServeOptions): Promise<number> {
  const logger = createLogger({ level: options.logLevel, ...(options.write ? { write: options.write } : {}) });
  const gid = socketGid(options.group);
  // What a sleeping berthd (or systemd) passed: this process is the same daemon, woken.
  const inherited = Inherited.fromEnv();
  const woken = inherited.has('lock');
  let service: Service;
  let sleeper: Sleeper | undefined;
  try {
    let engine: Engine | undefined;
    let gateway: Gateway | undefined;
    let cli: CliServer | undefined;
    service = await startService({
      paths: options.paths,
      logger,
      inherited,
      // The engine's routes, unless a caller (a test of the daemon alone) registers its own.
      onStart:
        options.onStart ??
        (async (server, svc) => {
          engine = await startEngine(server, svc, { ...options.network, keepPooled: woken });
          // berth's client hands root's commands over here (cli-server.ts); a failure to listen costs only speed.
          if (process.geteuid?.() === 0) {
            cli = await startCliServer(svc.paths, server.logger, inherited.take('cli')).catch((err: unknown) => {
              server.logger.warn('the command socket could not be opened', { reason: describeError(err) });
              return undefined;
            });
          }
          if (options.gateway !== undefined) {
            try {
              gateway = await startDaemonGateway(engine, svc.paths.root, options.gateway, server.logger, inherited.take('gateway'));
            } catch (err) {
              await engine.shutdown();
              throw err;
            }
          }
          const running = engine;
          sleeper = new Sleeper({
            afterMs: options.sleepAfterMs ?? DEFAULT_SLEEP_AFTER_MS,
            logger: server.logger,
            parts: {
              busy: () =>
                (server.openConnections > 0 ? `${server.openConnections} API connection(s) open` : undefined) ??
                ((cli?.connections() ?? 0) > 0 ? 'a command running' : undefined) ??
                running.busy() ??
                gateway?.sleepBusy(),
              prepare: async () => gateway?.prepareSleep(),
              descriptors: () => [
                ...server.listeningDescriptors().map((d) => ({ ...d, watch: true })),
                ...[['cli', cli?.fd()], ['gateway', gateway?.listeningFd()]].flatMap(([name, fd]) => (typeof fd === 'number' ? [{ name: String(name), fd, watch: true }] : [])),
                { name: 'lock', fd: svc.lockFd, watch: false },
              ],
            },
          });
        }),
      onStop: async () => {
        sleeper?.stop();
        await cli?.close();
        await gateway?.close();
        await engine?.shutdown();
      },
      socketGid: gid,
      ...(options.tcp === undefined ? {} : { tcp: options.tcp }),
    });
  } catch (err) {
    if (options.ifAbsent === true && isBerthError(err, 'daemon_running')) {
      logger.debug('another berthd runs; this one leaves', { reason: describeError(err) });
      return 0;
    }
    throw err;
  }
  const unused = inherited.closeRest();
  if (unused.length > 0) logger.warn('descriptors passed at start that nothing here serves were closed', { names: unused });
  if (woken) logger.info('berthd woken: a connection came while it slept', { pid: process.pid });
  sleeper?.start();
  const stop = (signal: NodeJS.Signals): void => {
    logger.info('signal received', { signal });
    void service.stop();
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
  // A daemon in its own session has no terminal to hang up; one in the foreground ignores the hang-up too.
  process.on('SIGHUP', () => logger.info('signal received', { signal: 'SIGHUP' }));
  try {
    await service.stopped;
  } finally {
    process.off('SIGTERM', stop);
    process.off('SIGINT', stop);
  }
  return 0;
}
