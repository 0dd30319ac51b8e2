/** `exec`: another process in a running container, in all its namespaces and its cgroup. */
import { readlinkSync } from 'node:fs';
import { type BerthError, errnoCode, failedPrecondition, invalidArgument } from '../../errors.ts';
import type { Process } from '../../oci/runtime-spec.ts';
import { cgroupOf as cgroupFromPaths } from './cgroup.ts';
import { type Execution, ExecutorFailure, runExecutor, type StdioEntry } from '../executor/executor.ts';
import { SYNC_CREATED } from '../plan/create-plan.ts';
import { compileExecPlan } from '../plan/exec-plan.ts';
import { withHome } from './home.ts';
import type { RuntimeContext } from './context.ts';
import { writePidFile } from './create.ts';
import { compileSeccompFor, listenerState } from './seccomp.ts';
import { containerStatus, specState } from './status.ts';

export interface ExecOptions {
  consoleSocket?: string | undefined;
  detach?: boolean;
  pidFile?: string | undefined;
  preserveFds?: number;
  stdio?: readonly [StdioEntry, StdioEntry, StdioEntry] | 'inherit';
}

export interface Executed {
  pid: number;
  execution: Execution;
}

export function checkProcess(p: Process, where: string): void {
  if (!p.args || p.args.length === 0) throw invalidArgument('exec_args', `${where}: args must name the program to run`);
  if (!p.cwd.startsWith('/')) throw invalidArgument('exec_cwd', `${where}: cwd "${p.cwd}" must be an absolute path`);
  if (p.terminal && p.consoleSize && (p.consoleSize.height <= 0 || p.consoleSize.width <= 0)) {
    throw invalidArgument('exec_console_size', `${where}: consoleSize must be positive`);
  }
}

/**
 * A killed container's first process keeps running in the kernel a while after
 * SIGKILL (as the init of its pid namespace it waits for the namespace's other
 * processes to be reaped), but it has already dropped its namespaces.
 */
function lostNamespaces(pid: number): boolean {
  try {
    readlinkSync(`/proc/${pid}/ns/mnt`);
    return false;
  } catch (err) {
    return errnoCode(err) === 'ENOENT';
  }
}

function notRunning(id: string, status: string, cause?: unknown): BerthError {
  return failedPrecondition('not_running', `container "${id}": cannot exec in a container that is ${status}`, cause ? { cause } : {});
}

export async function exec(ctx: RuntimeContext, id: string, process: Process, options: ExecOptions = {}): Promise<Executed> {
  // The new process joins the container's cgroup: the kernel's grace period for that passes meanwhile.
  const stopWarming = ctx.host.warmCgroupJoin();
  try {
    return await execWarm(ctx, id, process, options);
  } finally {
    stopWarming();
  }
}

async function execWarm(ctx: RuntimeContext, id: string, process: Process, options: ExecOptions): Promise<Executed> {
  const { store } = ctx;
  const record = await store.read(id);
  const status = await containerStatus(ctx, record);
  if (status !== 'running' && status !== 'created') throw notRunning(id, status);
  if (lostNamespaces(record.pid)) throw notRunning(id, 'stopped');
  checkProcess(process, 'process');
  const detach = options.detach ?? false;
  const seccomp = record.config.linux?.seccomp ? await compileSeccompFor(record.config.linux.seccomp) : undefined;
  const plan = compileExecPlan({
    process: withHome(process, record.rootfs, record.bundle, record.config.mounts),
    initPid: record.pid,
    namespaceTypes: Object.keys(record.namespaces),
    consoleSocket: options.consoleSocket,
    preserveFds: options.preserveFds ?? 0,
    wait: !detach,
    consoleProxy: process.terminal === true && !options.consoleSocket && !detach,
    seccomp,
  });
  if (process.terminal && !options.consoleSocket && detach) {
    throw invalidArgument('console_socket_required', 'exec: --tty with --detach needs --console-socket');
  }
  const cgroup = record.cgroup ? cgroupFromPaths(ctx, record.cgroup) : undefined;
  let pid = 0;
  const execution = await runExecutor(ctx.host, {
    plan,
    stdio: options.stdio ?? 'inherit',
    preserveFds: options.preserveFds ?? 0,
    onPid: (p) => {
      pid = p;
    },
    onSync: async (tag) => {
      if (tag === SYNC_CREATED && cgroup) await cgroup.addProcess(pid);
      return seccomp?.notify ? ['', '', listenerState(seccomp, pid, specState(record, status))] : [];
    },
  });
  try {
    await execution.ready;
  } catch (err) {
    // Killed between the check above and joining its namespaces.
    if (err instanceof ExecutorFailure && lostNamespaces(record.pid)) throw notRunning(id, 'stopped', err);
    throw err;
  }
  if (options.pidFile) writePidFile(options.pidFile, pid);
  return { pid, execution };
}
