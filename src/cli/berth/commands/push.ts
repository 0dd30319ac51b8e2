/** `berth push IMAGE [DESTINATION]` — as podman: DESTINATION defaults to the image's own name in its registry. */
import { writeFileSync } from 'node:fs';
import { formatReference, withDefaultTag } from '../../../image/registry/reference.ts';
import type { TransportRef } from '../../../image/transport/parse.ts';
import { defineCommand } from '../context.ts';
import { CHUNK_FLAG, registryReference, runCopy, transportOf } from './common.ts';

export default defineCommand({
  args: ['IMAGE', '[DESTINATION]'],
  flags: [CHUNK_FLAG, { name: 'digestfile', type: 'string', value: 'FILE', help: 'write the pushed manifest\'s digest to FILE' }],
  async run(ctx, input) {
    const [image = '', dest] = input.args;
    const store = await ctx.store();
    const rec = store.resolve(image);
    let to: TransportRef;
    if (dest === undefined) to = { transport: 'docker', ref: withDefaultTag(registryReference(ctx, image)) };
    else if (/^[a-z-]+:/.test(dest) && !/^[^/]*:\d+\//.test(dest)) to = transportOf(ctx, dest);
    else to = { transport: 'docker', ref: withDefaultTag(registryReference(ctx, dest)) };
    const chunkSize = input.int('upload-chunk-size');
    const result = await runCopy(ctx, { transport: 'store', name: rec.id }, to, chunkSize === undefined ? {} : { chunkSize });
    if (to.transport === 'docker') {
      store.addRepoDigest(rec.id, `${to.ref.domain}/${to.ref.path}@${result.manifestDigest}`);
      ctx.info(`Pushed ${formatReference(to.ref)}@${result.manifestDigest}`);
    }
    const digestFile = input.str('digestfile');
    if (digestFile !== undefined) writeFileSync(digestFile, result.manifestDigest);
    return 0;
  },
});
