/**
 * A new process in a running container (`exec`): join every namespace of
 * the container's first process, fork, join its cgroup, then the same
 * process set-up as create, without waiting for a start.
 */
import type { Process } from '../../oci/runtime-spec.ts';
import { addProcessSteps, NS_CLONE_FLAG, NS_PROC_NAME, type SeccompProgram, SYNC_CREATED } from './create-plan.ts';
import { Plan } from './encode.ts';

const JOIN_ORDER = ['user', 'ipc', 'uts', 'network', 'pid', 'cgroup', 'mount'];

export interface ExecPlanInput {
  process: Process;
  /** pid of the container's first process, whose namespaces the new process joins. */
  initPid: number;
  /** Namespace types the container has (new or joined). */
  namespaceTypes: string[];
  consoleSocket?: string | undefined;
  preserveFds: number;
  wait: boolean;
  consoleProxy: boolean;
  seccomp?: SeccompProgram | undefined;
}

export function compileExecPlan(input: ExecPlanInput): Plan {
  const p = input.process;
  const plan = new Plan();
  plan.add('close_fds', { first: 3 + input.preserveFds }, 'close inherited file descriptors on exec');
  // The console socket is a host path: connect before entering the container's mount namespace.
  if (p.terminal && input.consoleSocket) {
    plan.add('console_connect', { path: input.consoleSocket }, `connect to the console socket "${input.consoleSocket}"`);
  }
  if (input.seccomp?.notify && input.seccomp.listenerPath) {
    plan.add('listener_connect', { path: input.seccomp.listenerPath }, `connect to the seccomp listener "${input.seccomp.listenerPath}"`);
  }
  const types = [...input.namespaceTypes].filter((t) => t in NS_PROC_NAME).sort((a, b) => JOIN_ORDER.indexOf(a) - JOIN_ORDER.indexOf(b));
  for (const type of types) {
    const path = `/proc/${input.initPid}/ns/${NS_PROC_NAME[type]}`;
    plan.add('setns', { path, nstype: NS_CLONE_FLAG[type] ?? 0 }, `join the container's ${type} namespace`);
  }
  // Joining a mount namespace enters its root; without one of its own, the container's root is a chroot.
  if (!types.includes('mount')) {
    plan.add('chroot', { path: `/proc/${input.initPid}/root` }, 'chroot into the container\'s root (no mount namespace of its own)');
  }
  plan.add('fork', { wait: input.wait ? 1 : 0, console_proxy: input.consoleProxy ? 1 : 0 }, 'start the process');
  plan.add('sync', { tag: SYNC_CREATED }, 'wait to be placed in the cgroup');
  // As the container's first process got it (runc gives exec'd processes the container's too).
  if (p.oomScoreAdj !== undefined) {
    plan.add('write_file', { path: '/proc/self/oom_score_adj', data: String(p.oomScoreAdj), resolve: 0 }, `set oom_score_adj to ${p.oomScoreAdj}`);
  }
  if (p.terminal) {
    plan.add('setsid', {}, 'start a session');
    plan.add(
      'setup_console',
      // The group stays devpts' own, as runc leaves it.
      { uid: p.user.uid, gid: -1, rows: p.consoleSize?.height ?? 0, cols: p.consoleSize?.width ?? 0, console_path: '' },
      'create the terminal',
    );
  }
  addProcessSteps(plan, p, { preserveFds: input.preserveFds, seccomp: input.seccomp });
  plan.add('reset_signals', {}, 'reset signal handling');
  plan.add('ready', {}, 'report ready');
  plan.add('exec', { argv: p.args ?? [], envv: p.env ?? [] }, `exec "${p.args?.[0] ?? ''}"`);
  return plan;
}
