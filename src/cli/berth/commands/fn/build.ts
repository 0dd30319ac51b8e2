/**
 * `berth fn build`, `push` and `up`, faas-cli's, with berth's own builder
 * and store: build assembles each function's build context from its
 * template (src/faas/stack/templates.ts) and builds it through the path
 * `berth build` takes (commands/build.ts runBuild), tagged with the
 * function's image; push copies that image from the store to its
 * registry as `berth push` does; up is build, push (unless --skip-push)
 * and deploy (unless --skip-deploy). Functions with `skip_build: true` are
 * not built. The gateway resolves an image without a registry in the
 * local store, so `up --skip-push` needs no registry at all.
 */
import { invalidArgument } from '../../../../errors.ts';
import { buildArgsFrom, findContainerfile } from '../../../../image/build/request.ts';
import { formatReference, withDefaultTag } from '../../../../image/registry/reference.ts';
import type { Stack, StackFunction } from '../../../../faas/stack/parse.ts';
import { prepareBuildContext } from '../../../../faas/stack/templates.ts';
import type { Input } from '../../../framework/flags.ts';
import { defineCommand, type CommandContext } from '../../context.ts';
import { runBuild } from '../build.ts';
import { registryReference, runCopy } from '../common.ts';
import { DEPLOY_FLAGS, deployStack } from './deploy.ts';
import { clientFor, loadStack, STACK_FLAGS } from './options.ts';

const BUILD_FLAGS = [
  { name: 'no-cache', type: 'bool', help: 'Do not use the build cache' },
  { name: 'build-arg', short: 'b', type: 'list', value: 'KEY=VALUE', help: 'Add a build-arg for the build' },
  { name: 'shrinkwrap', type: 'bool', help: 'Only prepare the build contexts (build/NAME), do not build' },
  { name: 'handler', type: 'string', value: 'DIR', help: 'Directory with the handler (without a stack file)' },
  { name: 'lang', type: 'string', value: 'LANG', help: 'Language template (without a stack file)' },
] as const;

/** The stack's functions, or one from --image, --name, --handler and --lang. */
function functionsOf(input: Input): { stack: Stack | undefined; fns: StackFunction[]; dir: string } {
  const image = input.str('image');
  if (image !== undefined) {
    const name = input.str('name');
    const handler = input.str('handler');
    if (name === undefined || handler === undefined) throw invalidArgument('fn_flag_invalid', 'without a stack file, give --image, --name, --handler and --lang');
    const lang = input.str('lang');
    const fn: StackFunction = {
      name, image, handler, handlerPath: handler, environment: {}, secrets: [], labels: {}, annotations: {}, readOnlyRootFilesystem: false, skipBuild: false, buildArgs: {},
      ...(lang === undefined ? {} : { lang }),
    };
    return { stack: undefined, fns: [fn], dir: process.cwd() };
  }
  const stack = loadStack(input);
  if (stack === undefined) throw invalidArgument('fn_flag_invalid', 'no stack file (give -f FILE or have stack.yml here)');
  return { stack, fns: stack.functions, dir: stack.dir };
}

interface BuildChoices {
  noCache: boolean;
  buildArgs: readonly string[];
  shrinkwrap: boolean;
}

async function buildAll(ctx: CommandContext, o: BuildChoices, stack: Stack | undefined, fns: readonly StackFunction[], dir: string): Promise<void> {
  for (const fn of fns) {
    if (fn.skipBuild) {
      ctx.out(`Skipping build of: ${fn.name}.\n`);
      continue;
    }
    const bc = prepareBuildContext(fn, { stackDir: dir, sources: stack?.templates ?? [] });
    if (o.shrinkwrap) {
      ctx.out(`${fn.name} shrink-wrapped to ${bc.context}\n`);
      continue;
    }
    ctx.out(`Building: ${fn.name}.\n`);
    const buildArgs = buildArgsFrom([...Object.entries(fn.buildArgs).map(([k, v]) => `${k}=${v}`), ...o.buildArgs], process.env);
    const result = await runBuild(ctx, {
      containerfile: findContainerfile(bc.context, bc.containerfile),
      context: bc.context,
      tags: [fn.image],
      buildArgs,
      noCache: o.noCache,
    });
    ctx.out(`Image: ${fn.image} built (${result.image.id.slice(7, 19)}).\n`);
  }
}

async function pushAll(ctx: CommandContext, fns: readonly StackFunction[]): Promise<void> {
  const store = await ctx.store();
  for (const fn of fns) {
    const rec = store.resolve(fn.image);
    const ref = withDefaultTag(registryReference(ctx, fn.image));
    ctx.out(`Pushing: ${fn.name} [${formatReference(ref)}].\n`);
    const result = await runCopy(ctx, { transport: 'store', name: rec.id }, { transport: 'docker', ref });
    store.addRepoDigest(rec.id, `${ref.domain}/${ref.path}@${result.manifestDigest}`);
  }
}

const IMAGE_FLAGS = [
  { name: 'image', type: 'string', value: 'IMAGE', help: 'Image to build (without a stack file)' },
  { name: 'name', type: 'string', value: 'NAME', help: 'Name of the function (without a stack file)' },
] as const;

export const build = defineCommand({
  args: [],
  flags: [...BUILD_FLAGS, ...IMAGE_FLAGS, ...STACK_FLAGS],
  async run(ctx, input) {
    const { stack, fns, dir } = functionsOf(input);
    await buildAll(ctx, { noCache: input.bool('no-cache'), buildArgs: input.list('build-arg'), shrinkwrap: input.bool('shrinkwrap') }, stack, fns, dir);
    return 0;
  },
});

export const push = defineCommand({
  args: [],
  flags: [...STACK_FLAGS],
  async run(ctx, input) {
    const stack = loadStack(input);
    if (stack === undefined) throw invalidArgument('fn_flag_invalid', 'no stack file (give -f FILE or have stack.yml here)');
    await pushAll(ctx, stack.functions);
    return 0;
  },
});

export const up = defineCommand({
  args: [],
  flags: [
    ...BUILD_FLAGS.filter((f) => f.name === 'no-cache' || f.name === 'build-arg'),
    { name: 'skip-push', type: 'bool', help: 'Do not push the images (the gateway finds them in berth\'s store)' },
    { name: 'skip-deploy', type: 'bool', help: 'Do not deploy' },
    ...DEPLOY_FLAGS,
  ],
  description: 'Builds, pushes and deploys the functions of the stack file (faas-cli up).',
  async run(ctx, input) {
    const stack = loadStack(input);
    if (stack === undefined) throw invalidArgument('fn_flag_invalid', 'no stack file (give -f FILE or have stack.yml here)');
    await buildAll(ctx, { noCache: input.bool('no-cache'), buildArgs: input.list('build-arg'), shrinkwrap: false }, stack, stack.functions, stack.dir);
    if (!input.bool('skip-push')) await pushAll(ctx, stack.functions);
    if (!input.bool('skip-deploy')) await deployStack(ctx, clientFor(ctx, input, stack), stack.functions, input);
    return 0;
  },
});
