/**
 * The process an exec runs, as Docker builds it: a copy of the container's
 * own process (its capabilities, rlimits, no_new_privs, user, cwd and
 * environment) with the exec's command, its -e merged over the container's
 * environment (a bare NAME removes it, as dockerd's ReplaceOrAppendEnvValues
 * does), TERM=xterm with a terminal, -w over the cwd, and -u resolved
 * against the container's own /etc/passwd and /etc/group. Privileged gives
 * every capability, as `--cap-add ALL` would. Pure: the caller reads files.
 */
import { invalidArgument, isBerthError } from '../../errors.ts';
import { resolveUser, type UserDb } from '../../image/bundle/user.ts';
import type { Process } from '../../oci/runtime-spec.ts';
import { CAPABILITIES } from '../../runtime/linux/constants.ts';
import { mergeEnv } from '../spec/env.ts';
import type { ExecConfig } from './config.ts';

function withEnv(base: readonly string[], overrides: readonly string[]): string[] {
  let out = [...base];
  for (const e of overrides) {
    if (e.includes('=')) out = mergeEnv(out, [e]);
    else out = out.filter((x) => x.slice(0, x.indexOf('=')) !== e);
  }
  return out;
}

/** `containerName` names the container in errors. `userDb` is read only when the exec gives a user. */
export function execProcess(container: Process, config: ExecConfig, containerName: string, userDb: () => UserDb): Process {
  const p: Process = structuredClone(container);
  p.args = [...config.Cmd];
  delete p.commandLine;
  p.terminal = config.Tty;
  delete p.consoleSize;
  if (config.Tty && config.ConsoleSize !== undefined && config.ConsoleSize[0] > 0 && config.ConsoleSize[1] > 0) {
    p.consoleSize = { height: config.ConsoleSize[0], width: config.ConsoleSize[1] };
  }
  const base = config.Tty && !(p.env ?? []).some((e) => e.startsWith('TERM=')) ? [...(p.env ?? []), 'TERM=xterm'] : (p.env ?? []);
  p.env = withEnv(base, config.Env);
  if (config.WorkingDir !== '') p.cwd = config.WorkingDir;
  if (config.User !== '') {
    let u: ReturnType<typeof resolveUser>;
    try {
      u = resolveUser(config.User, userDb(), 'User');
    } catch (err) {
      if (!isBerthError(err)) throw err;
      throw invalidArgument('exec_config_invalid', `container "${containerName}": exec config ${err.message.replace("the image's", "the container's")}`, { cause: err, details: { field: 'User' } });
    }
    p.user = { ...(p.user.umask === undefined ? {} : { umask: p.user.umask }), uid: u.uid, gid: u.gid, ...(u.additionalGids.length > 0 ? { additionalGids: u.additionalGids } : {}) };
  }
  if (config.Privileged) {
    const all = Object.keys(CAPABILITIES);
    p.capabilities = { bounding: [...all], effective: [...all], permitted: [...all] };
  }
  return p;
}
