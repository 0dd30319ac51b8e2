/**
 * An exec with no runtime command on its road: the runtime library's own
 * exec (src/runtime/lifecycle/exec.ts: the container's state and init pid,
 * the process completed from the container's, the plan that joins each
 * namespace of the init, its cgroup, seccomp, capabilities, no_new_privs
 * and rlimits) runs in this process, and the exec's berth-monitor execs
 * the executor on that plan (monitor/host.ts), as it does for a
 * container's create. So the process is the monitor's (it reaps it, holds
 * its stdio), and no Node.js starts per exec.
 *
 * The monitor is told the process's pid as soon as the executor forked it:
 * the process waits there for its cgroup, so it cannot have exited yet, and
 * a quick exit is never taken for a failed start.
 */
import { join } from 'node:path';
import { getSystemErrorMessage } from 'node:util';
import { BerthError, ErrorKind, internal, isBerthError } from '../../errors.ts';
import type { Process } from '../../oci/runtime-spec.ts';
import { ExecutorFailure } from '../../runtime/executor/executor.ts';
import { exec } from '../../runtime/lifecycle/exec.ts';
import type { RuntimeContext } from '../../runtime/lifecycle/context.ts';
import { monitorHost, tellMonitor } from '../monitor/host.ts';
import type { MonitorStarted } from '../monitor/spawn.ts';

export interface ExecutorExecOptions {
  /** The container's id and name (errors name it). */
  id: string;
  name: string;
  /** The exec's run directory (exists, mode 0700). */
  runDir: string;
  /** The executor binary (build/berth-exec). */
  executor: string;
  /** Defaults to build/berth-monitor. */
  monitor?: string;
  stdin: boolean;
  /** The caller is attached from the start (the monitor's held client). */
  attach: boolean;
}

const ENOENT = 2;

/** The executor's refusal of the program, as dockerd tells it: 127 when there is none, 126 when it cannot run. */
function programFailure(err: ExecutorFailure, name: string, program: string): BerthError {
  const missing = err.errno === ENOENT;
  return new BerthError(
    ErrorKind.InvalidArgument,
    missing ? 'exec_program_not_found' : 'exec_program_not_runnable',
    `container "${name}": cannot exec "${program}": ${err.detail}: ${getSystemErrorMessage(-err.errno).toLowerCase()}`,
    { cause: err, details: { exitCode: missing ? 127 : 126 } },
  );
}

/** The exit code an exec that could not start gets in its inspect (dockerd's). */
export function startFailureCode(err: unknown): number {
  return isBerthError(err, 'exec_program_not_found') ? 127 : 126;
}

/** Resolves once the process runs (its pid, its monitor's, the attachment); rejects when it could not start, and then nothing of it is left running. */
export async function startExecutorExec(ctx: RuntimeContext, o: ExecutorExecOptions, proc: Process): Promise<MonitorStarted> {
  const terminal = proc.terminal === true;
  const host = monitorHost(
    {
      id: o.id, runDir: o.runDir, executor: o.executor, stdin: o.stdin, stdinOnce: true, terminal, attach: o.attach, noSync: true,
      ...(o.monitor === undefined ? {} : { monitor: o.monitor }),
    },
    ctx.host,
  );
  // Told once the monitor reported (its ctl exists from then on; it makes it while the executor starts).
  let telling = Promise.resolve(true);
  try {
    const { pid } = await exec({ ...ctx, host }, o.id, proc, {
      detach: true,
      consoleSocket: terminal ? join(o.runDir, 'console.sock') : undefined,
      onPid: (p) => {
        telling = host.monitorPid.then(() => tellMonitor(o.runDir, `pid ${p}`)).catch(() => false);
      },
    });
    if (!(await telling)) {
      // Nobody would reap it or hold its output: it goes rather than run unwatched.
      killQuietly(pid);
      throw internal('monitor_gone', `container "${o.name}": exec: its berth-monitor quit before the process ran`);
    }
    const socket = host.attachment();
    return { pid, monitorPid: await host.monitorPid, ...(socket === undefined ? {} : { socket }) };
  } catch (err) {
    try {
      tellMonitor(o.runDir, 'abort');
    } catch {
      // The monitor quits by itself once it has neither a child nor a pid.
    }
    host.attachment()?.destroy();
    if (!(err instanceof ExecutorFailure)) throw err;
    if (err.details['op'] === 'resolve_exec') throw programFailure(err, o.name, proc.args?.[0] ?? '');
    throw internal('runtime_exec_failed', `container "${o.name}": exec: ${err.message}`, { cause: err, details: err.details });
  }
}

function killQuietly(pid: number): void {
  try {
    process.kill(pid, 'SIGKILL');
  } catch {
    // already gone
  }
}
