/** `berth pull IMAGE` — from a registry into the store (podman pull). */
import { formatReference } from '../../../image/registry/reference.ts';
import { pullImage } from '../../../image/copy/pull.ts';
import { operands, str, type Parsed } from '../args.ts';
import type { CommandContext } from '../context.ts';
import { progressView } from '../progress.ts';
import { PLATFORM_OPTION, platformOption, registryReference } from './common.ts';
import type { Command } from './command.ts';

const usage = 'berth pull [--platform OS/ARCH[/VARIANT]] [--unpack DIR] IMAGE';

export const pull: Command = {
  usage,
  summary: 'Pull an image from a registry into the store',
  options: { ...PLATFORM_OPTION, unpack: { type: 'string' } },
  async run(ctx: CommandContext, p: Parsed) {
    const [input = ''] = operands(p, 1, 1, usage);
    const ref = registryReference(ctx, input);
    const platform = platformOption(p);
    const unpackTo = str(p, 'unpack');
    const view = progressView(ctx.stderr, ctx.globals.quiet);
    ctx.info(`Trying to pull ${formatReference(ref)}...`);
    try {
      const { image } = await pullImage(await ctx.store(), ref, {
        progress: view.sink,
        registry: ctx.registryOptions(),
        ...(platform === undefined ? {} : { platform }),
        ...(unpackTo === undefined ? {} : { unpackTo }),
      });
      view.finish();
      ctx.out(`${image.id.slice(7)}\n`);
    } catch (err) {
      view.finish();
      throw err;
    }
    return 0;
  },
};
