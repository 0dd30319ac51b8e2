/**
 * `berth build [-f FILE] [-t NAME]... [--build-arg K=V]... [--target STAGE]
 * [--no-cache] [--platform P] [--timestamp S] [--iidfile F] CONTEXT` — an
 * image from a Containerfile (the job of `docker build` / `buildah bud`).
 * Progress and RUN output go to stderr, the image ID to stdout (only it
 * with --quiet). A failed RUN exits with the RUN's own status.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describeError, invalidArgument, isBerthError, notFound } from '../../../errors.ts';
import { bool, list, operands, str, type Parsed } from '../args.ts';
import type { CommandContext } from '../context.ts';
import { progressView } from '../progress.ts';
import { PLATFORM_OPTION, platformOption, registryReference } from './common.ts';
import type { Command } from './command.ts';
import type { BuildEvent } from '../../../image/build/events.ts';

const usage = 'berth build [-f FILE] [-t NAME]... [--build-arg KEY=VALUE]... [--target STAGE] [--no-cache] [--platform OS/ARCH] [--timestamp SECONDS] [--iidfile FILE] CONTEXT';

function buildArgs(p: Parsed, env: NodeJS.ProcessEnv): Map<string, string> {
  const out = new Map<string, string>();
  for (const a of list(p, 'build-arg')) {
    const eq = a.indexOf('=');
    if (eq === 0) throw invalidArgument('invalid_build_arg', `--build-arg "${a}": want KEY=VALUE`);
    if (eq === -1) {
      // As docker: a bare KEY takes its value from the environment, and is left out when unset there.
      const v = env[a];
      if (v !== undefined) out.set(a, v);
      continue;
    }
    out.set(a.slice(0, eq), a.slice(eq + 1));
  }
  return out;
}

function containerfile(p: Parsed, context: string): { text: string; name: string } {
  const file = str(p, 'file');
  if (file === '-') return { text: readFileSync(0, 'utf8'), name: 'Containerfile' };
  if (file !== undefined) {
    try {
      return { text: readFileSync(file, 'utf8'), name: file };
    } catch (err) {
      throw notFound('build_file', `Containerfile "${file}": cannot be read`, { cause: err });
    }
  }
  for (const name of ['Containerfile', 'Dockerfile']) {
    const path = join(context, name);
    if (existsSync(path)) return { text: readFileSync(path, 'utf8'), name };
  }
  throw notFound('build_file', `no Containerfile or Dockerfile in "${context}" (name one with -f)`);
}

function render(ctx: CommandContext, quiet: boolean): (e: BuildEvent) => void {
  return (e) => {
    if (quiet) return;
    const err = (t: string): void => ctx.stderr.write(t);
    switch (e.type) {
      case 'step':
        err(`STEP ${e.step}/${e.total}: ${e.text}\n`);
        break;
      case 'cached':
        err(`--> Using cache ${e.key.slice(7, 19)}\n`);
        break;
      case 'output':
        err(e.data.toString('utf8'));
        break;
      case 'layer':
        err(`--> layer ${e.diffId.slice(7, 19)} (${e.size} bytes)\n`);
        break;
      case 'pull':
        err(`Pulling ${e.image}...\n`);
        break;
      case 'warning':
        err(`WARNING: ${e.message}\n`);
        break;
      case 'commit':
        err(`COMMIT ${e.names.join(' ')}\n`);
        break;
      case 'run':
        break;
    }
  };
}

export const build: Command = {
  usage,
  summary: 'Build an image from a Containerfile',
  options: {
    file: { type: 'string', short: 'f' },
    tag: { type: 'string', short: 't', multiple: true },
    'build-arg': { type: 'string', multiple: true },
    target: { type: 'string' },
    'no-cache': { type: 'boolean' },
    timestamp: { type: 'string' },
    iidfile: { type: 'string' },
    ...PLATFORM_OPTION,
  },
  async run(ctx: CommandContext, p: Parsed) {
    const [context = ''] = operands(p, 1, 1, usage);
    const timestampText = str(p, 'timestamp');
    const timestamp = timestampText === undefined ? undefined : Number(timestampText);
    if (timestamp !== undefined && (!Number.isSafeInteger(timestamp) || timestamp < 0)) throw invalidArgument('invalid_flag', `--timestamp "${timestampText}": want seconds since the epoch`);
    const platform = platformOption(p);
    const target = str(p, 'target');
    const quiet = ctx.globals.quiet;
    const store = await ctx.store();
    const { buildImage } = await import('../../../image/build/builder.ts');
    const abort = new AbortController();
    const onSignal = (): void => abort.abort();
    process.once('SIGINT', onSignal);
    process.once('SIGTERM', onSignal);
    try {
      const result = await buildImage(store, {
        containerfile: containerfile(p, context),
        context,
        tags: list(p, 'tag'),
        buildArgs: buildArgs(p, process.env),
        noCache: bool(p, 'no-cache'),
        onEvent: render(ctx, quiet),
        signal: abort.signal,
        pull: async (name) => {
          const { pullImage } = await import('../../../image/copy/pull.ts');
          const view = progressView(ctx.stderr, quiet);
          try {
            return (await pullImage(store, registryReference(ctx, name), { progress: view.sink, registry: ctx.registryOptions() })).image;
          } finally {
            view.finish();
          }
        },
        ...(target === undefined ? {} : { target }),
        ...(platform === undefined ? {} : { platform }),
        ...(timestamp === undefined ? {} : { timestamp }),
      });
      const id = result.image.id;
      if (!quiet) {
        ctx.stderr.write(`--> ${id.slice(7, 19)}\n`);
        for (const n of result.image.names) ctx.stderr.write(`Successfully tagged ${n}\n`);
      }
      const iidfile = str(p, 'iidfile');
      if (iidfile !== undefined) writeFileSync(iidfile, id);
      ctx.out(`${id.slice(7)}\n`);
      return 0;
    } catch (err) {
      if (isBerthError(err, 'build_run_failed')) {
        ctx.stderr.write(`berth: ${describeError(err)}\n`);
        const code = err.details['exitCode'];
        return typeof code === 'number' && code > 0 && code < 256 ? code : 1;
      }
      if (abort.signal.aborted) {
        ctx.stderr.write('berth: build interrupted\n');
        return 130;
      }
      throw err;
    } finally {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
    }
  },
};
