/** The seccomp compiler (loaded only for containers that ask for a filter) and what a listener receives. */
import { invalidArgument } from '../../errors.ts';
import type { LinuxSeccomp, State } from '../../oci/runtime-spec.ts';
import type { SeccompProgram } from '../plan/create-plan.ts';

/**
 * Syscalls the executor itself makes between loading the filter and exec:
 * a NOTIFY rule on them would wait for a listener answer about the runtime's
 * own work (runc refuses "write" for the same reason).
 */
const RUNTIME_SYSCALLS = new Set([
  'write', 'writev', 'read', 'close', 'close_range', 'openat', 'openat2', 'fcntl', 'execve', 'execveat', 'sendmsg',
  'rt_sigaction', 'rt_sigprocmask', 'newfstatat', 'fstat', 'stat', 'statx', 'access', 'faccessat', 'faccessat2',
  'exit', 'exit_group', 'clone', 'clone3', 'fork', 'vfork', 'wait4', 'poll', 'ppoll', 'pipe2', 'pidfd_open', 'dup2', 'dup3',
]);

/**
 * Programs compiled lately, by their profile's JSON: a resident process
 * (berthd) compiles the same few profiles for every create and exec, and
 * compiling docker's default takes milliseconds where its JSON takes
 * microseconds. What comes back is shared: callers only read it.
 */
const compiled = new Map<string, SeccompProgram>();
const COMPILED_KEPT = 16;

export async function compileSeccompFor(profile: LinuxSeccomp): Promise<SeccompProgram> {
  const key = JSON.stringify(profile);
  const known = compiled.get(key);
  if (known !== undefined) return known;
  const program = await compileChecked(profile);
  if (compiled.size >= COMPILED_KEPT) compiled.delete(compiled.keys().next().value ?? '');
  compiled.set(key, program);
  return program;
}

async function compileChecked(profile: LinuxSeccomp): Promise<SeccompProgram> {
  (profile.syscalls ?? []).forEach((rule, i) => {
    if (rule.action !== 'SCMP_ACT_NOTIFY') return;
    for (const name of rule.names) {
      if (RUNTIME_SYSCALLS.has(name)) {
        throw invalidArgument(
          'seccomp_notify_runtime_syscall',
          `linux.seccomp.syscalls[${i}]: SCMP_ACT_NOTIFY on "${name}" would stop the runtime itself before the container starts`,
        );
      }
    }
  });
  const { compileSeccomp } = await import('../seccomp/index.ts');
  return compileSeccomp(profile);
}

/** The runtime-spec "container process state" sent with the notify fd. */
export function listenerState(seccomp: SeccompProgram | undefined, pid: number, state: State): string {
  if (!seccomp?.notify) return '';
  return JSON.stringify({
    ociVersion: state.ociVersion,
    fds: ['seccompFd'],
    pid,
    metadata: seccomp.listenerMetadata ?? '',
    state,
  });
}
