/** `berth push IMAGE [DESTINATION]` — as podman: DESTINATION defaults to the image's own name in its registry. */
import { formatReference, withDefaultTag } from '../../../image/registry/reference.ts';
import { operands, str, type Parsed } from '../args.ts';
import type { CommandContext } from '../context.ts';
import { registryReference, runCopy, transportOf } from './common.ts';
import type { Command } from './command.ts';
import type { TransportRef } from '../../../image/transport/parse.ts';

const usage = 'berth push [--upload-chunk-size BYTES] IMAGE [DESTINATION]';

export const push: Command = {
  usage,
  summary: 'Push an image from the store to a registry (or any transport)',
  options: { 'upload-chunk-size': { type: 'string' }, 'digestfile': { type: 'string' } },
  async run(ctx: CommandContext, p: Parsed) {
    const [image = '', dest] = operands(p, 1, 2, usage);
    const store = await ctx.store();
    const rec = store.resolve(image);
    let to: TransportRef;
    if (dest === undefined) to = { transport: 'docker', ref: withDefaultTag(registryReference(ctx, image)) };
    else if (/^[a-z-]+:/.test(dest) && !/^[^/]*:\d+\//.test(dest)) to = transportOf(ctx, dest);
    else to = { transport: 'docker', ref: withDefaultTag(registryReference(ctx, dest)) };
    const chunk = str(p, 'upload-chunk-size');
    const result = await runCopy(ctx, { transport: 'store', name: rec.id }, to, chunk === undefined ? {} : { chunkSize: Number(chunk) });
    if (to.transport === 'docker') {
      store.addRepoDigest(rec.id, `${to.ref.domain}/${to.ref.path}@${result.manifestDigest}`);
      ctx.info(`Pushed ${formatReference(to.ref)}@${result.manifestDigest}`);
    }
    const digestFile = str(p, 'digestfile');
    if (digestFile !== undefined) (await import('node:fs')).writeFileSync(digestFile, result.manifestDigest);
    return 0;
  },
};
