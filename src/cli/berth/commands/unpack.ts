/**
 * `berth image unpack IMAGE DIR` — an OCI runtime bundle (DIR/rootfs and
 * DIR/config.json) that runc or berth-runtime can run, the job of
 * `umoci unpack`. An image not in the store (or named docker://…) is
 * pulled, and unpacked while its layers arrive.
 */
import { pullImage } from '../../../image/copy/pull.ts';
import { formatReference } from '../../../image/registry/reference.ts';
import { defineCommand } from '../context.ts';
import { progressView } from '../progress.ts';
import { PLATFORM_FLAG, platformOption, registryReference } from './common.ts';

export default defineCommand({
  args: ['IMAGE', 'DIR'],
  flags: [PLATFORM_FLAG],
  async run(ctx, input) {
    const [image = '', dir = ''] = input.args;
    const store = await ctx.store();
    const local = image.startsWith('docker://') ? undefined : store.tryResolve(image);
    if (local !== undefined) {
      const { unpackBundle } = await import('../../../image/bundle/index.ts');
      const config = await store.readConfig(local);
      const layers = local.layers.map((l) => ({ digest: l.digest, mediaType: l.mediaType, open: () => store.readBlob(l.digest) }));
      await unpackBundle(layers, config, dir, { source: { image: local.names[0] ?? local.id, manifest: local.manifestDigest } });
      ctx.info(`Unpacked ${local.names[0] ?? local.id} into ${dir}`);
      return 0;
    }
    const ref = registryReference(ctx, image);
    const platform = platformOption(input.str('platform'));
    const view = progressView(ctx.stderr, ctx.globals.quiet);
    try {
      await pullImage(store, ref, { progress: view.sink, registry: ctx.registryOptions(), unpackTo: dir, ...(platform === undefined ? {} : { platform }) });
    } finally {
      view.finish();
    }
    ctx.info(`Unpacked ${formatReference(ref)} into ${dir}`);
    return 0;
  },
});
