/** `berth pull IMAGE` — from a registry into the store (podman pull). */
import { pullImage } from '../../../image/copy/pull.ts';
import { formatReference } from '../../../image/registry/reference.ts';
import { defineCommand } from '../context.ts';
import { progressView } from '../progress.ts';
import { PLATFORM_FLAG, platformOption, registryReference } from './common.ts';

export default defineCommand({
  args: ['IMAGE'],
  flags: [PLATFORM_FLAG, { name: 'unpack', type: 'string', value: 'DIR', help: 'also unpack it into a runtime bundle at DIR, while the layers arrive' }],
  async run(ctx, input) {
    const ref = registryReference(ctx, input.args[0] ?? '');
    const platform = platformOption(input.str('platform'));
    const unpackTo = input.str('unpack');
    const view = progressView(ctx.stderr, ctx.globals.quiet);
    ctx.info(`Trying to pull ${formatReference(ref)}...`);
    const pulled = await pullImage(await ctx.store(), ref, {
      progress: view.sink,
      registry: ctx.registryOptions(),
      ...(platform === undefined ? {} : { platform }),
      ...(unpackTo === undefined ? {} : { unpackTo }),
    }).finally(() => view.finish());
    ctx.out(`${pulled.image.id.slice(7)}\n`);
    return 0;
  },
});
