/**
 * Starts berth-monitor (native/monitor) for one container, or for one
 * process exec'd into it, and reads its report: the process's pid once the
 * runtime's `create` (or `exec --detach`) succeeded, or the runtime's exit
 * status and log when it failed. The monitor detaches itself, so it and
 * the container outlive the caller. (With the engine's own runtime, the
 * monitor execs the executor instead: host.ts.)
 */
import { spawn } from 'node:child_process';
import type { Socket } from 'node:net';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { BerthError, ErrorKind } from '../../errors.ts';
import { buildDir } from '../../paths.ts';

export interface LogOptions {
  path: string;
  maxSize: number;
  maxFiles: number;
  lineMax: number;
}

interface MonitoredOptions {
  /** The container's id. */
  id: string;
  /** Exists, mode 0700: the monitor's attach socket, ctl fifo, pid and exit files go here. */
  runDir: string;
  stdin?: boolean;
  stdinOnce?: boolean;
  terminal?: boolean;
  /** Defaults to build/berth-monitor. */
  monitor?: string;
  /** The exit file without fsync (--no-sync): an exec's, which nobody reads after a crash. */
  noSync?: boolean;
}

interface CommonOptions extends MonitoredOptions {
  /** Path of the OCI runtime (berth-runtime or any runc-compatible one). */
  runtime: string;
  /** The runtime's --root. */
  root: string;
}

/** A container created by this process's runtime library, or a process exec'd into one, its executor exec'd by the monitor (host.ts). */
export interface ExecutorMonitorOptions extends MonitoredOptions {
  /** The executor binary (build/berth-exec). */
  executor: string;
  /** A container's; an exec keeps none (as Docker). */
  log?: LogOptions;
  /** An exec's caller attached from the start (see ExecMonitorOptions): the monitor's held client, on its fd 6. */
  attach?: boolean;
}

/** A container: the runtime's `create` of the bundle. */
export interface MonitorOptions extends CommonOptions {
  bundle: string;
  log: LogOptions;
  exec?: undefined;
}

/** A process in a running container: the runtime's `exec --detach --process FILE`. */
export interface ExecMonitorOptions extends CommonOptions {
  exec: {
    /** The process as runtime-spec JSON. */
    processFile: string;
    /**
     * The caller is attached from the start (the monitor's --attach-fd), so
     * no output comes before it; the monitor waits for it rather than
     * dropping it when it reads slowly.
     */
    attach?: boolean;
  };
  /** Docker keeps no log of an exec's output: none unless given. */
  log?: LogOptions;
}

export interface MonitorStarted {
  pid: number;
  monitorPid: number;
  /** With exec.attach: the attachment, framed as RUN/attach's (see attach.ts attachSocket), unread until the caller reads. */
  socket?: Socket;
}

/** fd of the monitor's held client (--attach-fd): 4, or 6 with --executor (4 and 5 are the executor's sync socket and plan). */
export function attachFd(o: MonitorOptions | ExecMonitorOptions | ExecutorMonitorOptions): number | undefined {
  if ('executor' in o) return o.attach === true ? 6 : undefined;
  return o.exec?.attach === true ? 4 : undefined;
}

export function monitorArgs(o: MonitorOptions | ExecMonitorOptions | ExecutorMonitorOptions): string[] {
  const held = attachFd(o);
  return [
    ...('executor' in o
      ? ['--executor', o.executor]
      : ['--runtime', o.runtime, '--root', o.root, ...(o.exec === undefined ? ['--bundle', o.bundle] : ['--exec', o.exec.processFile])]),
    '--id', o.id, '--run-dir', o.runDir,
    ...(o.log === undefined ? [] : [
      '--log', o.log.path, '--log-max-size', String(o.log.maxSize), '--log-max-files', String(o.log.maxFiles), '--log-line-max', String(o.log.lineMax),
    ]),
    '--report-fd', '3', ...(held === undefined ? [] : ['--attach-fd', String(held)]),
    ...(o.stdin ? ['--stdin'] : []), ...(o.stdinOnce ? ['--stdin-once'] : []), ...(o.terminal ? ['--terminal'] : []), ...(o.noSync ? ['--no-sync'] : []),
  ];
}

function ended(stream: Readable): Promise<void> {
  return new Promise((resolve) => (stream.closed ? resolve() : stream.once('close', () => resolve())));
}

/** Resolves with the process's pid; rejects with the runtime's own message when create (or exec) failed. */
export async function startMonitor(o: MonitorOptions | ExecMonitorOptions): Promise<MonitorStarted> {
  const bin = o.monitor ?? join(buildDir(), 'berth-monitor');
  const what = o.exec === undefined ? `container "${o.id}"` : `exec in container "${o.id}"`;
  const verb = o.exec === undefined ? 'create' : 'exec';
  // fd 4 with exec.attach: a socket pair (libuv's 'pipe'), whose other end the monitor keeps as its first client.
  const child = spawn(bin, monitorArgs(o), { stdio: ['ignore', 'ignore', 'pipe', 'pipe', o.exec?.attach === true ? 'pipe' : 'ignore'] });
  const reportStream = child.stdio[3] as Readable;
  const socket = (child.stdio[4] ?? undefined) as Socket | undefined;
  // Node resumes every unread stdio stream of a child when it exits (child_process flushStdio), which
  // would discard the output and end the stream before the caller reads it: this one is the caller's.
  if (socket !== undefined) (child.stdio as unknown as unknown[])[4] = null;
  const report: Buffer[] = [];
  const stderr: Buffer[] = [];
  reportStream.on('data', (b: Buffer) => report.push(b));
  child.stderr!.on('data', (b: Buffer) => stderr.push(b));
  // The monitor's first process exits once detached; the report is whole when every copy of its pipe is closed.
  const status = await new Promise<number | null>((resolve, reject) => {
    child.once('error', (err) => reject(new BerthError(ErrorKind.Internal, 'monitor_start_failed', `${what}: starting ${bin}: ${err.message}`, { cause: err })));
    child.once('exit', (c) => resolve(c));
  }).catch((err: unknown) => {
    socket?.destroy();
    throw err;
  });
  await Promise.all([ended(reportStream), ended(child.stderr!)]);
  const text = Buffer.concat(report).toString();
  const pid = /^pid (\d+) (\d+)\n$/.exec(text);
  if (pid) return { pid: Number(pid[1]), monitorPid: Number(pid[2]), ...(socket === undefined ? {} : { socket }) };
  socket?.destroy();
  const failed = /^error (\d+)\n/.exec(text);
  if (failed) {
    const why = text.slice(failed[0].length).trim();
    const code = o.exec === undefined ? 'runtime_create_failed' : 'runtime_exec_failed';
    throw new BerthError(ErrorKind.Internal, code, `${what}: ${o.runtime} ${verb} exited ${failed[1]}: ${why || 'no message'}`, { details: { status: Number(failed[1]) } });
  }
  const why = Buffer.concat(stderr).toString().trim();
  throw new BerthError(ErrorKind.Internal, 'monitor_start_failed', `${what}: berth-monitor exited ${status} without a report: ${why || 'no message'}`);
}
