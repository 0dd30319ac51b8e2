/** `exec`: another process in a running container, in all its namespaces and its cgroup. */
import { readlinkSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { type BerthError, describeError, errnoCode, failedPrecondition, invalidArgument } from '../../errors.ts';
import { validateRuntimeConfig } from '../../oci/schema.ts';
import { RUNTIME_SPEC_VERSION, type Process } from '../../oci/runtime-spec.ts';
import { semanticProblems } from '../spec/validate.ts';
import { cgroupOf as cgroupFromPaths } from './cgroup.ts';
import { type Execution, ExecutorFailure, runExecutor, type StdioEntry } from '../executor/executor.ts';
import { SYNC_CREATED } from '../plan/create-plan.ts';
import { compileExecPlan } from '../plan/exec-plan.ts';
import { withHome } from './home.ts';
import type { RuntimeContext } from './context.ts';
import { writePidFile } from './create.ts';
import { compileSeccompFor, listenerState } from './seccomp.ts';
import { containerStatus, specState } from './status.ts';
import { isAlive } from '../state/proc.ts';
import { mark } from '../../trace.ts';

export interface ExecOptions {
  consoleSocket?: string | undefined;
  detach?: boolean;
  pidFile?: string | undefined;
  preserveFds?: number;
  stdio?: readonly [StdioEntry, StdioEntry, StdioEntry] | 'inherit';
  /** The new process's pid, as soon as the executor forked it (before it can run anything of its own). */
  onPid?: (pid: number) => void;
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
 * A process file (`exec --process`): runtime-spec JSON, checked by the
 * schema and the runtime's rules as a config's process is.
 */
export async function readProcessFile(file: string): Promise<Process> {
  const where = `exec: --process "${file}"`;
  let data: unknown;
  try {
    data = JSON.parse(await readFile(file, 'utf8'));
  } catch (err) {
    // A parser's message quotes the file's text: say only that it is not JSON.
    if (err instanceof SyntaxError) throw invalidArgument('process_file', `${where}: not valid JSON`);
    throw invalidArgument('process_file', `${where}: ${describeError(err)}`, { cause: err });
  }
  if (typeof data !== 'object' || data === null || Array.isArray(data)) throw invalidArgument('process_file', `${where}: must be a JSON object`);
  const config = { ociVersion: RUNTIME_SPEC_VERSION, root: { path: 'rootfs' }, process: data };
  let problems = await validateRuntimeConfig(config);
  if (problems.length === 0) problems = semanticProblems(config as { ociVersion: string; process: Process }, { requireProcess: true });
  if (problems.length > 0) throw invalidArgument('process_file', `${where}: ${problems.join('; ')}`, { details: { problems } });
  return data as Process;
}

/**
 * What a new process leaves out it takes from the container's, as runc does:
 * capabilities (without any it would keep the runtime's full set), the
 * no_new_privs flag, rlimits, oom_score_adj and the security labels. It never gets more
 * than the container was given.
 */
export function withContainerDefaults(p: Process, container: Process | undefined): Process {
  const out: Process = { ...p };
  if (out.capabilities === undefined && container?.capabilities !== undefined) out.capabilities = structuredClone(container.capabilities);
  if (out.noNewPrivileges === undefined && container?.noNewPrivileges !== undefined) out.noNewPrivileges = container.noNewPrivileges;
  if (out.rlimits === undefined && container?.rlimits !== undefined) out.rlimits = structuredClone(container.rlimits);
  if (out.oomScoreAdj === undefined && container?.oomScoreAdj !== undefined) out.oomScoreAdj = container.oomScoreAdj;
  if (!out.apparmorProfile && container?.apparmorProfile) out.apparmorProfile = container.apparmorProfile;
  if (!out.selinuxLabel && container?.selinuxLabel) out.selinuxLabel = container.selinuxLabel;
  return out;
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
  return failedPrecondition('not_running', `container "${id}": cannot exec in a container that is ${status}`, { details: { status }, ...(cause ? { cause } : {}) });
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

async function execWarm(ctx: RuntimeContext, id: string, given: Process, options: ExecOptions): Promise<Executed> {
  const { store } = ctx;
  const record = await store.read(id);
  const status = await containerStatus(ctx, record);
  if (status !== 'running' && status !== 'created') throw notRunning(id, status);
  if (lostNamespaces(record.pid)) throw notRunning(id, 'stopped');
  mark('exec: status known');
  checkProcess(given, 'process');
  const process = withContainerDefaults(given, record.config.process);
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
  mark('exec: plan compiled');
  let pid = 0;
  const execution = await runExecutor(ctx.host, {
    plan,
    stdio: options.stdio ?? 'inherit',
    preserveFds: options.preserveFds ?? 0,
    onPid: (p) => {
      pid = p;
      options.onPid?.(p);
    },
    onSync: async (tag) => {
      // The namespaces were joined by /proc/PID/ns paths: the first process still being the one recorded
      // now, as it was at the check above, means those paths were its own all along, not a recycled pid's.
      if (tag === SYNC_CREATED && !isAlive(record.pid, record.pidStartTime)) throw notRunning(id, 'stopped');
      if (tag === SYNC_CREATED && cgroup) await cgroup.addProcess(pid);
      mark(`exec: sync ${tag} answered`);
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
  mark('exec: ready');
  if (options.pidFile) writePidFile(options.pidFile, pid);
  return { pid, execution };
}
