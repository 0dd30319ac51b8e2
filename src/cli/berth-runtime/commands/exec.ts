import { bool, list, str, type FlagValues } from '../../framework/flags.ts';
import { invalidArgument, unsupported } from '../../../errors.ts';
import type { Process } from '../../../oci/runtime-spec.ts';
import { exec, readProcessFile } from '../../../runtime/lifecycle/exec.ts';
import { exitCode, forwardSignals } from '../../../runtime/lifecycle/signals.ts';
import { defineCommand, optionalPath } from '../context.ts';
import type { RuntimeContext } from '../../../runtime/lifecycle/context.ts';

const SETS = ['bounding', 'effective', 'permitted', 'inheritable', 'ambient'] as const;

async function processFromFlags(runtime: RuntimeContext, path: (p: string) => string, id: string, flags: FlagValues, args: string[]): Promise<Process> {
  // Accepted by name for runc's callers, refused when they ask for a label berth cannot apply.
  if (str(flags, 'apparmor')) throw unsupported('apparmor_profile', 'exec: --apparmor: AppArmor profiles are not supported by berth-runtime');
  if (str(flags, 'process-label')) throw unsupported('selinux_label', 'exec: --process-label: SELinux labels are not supported by berth-runtime');
  const file = str(flags, 'process');
  if (file) return readProcessFile(path(file));
  if (args.length === 0) throw invalidArgument('wrong_args', 'exec: expects ID and a COMMAND (or --process)');
  const record = await runtime.store.read(id);
  const base = record.config.process;
  const p: Process = structuredClone(base ?? { cwd: '/', user: { uid: 0, gid: 0 } });
  p.args = args;
  p.env = [...(p.env ?? []), ...list(flags, 'env')];
  p.terminal = bool(flags, 'tty');
  delete p.consoleSize;
  const cwd = str(flags, 'cwd');
  if (cwd) p.cwd = cwd;
  const user = str(flags, 'user');
  if (user) {
    const m = /^(\d+)(?::(\d+))?$/.exec(user);
    if (!m) throw invalidArgument('invalid_user', `exec: --user "${user}": must be UID[:GID]`);
    p.user = { ...p.user, uid: Number(m[1]), gid: m[2] !== undefined ? Number(m[2]) : p.user.gid };
  }
  const gids = list(flags, 'additional-gids').map((g) => {
    if (!/^\d+$/.test(g)) throw invalidArgument('invalid_gid', `exec: --additional-gids "${g}": not a number`);
    return Number(g);
  });
  if (gids.length) p.user.additionalGids = gids;
  if (bool(flags, 'no-new-privs')) p.noNewPrivileges = true;
  const caps = list(flags, 'cap');
  if (caps.length) {
    p.capabilities ??= {};
    for (const set of SETS) p.capabilities[set] = [...new Set([...(p.capabilities[set] ?? []), ...caps])];
  }
  return p;
}

export default defineCommand({
  args: ['ID', '[COMMAND...]'],
  flags: [
    { name: 'console-socket', type: 'string', value: 'PATH', help: 'unix socket that receives the terminal master' },
    { name: 'cwd', type: 'string', value: 'DIR', help: 'working directory in the container' },
    { name: 'env', short: 'e', type: 'list', value: 'NAME=VALUE', help: 'add an environment variable' },
    { name: 'tty', short: 't', type: 'bool', help: 'allocate a pseudo-terminal' },
    { name: 'user', short: 'u', type: 'string', value: 'UID[:GID]', help: 'user and group ids' },
    { name: 'additional-gids', short: 'g', type: 'list', value: 'GID', help: 'add a supplementary group' },
    { name: 'process', short: 'p', type: 'string', value: 'FILE', help: 'the process as runtime-spec JSON' },
    { name: 'detach', short: 'd', type: 'bool', help: 'do not wait for the process' },
    { name: 'pid-file', type: 'string', value: 'PATH', help: 'write the process id to this file' },
    { name: 'no-new-privs', type: 'bool', help: 'set no_new_privs' },
    { name: 'cap', short: 'c', type: 'list', value: 'CAP', help: 'add a capability' },
    { name: 'preserve-fds', type: 'int', value: 'N', help: 'pass N more file descriptors to the process' },
    { name: 'process-label', type: 'string', value: 'LABEL', help: 'refused unless empty (SELinux is not supported)' },
    { name: 'apparmor', type: 'string', value: 'PROFILE', help: 'refused unless empty (AppArmor is not supported)' },
    { name: 'ignore-paused', type: 'bool', help: 'accepted for runc compatibility' },
  ],
  async run(ctx, input) {
    const [id = '', ...args] = input.args;
    const process_ = await processFromFlags(ctx.runtime, ctx.path, id, input.flags, args);
    const detach = input.bool('detach');
    const executed = await exec(ctx.runtime, id, process_, {
      consoleSocket: optionalPath(ctx, input.str('console-socket')),
      detach,
      pidFile: optionalPath(ctx, input.str('pid-file')),
      preserveFds: input.int('preserve-fds') ?? 0,
    });
    if (detach) return 0;
    const stop = forwardSignals(executed.pid, ctx.runtime.signals);
    try {
      return exitCode(await executed.execution.exited);
    } finally {
      stop();
    }
  },
});
