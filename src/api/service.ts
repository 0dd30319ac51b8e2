/**
 * berthd's life in-process: take the run root's lock (one daemon per run
 * root; the loser is told who holds it), serve the API on the socket with
 * the daemon's own routes and whatever `onStart` registers (the engine's),
 * and stop cleanly: the socket closed, requests in flight finished, the
 * lock released. Stopping never touches containers: each has its monitor
 * and outlives the daemon.
 */
import { closeSync, ftruncateSync, mkdirSync, openSync, writeSync } from 'node:fs';
import { describeError, failedPrecondition } from '../errors.ts';
import { tryLockExclusive } from '../sys/flock.ts';
import { lockHolder } from './daemon-lock.ts';
import type { Logger } from './log.ts';
import type { DaemonPaths } from './paths.ts';
import type { Inherited } from './activation.ts';
import { ApiServer, tcpName } from './server.ts';
import { BERTH_VERSION, registerSystemRoutes, type InfoHooks } from './system-routes.ts';

/** Read by the command line from daemon-lock.ts, which loads none of the daemon. */
export { lockHolder };

export interface ServiceOptions {
  paths: DaemonPaths;
  logger: Logger;
  /** Registers the engine's routes and info hooks before the socket opens. */
  onStart?: (server: ApiServer, service: Service) => void | Promise<void>;
  /** Called as the service stops, after the socket is closed (the engine closes its database there). */
  onStop?: () => void | Promise<void>;
  /** The socket's group: who besides root may use berthd. */
  socketGid?: number | undefined;
  /** TCP addresses to serve on as well (`--api tcp://HOST:PORT`); each is root on the host to whoever reaches it. */
  tcp?: readonly { host: string; port: number }[];
  /** Descriptors passed at start (src/api/activation.ts): the lock, the socket and the TCP addresses are taken from them when there. */
  inherited?: Inherited;
}

export interface Service {
  readonly server: ApiServer;
  readonly paths: DaemonPaths;
  readonly hooks: InfoHooks;
  /** The run root's lock, held while the daemon runs (kept across its sleep). */
  readonly lockFd: number;
  /** Stops (once; later calls get the same promise). */
  stop(): Promise<void>;
  /** Settles when the service has stopped, however it was asked to. */
  readonly stopped: Promise<void>;
}

/**
 * Takes the daemon lock and writes this pid into it; the descriptor holds
 * the lock until closed. `inherited`: the lock's descriptor this process
 * kept across its sleep (src/api/sleep.ts), locked already by this very
 * open file, which locking again keeps.
 */
export function takeDaemonLock(paths: DaemonPaths, inherited?: number): number {
  mkdirSync(paths.runRoot, { recursive: true, mode: 0o711 });
  const fd = inherited ?? openSync(paths.lock, 'a+', 0o644);
  if (!tryLockExclusive(fd)) {
    closeSync(fd);
    const pid = lockHolder(paths.lock);
    throw failedPrecondition(
      'daemon_running',
      `berthd already runs for ${paths.runRoot}${pid === undefined ? '' : ` (pid ${pid})`}: it holds ${paths.lock}; stop it with 'berth system stop'`,
    );
  }
  ftruncateSync(fd, 0);
  writeSync(fd, `${process.pid}\n`);
  return fd;
}

export async function startService(options: ServiceOptions): Promise<Service> {
  const { paths, logger } = options;
  const startedAt = Date.now();
  const lockFd = takeDaemonLock(paths, options.inherited?.take('lock'));
  let stopping: Promise<void> | undefined;
  let resolveStopped = (): void => {};
  const stopped = new Promise<void>((resolve) => (resolveStopped = resolve));
  const server = new ApiServer({ logger, serverName: `berth/${BERTH_VERSION} (linux)` });
  const service: Service = {
    server,
    paths,
    hooks: {},
    lockFd,
    stopped,
    stop: () =>
      (stopping ??= (async () => {
        logger.info('berthd stopping', { pid: process.pid });
        try {
          await server.close();
          await options.onStop?.();
        } finally {
          closeSync(lockFd);
          logger.info('berthd stopped', { pid: process.pid });
          resolveStopped();
        }
      })()),
  };
  try {
    mkdirSync(paths.root, { recursive: true, mode: 0o700 });
    registerSystemRoutes(server, { paths, hooks: service.hooks, startedAt, shutdown: () => void service.stop() });
    await options.onStart?.(server, service);
    await server.listen(paths.socket, options.socketGid === undefined ? {} : { gid: options.socketGid }, options.inherited?.take('api'));
    for (const [i, a] of (options.tcp ?? []).entries()) {
      const port = await server.listenTcp(a.host, a.port, options.inherited?.take(tcpName(i)));
      logger.warn('the API listens on TCP, without authentication: whoever reaches it is root on this host', { address: `tcp://${a.host}:${port}` });
    }
  } catch (err) {
    // What onStart made (the engine's network pool, its resolver) is let go before the lock.
    try {
      await options.onStop?.();
    } catch (stopErr) {
      logger.warn('berthd: stopping what started failed', { err: describeError(stopErr) });
    }
    closeSync(lockFd);
    throw err;
  }
  logger.info('berthd started', { pid: process.pid, version: BERTH_VERSION, socket: paths.socket, root: paths.root, runRoot: paths.runRoot });
  return service;
}
