/**
 * `berth image inspect IMAGE...` — the store's view of images as JSON (as
 * podman image inspect); with --remote, a registry image without pulling it
 * (as skopeo inspect), with --raw its manifest, with --config its config.
 */
import { inspectImage, inspectRemote } from '../../../image/inspect.ts';
import { defineCommand } from '../context.ts';
import { PLATFORM_FLAG, platformOption, registryReference } from './common.ts';

export default defineCommand({
  args: ['IMAGE...'],
  flags: [
    { name: 'remote', type: 'bool', help: 'inspect the image in its registry, without pulling it' },
    { name: 'raw', type: 'bool', help: 'with --remote: the manifest as the registry serves it' },
    { name: 'config', type: 'bool', help: 'the image config only' },
    PLATFORM_FLAG,
  ],
  async run(ctx, input) {
    if (input.bool('remote')) {
      const options = { registry: ctx.registryOptions(), raw: input.bool('raw'), config: input.bool('config'), platform: platformOption(input.str('platform')) };
      const results = [];
      for (const i of input.args) results.push(await inspectRemote(registryReference(ctx, i), options));
      if (results.length === 1 && typeof results[0] === 'string') ctx.out(results[0]);
      else ctx.out(`${JSON.stringify(results.length === 1 ? results[0] : results, null, 2)}\n`);
      return 0;
    }
    const store = await ctx.store();
    const out = [];
    for (const i of input.args) {
      const img = store.resolve(i);
      out.push(input.bool('config') ? await store.readConfig(img) : await inspectImage(store, img));
    }
    ctx.out(`${JSON.stringify(out, null, 2)}\n`);
    return 0;
  },
});
