/**
 * `berth build` — an image from a Containerfile (the job of `docker build`
 * / `buildah bud`). Progress and RUN output go to stderr, the image ID to
 * stdout (only it with --quiet). A failed RUN exits with the RUN's own
 * status.
 */
import { writeFileSync } from 'node:fs';
import { describeError, invalidArgument, isBerthError, unavailable } from '../../../errors.ts';
import type { BuildOptions, BuildResult } from '../../../image/build/builder.ts';
import type { BuildEvent } from '../../../image/build/events.ts';
import { buildArgsFrom, findContainerfile } from '../../../image/build/request.ts';
import { defineCommand, type CommandContext } from '../context.ts';
import { progressView } from '../progress.ts';
import { PLATFORM_FLAG, platformOption, registryReference } from './common.ts';

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

export default defineCommand({
  args: ['CONTEXT'],
  flags: [
    { name: 'file', short: 'f', type: 'string', value: 'FILE', help: 'the Containerfile ("-": standard input; default CONTEXT/Containerfile or Dockerfile)' },
    { name: 'tag', short: 't', type: 'list', value: 'NAME', help: 'name the image' },
    { name: 'build-arg', type: 'list', value: 'KEY[=VALUE]', help: 'set a build ARG (KEY alone: from the environment)' },
    { name: 'target', type: 'string', value: 'STAGE', help: 'build up to this stage' },
    { name: 'no-cache', type: 'bool', help: 'run every step again' },
    { name: 'timestamp', type: 'string', value: 'SECONDS', help: 'the creation time of the image and its files, for reproducible images' },
    { name: 'iidfile', type: 'string', value: 'FILE', help: 'write the image ID to FILE' },
    PLATFORM_FLAG,
  ],
  async run(ctx, input) {
    const [context = ''] = input.args;
    const timestampText = input.str('timestamp');
    const timestamp = timestampText === undefined ? undefined : Number(timestampText);
    if (timestamp !== undefined && (!Number.isSafeInteger(timestamp) || timestamp < 0)) throw invalidArgument('invalid_flag', `--timestamp "${timestampText}": want seconds since the epoch`);
    const platform = platformOption(input.str('platform'));
    const target = input.str('target');
    const quiet = ctx.globals.quiet;
    try {
      const result = await runBuild(ctx, {
        containerfile: findContainerfile(context, input.str('file')),
        context,
        tags: input.list('tag'),
        buildArgs: buildArgsFrom(input.list('build-arg'), process.env),
        noCache: input.bool('no-cache'),
        ...(target === undefined ? {} : { target }),
        ...(platform === undefined ? {} : { platform }),
        ...(timestamp === undefined ? {} : { timestamp }),
      });
      const id = result.image.id;
      if (!quiet) {
        ctx.stderr.write(`--> ${id.slice(7, 19)}\n`);
        for (const n of result.image.names) ctx.stderr.write(`Successfully tagged ${n}\n`);
      }
      const iidfile = input.str('iidfile');
      if (iidfile !== undefined) writeFileSync(iidfile, id);
      ctx.out(`${id.slice(7)}\n`);
      return 0;
    } catch (err) {
      if (isBerthError(err, 'build_run_failed')) {
        ctx.stderr.write(`berth: ${describeError(err)}\n`);
        const code = err.details['exitCode'];
        return typeof code === 'number' && code > 0 && code < 256 ? code : 1;
      }
      if (isBerthError(err, 'build_interrupted')) {
        ctx.stderr.write('berth: build interrupted\n');
        return 130;
      }
      throw err;
    }
  },
});

/**
 * A build with berth's builder as `berth build` runs it: progress on
 * stderr (none with --quiet), FROM images missing from the store pulled,
 * SIGINT/SIGTERM abort it (build_interrupted). `berth fn build` goes
 * through here too.
 */
export async function runBuild(ctx: CommandContext, o: Omit<BuildOptions, 'onEvent' | 'signal' | 'pull'>): Promise<BuildResult> {
  const quiet = ctx.globals.quiet;
  const store = await ctx.store();
  const { buildImage } = await import('../../../image/build/builder.ts');
  const abort = new AbortController();
  const onSignal = (): void => abort.abort();
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    return await buildImage(store, {
      ...o,
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
    });
  } catch (err) {
    if (abort.signal.aborted) throw unavailable('build_interrupted', 'build interrupted', { cause: err });
    throw err;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}
