/**
 * RUN: the command runs in a container on a writable snapshot of the
 * stage, through the image's SHELL for the shell form (heredocs included:
 * a RUN that is only `<<EOF` runs the body as its script, otherwise the
 * shell gets the lines with their bodies and handles the redirections),
 * with the image's Env plus the ARGs in scope (ENV wins) and its USER and
 * WorkingDir. What it changed becomes the step's layer. The network is
 * none: builds are offline (`--network=none` and `default` both mean that;
 * `host` is refused, as are `--mount` and `--security`).
 */
import { realpathSync } from 'node:fs';
import { ErrorKind, isBerthError } from '../../../errors.ts';
import { readUserDb } from '../../bundle/read-user-db.ts';
import { resolveUser } from '../../bundle/user.ts';
import { Rootfs } from '../../unpack/rootfs.ts';
import { buildError, syntaxError } from '../errors.ts';
import type { Heredoc } from '../containerfile/lines.ts';
import { runContainer, runSpec } from '../exec/run-container.ts';
import { ensureChain } from '../exec/views.ts';
import { withWorkSnapshot } from '../exec/work-snapshot.ts';
import { step, type Session } from '../session.ts';
import { DEFAULT_PATH, details, envList, getEnv, setEnv, shellOf, type StageState } from '../state.ts';
import { commandArgs, type Of } from './metadata.ts';

class RunFailed extends Error {
  readonly code: number;
  constructor(code: number) {
    super(`exited with status ${code}`);
    this.code = code;
  }
}

function heredocArgs(s: StageState, command: string, docs: Heredoc[]): string[] {
  const shell = shellOf(s);
  const only = docs.length === 1 && /^<<-?(["']?)[A-Za-z_][A-Za-z0-9_.-]*\1$/.test(command.trim());
  if (only) return [...shell, docs[0]?.content ?? ''];
  const script = [command, ...docs.map((d) => `${d.content}${d.name}`)].join('\n');
  return [...shell, script];
}

function checkFlags(ins: Of<'RUN'>): void {
  for (const f of ins.flags) {
    if (f.name === 'network') {
      if (f.value === 'none' || f.value === 'default') continue;
      throw syntaxError(ins.loc, 'RUN', `--network=${f.value ?? ''}: builds are offline; only "none" (and "default", which is none here) are supported`);
    }
    throw syntaxError(ins.loc, 'RUN', `--${f.name} is not supported by berth build`);
  }
}

/** The environment of the RUN container: the image's Env, ARGs in scope (ENV wins), proxies, PATH and HOME. */
function runEnv(session: Session, s: StageState, home: string): string[] {
  let env = [...envList(s)];
  for (const [k, v] of s.args) if (v !== undefined && getEnv(env, k) === undefined) env.push(`${k}=${v}`);
  for (const [k, v] of session.args.proxies()) if (getEnv(env, k) === undefined) env.push(`${k}=${v}`);
  if (getEnv(env, 'PATH') === undefined) env = setEnv(env, 'PATH', DEFAULT_PATH);
  if (getEnv(env, 'HOME') === undefined) env.push(`HOME=${home}`);
  return env;
}

export async function dispatchRun(session: Session, s: StageState, ins: Of<'RUN'>): Promise<void> {
  checkFlags(ins);
  const args = ins.heredocs.length > 0 && !ins.form.json ? heredocArgs(s, ins.form.command, ins.heredocs) : commandArgs(s, ins.form);
  const withValues = [...s.args].filter((e): e is [string, string] => e[1] !== undefined);
  const prefix = withValues.length === 0 ? '' : `|${withValues.length} ${withValues.map(([k, v]) => `${k}=${v}`).join(' ')} `;
  const createdBy = `${prefix}${args.join(' ')}`;
  await step(session, s, {
    createdBy,
    layered: true,
    argsInKey: true,
    run: async () => {
      const parent = await ensureChain(session.env, s.layers);
      try {
        const outcome = await withWorkSnapshot(session.env, parent, async (root, stepDir) => {
          let user;
          {
            using rootfs = Rootfs.open(root);
            user = resolveUser(details(s).User, readUserDb(rootfs));
          }
          const env = runEnv(session, s, user.home);
          const cwd = details(s).WorkingDir ?? '';
          const spec = runSpec({ args, env, cwd: cwd === '' ? '/' : cwd, user, rootfs: realpathSync(root) });
          const code = await runContainer({
            runtimeRoot: session.runtimeRoot,
            bundleDir: stepDir,
            spec,
            ...(session.signal === undefined ? {} : { signal: session.signal }),
            onOutput: (stream, data) => session.emit({ type: 'output', stream, data }),
            onStart: (container) => {
              session.counters.runs++;
              session.emit({ type: 'run', container });
            },
          });
          if (code !== 0) throw new RunFailed(code);
        });
        if (outcome.layer !== undefined) session.emit({ type: 'layer', digest: outcome.layer.digest, diffId: outcome.layer.diffId, size: outcome.layer.size });
        return outcome.layer;
      } catch (err) {
        if (err instanceof RunFailed) {
          throw buildError(ErrorKind.FailedPrecondition, 'build_run_failed', ins.loc, 'RUN', `${JSON.stringify(createdBy)} ${err.message}`, {
            details: { exitCode: err.code },
          });
        }
        if (isBerthError(err, 'image_user')) throw buildError(ErrorKind.InvalidArgument, 'build_user', ins.loc, 'RUN', err.message, { cause: err });
        throw err;
      }
    },
  });
}
