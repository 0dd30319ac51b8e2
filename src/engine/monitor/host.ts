/**
 * The runtime host of one container created by the engine's own runtime
 * library: instead of spawning build/berth-exec (../../runtime/host/spawn.ts),
 * `launch` starts berth-monitor with `--executor`, handing it the sync
 * socket (fd 4) and the plan (fd 5); the monitor detaches, sets up the
 * container's stdio and execs the executor, so the container is the
 * monitor's descendant (it reaps it, holds its stdio, outlives this process)
 * and no `berth-runtime create` command starts per container. On fd 3 the
 * monitor reports `pid EXECUTOR MONITOR`, then the executor's `exit CODE` or
 * `signal N`. Once create() returned, the caller tells the monitor the
 * container's pid (`tellMonitor`), or `abort` when create failed.
 */
import { closeSync, constants, openSync, writeSync } from 'node:fs';
import type { Socket } from 'node:net';
import { constants as os } from 'node:os';
import { join } from 'node:path';
import { BerthError, describeError, errnoCode, ErrorKind } from '../../errors.ts';
import { lazy } from '../../lazy.ts';
import { buildDir } from '../../paths.ts';
import type { ExitStatus, RuntimeHost } from '../../runtime/host/host.ts';
import { planFile, socketLink } from '../../runtime/host/link.ts';
import { executorPath } from '../../runtime/host/spawn.ts';
import { type ExecutorMonitorOptions, monitorArgs } from './spawn.ts';

export interface MonitorHost extends RuntimeHost {
  /** The monitor's pid, once it reported. */
  readonly monitorPid: Promise<number>;
  /** With `o.attach`, once launched: the caller's end of the monitor's held client, unread until the caller reads (attach.ts attachSocket). */
  attachment(): Socket | undefined;
}

function signalName(n: number): NodeJS.Signals | null {
  const found = Object.entries(os.signals).find(([, v]) => v === n);
  return found ? (found[0] as NodeJS.Signals) : null;
}

/** One launch: the monitor of container `o.id`. Locks and cgroup warming are `base`'s. */
export function monitorHost(o: ExecutorMonitorOptions, base: RuntimeHost): MonitorHost {
  const { promise: monitorPid, resolve: resolveMonitor, reject: rejectMonitor } = Promise.withResolvers<number>();
  monitorPid.catch(() => undefined);
  const bin = o.monitor ?? join(buildDir(), 'berth-monitor');
  const what = `container "${o.id}"`;
  let attached: Socket | undefined;
  return {
    monitorPid,
    attachment: () => attached,
    lockFile: (path) => base.lockFile(path),
    warmCgroupJoin: () => base.warmCgroupJoin(),
    launch: async (request) => {
      // A device filter attached while the cgroup is made: no container, no monitor.
      if (request.hostPlan === true) return base.launch(request);
      // The container's stdio is the monitor's to set up (pipes or the terminal): request.stdio is not used.
      if (request.preserveFds !== 0) throw new BerthError(ErrorKind.Internal, 'monitor_preserve_fds', `${what}: the monitor passes no extra fds to the container`);
      const planFd = planFile(request.plan);
      let started: Started;
      try {
        // fd 6 with o.attach: a socket pair whose other end the monitor keeps as its first client.
        started = await spawnMonitor(o, bin, planFd);
      } catch (err) {
        throw new BerthError(ErrorKind.Internal, 'monitor_start_failed', `${what}: berth-monitor could not start (${bin}): ${describeError(err)}`, { cause: err });
      } finally {
        closeSync(planFd);
      }
      const { report: reportStream, sock, stderr, stderrClosed } = started;
      attached = started.attached;
      const { promise: pid, resolve: resolvePid, reject: rejectPid } = Promise.withResolvers<number>();
      pid.catch(() => undefined);
      const { promise: exited, resolve: resolveExit } = Promise.withResolvers<ExitStatus>();
      const fail = (why: string): void => {
        const err = new BerthError(ErrorKind.Internal, 'monitor_start_failed', `${what}: berth-monitor ${why}`);
        rejectPid(err);
        rejectMonitor(err);
      };
      let text = '';
      reportStream.on('data', (b: Buffer) => {
        text += b.toString();
        for (let nl = text.indexOf('\n'); nl >= 0; nl = text.indexOf('\n')) {
          const line = text.slice(0, nl);
          text = text.slice(nl + 1);
          const m = /^(pid|exit|signal) (\d+)(?: (\d+))?$/.exec(line);
          if (m?.[1] === 'pid') {
            resolvePid(Number(m[2]));
            resolveMonitor(Number(m[3]));
          } else if (m?.[1] === 'exit') resolveExit({ code: Number(m[2]), signal: null });
          else if (m?.[1] === 'signal') resolveExit({ code: null, signal: signalName(Number(m[2])) });
        }
      });
      // Whatever was not reported by the time every copy of the report pipe closed never will be.
      reportStream.once('close', () => {
        const finish = (): void => {
          fail(`reported no executor: ${Buffer.concat(stderr).toString().trim() || 'no message'}`);
          resolveExit({ code: null, signal: null });
        };
        void stderrClosed.then(finish);
      });
      return socketLink({ sock, pid, exited, stdout: null, stderr: null });
    },
  };
}

const spawnModule = lazy(() => import('../../sys/spawn.ts'));

interface Started {
  report: Socket;
  sock: Socket;
  /** What the monitor wrote to its stderr so far, and on. */
  stderr: Buffer[];
  stderrClosed: Promise<void>;
  attached: Socket | undefined;
}

/**
 * Starts berth-monitor through posix_spawn (src/sys/spawn.ts), not Node.js's
 * fork: a daemon's fork stops its event loop for milliseconds. It execs the
 * executor from the sealed copy this process keeps (sealedProgram), so the
 * executor need not copy itself for each container. fd 2 its
 * stderr, 3 the report, 4 the executor's sync socket, 5 the plan, 6 with
 * `attach` the held client: socket pairs, whose other ends come back.
 */
async function spawnMonitor(o: ExecutorMonitorOptions, bin: string, planFd: number): Promise<Started> {
  const { reapSoon, sealedProgram, spawnProgram } = await spawnModule();
  // Another executor (a test's stand-in) runs as given.
  const args = monitorArgs({ ...o, executor: o.executor === executorPath() ? sealedProgram(o.executor) : o.executor });
  const { pid, sockets } = spawnProgram(bin, [bin, ...args], [null, null, 'socket', 'socket', 'socket', planFd, ...(o.attach === true ? ['socket' as const] : [])]);
  // Its first process exits as soon as the monitor detached (fork, setsid, fork).
  reapSoon(pid);
  const stderrSock = sockets.get(2)!;
  const stderr: Buffer[] = [];
  stderrSock.on('data', (b: Buffer) => stderr.push(b));
  const stderrClosed = new Promise<void>((resolve) => stderrSock.once('close', () => resolve()));
  return { report: sockets.get(3)!, sock: sockets.get(4)!, stderr, stderrClosed, attached: sockets.get(6) };
}

/** Tells the container's monitor a `pid N` or `abort` on RUN/ctl; false when no monitor reads it any more. */
export function tellMonitor(runDir: string, line: string): boolean {
  let fd: number;
  try {
    fd = openSync(join(runDir, 'ctl'), constants.O_WRONLY | constants.O_NONBLOCK);
  } catch (err) {
    if (errnoCode(err) === 'ENXIO' || errnoCode(err) === 'ENOENT') return false;
    throw err;
  }
  try {
    writeSync(fd, `${line}\n`);
    return true;
  } finally {
    closeSync(fd);
  }
}
