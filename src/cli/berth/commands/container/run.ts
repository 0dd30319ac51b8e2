/**
 * `berth run` and `berth create`: docker's flags, parsed and checked here
 * (so a bad value is refused before berthd is even asked), the container
 * created by berthd (`POST /berth/containers/create`), then for `run`
 * attached before it starts (no output is lost), started, and waited for:
 * the exit code is the container's, as docker's (125: it could not be
 * created). `-d` prints the ID.
 */
import { readFileSync } from 'node:fs';
import type { ApiClient } from '../../../../api/client.ts';
import { parseRunOptions } from '../../../../engine/spec/options.ts';
import { describeError, invalidArgument } from '../../../../errors.ts';
import { CREATE_FLAGS, RUN_FLAGS, runFlagsFrom, stdioFlagsFrom } from '../../container-flags.ts';
import type { CommandContext } from '../../context.ts';
import { defineCommand, writeBytes } from '../../context.ts';
import type { Input } from '../../../framework/flags.ts';
import { pump, waitFor } from './attach-io.ts';

async function create(ctx: CommandContext, input: Input, client?: ApiClient): Promise<{ id: string; client: ApiClient; tty: boolean; interactive: boolean; detach: boolean; autoRemove: boolean }> {
  const [image = '', ...args] = input.args;
  const flags = runFlagsFrom(input.flags, (p) => readFileSync(ctx.path(p), 'utf8'));
  const options = parseRunOptions(flags, ctx.env);
  const stdio = stdioFlagsFrom(input.flags);
  const seccomp = options.security.seccomp;
  let seccompProfileText: string | undefined;
  if (seccomp.kind === 'file') {
    try {
      seccompProfileText = readFileSync(ctx.path(seccomp.path), 'utf8');
    } catch (err) {
      throw invalidArgument('run_flag_invalid', `--security-opt seccomp=${seccomp.path}: cannot read it: ${describeError(err)}`, { cause: err });
    }
  }
  const c = client ?? (await ctx.daemon());
  const created = (await c.json('POST', '/berth/containers/create', {
    body: { image, args, options, tty: stdio.tty, openStdin: stdio.interactive, stdinOnce: stdio.interactive && !stdio.detach, ...(seccompProfileText === undefined ? {} : { seccompProfileText }) },
  })) as { Id: string };
  return { id: created.Id, client: c, tty: stdio.tty, interactive: stdio.interactive, detach: stdio.detach, autoRemove: options.autoRemove };
}

/**
 * docker's code when the container could not be made (a bad flag value, an
 * unknown image, a name in use, berthd unreachable): 125, told apart from
 * any exit code of the container's own.
 */
const CREATE_FAILED = 125;

async function createOrReport(ctx: CommandContext, input: Input): Promise<Awaited<ReturnType<typeof create>> | number> {
  try {
    return await create(ctx, input);
  } catch (err) {
    ctx.stderr.write(`berth: ${describeError(err)}\n`);
    return CREATE_FAILED;
  }
}

/** docker run's codes when the container could not run: 127 command not found, 126 not executable, 125 anything else. */
export function startFailureCode(err: unknown): number {
  const text = describeError(err);
  if (/not found in \$PATH|no such file or directory/i.test(text)) return 127;
  if (/permission denied|not executable|exec format error/i.test(text)) return 126;
  return 125;
}

export const createCommand = defineCommand({
  args: ['IMAGE', '[COMMAND]', '[ARG...]'],
  flags: CREATE_FLAGS,
  flagsEndAtFirstArg: true,
  async run(ctx, input) {
    const c = await createOrReport(ctx, input);
    if (typeof c === 'number') return c;
    ctx.out(`${c.id}\n`);
    return 0;
  },
});

export default defineCommand({
  args: ['IMAGE', '[COMMAND]', '[ARG...]'],
  flags: RUN_FLAGS,
  flagsEndAtFirstArg: true,
  async run(ctx, input) {
    const c = await createOrReport(ctx, input);
    if (typeof c === 'number') return c;
    const { client, id } = c;
    if (c.detach) {
      await client.json('POST', `/containers/${id}/start`);
      ctx.out(`${id}\n`);
      return 0;
    }
    // The attachment and the wait are both in place before the start (no output or exit missed); asked for at once.
    const [hijacked, { exit }] = await Promise.all([
      client.hijack('POST', `/containers/${id}/attach`, { query: { stream: true, stdin: c.interactive, stdout: true, stderr: true } }),
      waitFor(client, id, c.autoRemove ? 'removed' : 'next-exit'),
    ]);
    const io = pump(client, id, hijacked.socket, { stdin: c.interactive, tty: c.tty }, undefined, { out: (b) => writeBytes(ctx.stdout, b), err: (b) => writeBytes(ctx.stderr, b) });
    try {
      await client.json('POST', `/containers/${id}/start`);
    } catch (err) {
      hijacked.socket.destroy();
      if (c.autoRemove) await client.request('DELETE', `/containers/${id}`, { query: { force: true, v: true } }).catch(() => undefined);
      ctx.stderr.write(`berth: ${describeError(err)}\n`);
      return startFailureCode(err);
    }
    await io.resized();
    const [result] = await Promise.all([exit, io.done]);
    if (result.error !== undefined) ctx.stderr.write(`berth: ${result.error}\n`);
    return result.code;
  },
});
