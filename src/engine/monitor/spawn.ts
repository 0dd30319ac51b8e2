/**
 * Starts berth-monitor (native/monitor) for one container and reads its
 * report: the container's pid once the runtime's `create` succeeded, or
 * the runtime's exit status and log when it failed. The monitor detaches
 * itself, so it and the container outlive the caller.
 */
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { BerthError, ErrorKind } from '../../errors.ts';
import { buildDir } from '../../paths.ts';

export interface MonitorOptions {
  /** Path of the OCI runtime (berth-runtime or any runc-compatible one). */
  runtime: string;
  /** The runtime's --root. */
  root: string;
  bundle: string;
  id: string;
  /** Exists, mode 0700: the monitor's attach socket, ctl fifo, pid and exit files go here. */
  runDir: string;
  log: { path: string; maxSize: number; maxFiles: number; lineMax: number };
  stdin?: boolean;
  stdinOnce?: boolean;
  terminal?: boolean;
  /** Defaults to build/berth-monitor. */
  monitor?: string;
}

export function monitorArgs(o: MonitorOptions): string[] {
  return [
    '--runtime', o.runtime, '--root', o.root, '--bundle', o.bundle, '--id', o.id, '--run-dir', o.runDir,
    '--log', o.log.path, '--log-max-size', String(o.log.maxSize), '--log-max-files', String(o.log.maxFiles),
    '--log-line-max', String(o.log.lineMax), '--report-fd', '3',
    ...(o.stdin ? ['--stdin'] : []), ...(o.stdinOnce ? ['--stdin-once'] : []), ...(o.terminal ? ['--terminal'] : []),
  ];
}

/** Resolves with the container's pid; rejects with the runtime's own message when create failed. */
export function startMonitor(o: MonitorOptions): Promise<{ pid: number; monitorPid: number }> {
  const bin = o.monitor ?? join(buildDir(), 'berth-monitor');
  const child = spawn(bin, monitorArgs(o), { stdio: ['ignore', 'ignore', 'pipe', 'pipe'] });
  const report: Buffer[] = [];
  const stderr: Buffer[] = [];
  child.stdio[3]!.on('data', (b: Buffer) => report.push(b));
  child.stderr!.on('data', (b: Buffer) => stderr.push(b));
  return new Promise((resolve, reject) => {
    child.on('error', (err) => reject(new BerthError(ErrorKind.Internal, 'monitor_start_failed', `container "${o.id}": starting ${bin}: ${err.message}`, { cause: err })));
    // 'close': the monitor's first process exited and every copy of the report pipe is closed.
    child.on('close', (code) => {
      const text = Buffer.concat(report).toString();
      const pid = /^pid (\d+) (\d+)\n$/.exec(text);
      if (pid) return resolve({ pid: Number(pid[1]), monitorPid: Number(pid[2]) });
      const failed = /^error (\d+)\n/.exec(text);
      if (failed) {
        const why = text.slice(failed[0].length).trim();
        return reject(new BerthError(ErrorKind.Internal, 'runtime_create_failed', `container "${o.id}": ${o.runtime} create exited ${failed[1]}: ${why || 'no message'}`, { details: { status: Number(failed[1]) } }));
      }
      const why = Buffer.concat(stderr).toString().trim();
      reject(new BerthError(ErrorKind.Internal, 'monitor_start_failed', `container "${o.id}": berth-monitor exited ${code} without a report: ${why || 'no message'}`));
    });
  });
}
