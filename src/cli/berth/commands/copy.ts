/** `berth image copy SRC DST` — between any two transports, as skopeo copy. */
import { defineCommand } from '../context.ts';
import { CHUNK_FLAG, PLATFORM_FLAG, platformOption, runCopy, transportOf } from './common.ts';

export default defineCommand({
  args: ['SRC', 'DST'],
  description: 'SRC and DST: docker://REF, oci:DIR[:REF], oci-archive:FILE[:REF], docker-archive:FILE[:REF], berth:NAME',
  flags: [PLATFORM_FLAG, CHUNK_FLAG, { name: 'all', short: 'a', type: 'bool', help: 'every image of an index, not only this platform\'s' }],
  async run(ctx, input) {
    const [from = '', to = ''] = input.args;
    const platform = platformOption(input.str('platform'));
    const chunkSize = input.int('upload-chunk-size');
    const r = await runCopy(ctx, transportOf(ctx, from), transportOf(ctx, to), {
      ...(platform === undefined ? {} : { platform }),
      ...(chunkSize === undefined ? {} : { chunkSize }),
      ...(input.bool('all') ? { all: true } : {}),
    });
    ctx.info(`Copied ${r.manifestDigest}`);
    return 0;
  },
});
