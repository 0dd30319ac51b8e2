/** `berth image copy SRC DST` — between any two transports, as skopeo copy. */
import { bool, operands, str, type Parsed } from '../args.ts';
import type { CommandContext } from '../context.ts';
import { PLATFORM_OPTION, platformOption, runCopy, transportOf } from './common.ts';
import type { Command } from './command.ts';

const usage = 'berth image copy [--all | --platform P] [--upload-chunk-size BYTES] SRC DST   (docker://REF, oci:DIR[:REF], oci-archive:FILE[:REF], docker-archive:FILE[:REF], berth:NAME)';

export const copy: Command = {
  usage,
  summary: 'Copy an image between transports',
  options: { ...PLATFORM_OPTION, 'upload-chunk-size': { type: 'string' }, all: { type: 'boolean', short: 'a' } },
  async run(ctx: CommandContext, p: Parsed) {
    const [from = '', to = ''] = operands(p, 2, 2, usage);
    const platform = platformOption(p);
    const chunk = str(p, 'upload-chunk-size');
    const r = await runCopy(ctx, transportOf(ctx, from), transportOf(ctx, to), {
      ...(platform === undefined ? {} : { platform }),
      ...(chunk === undefined ? {} : { chunkSize: Number(chunk) }),
      ...(bool(p, 'all') ? { all: true } : {}),
    });
    ctx.info(`Copied ${r.manifestDigest}`);
    return 0;
  },
};
