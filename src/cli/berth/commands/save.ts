/** `berth save -o FILE [--format docker-archive|oci-archive] IMAGE` (podman save). */
import { invalidArgument } from '../../../errors.ts';
import { operands, str, type Parsed } from '../args.ts';
import type { CommandContext } from '../context.ts';
import { runCopy } from './common.ts';
import type { Command } from './command.ts';

const usage = 'berth save --output FILE [--format docker-archive|oci-archive] IMAGE';

export const save: Command = {
  usage,
  summary: 'Write an image from the store to an archive file',
  options: { output: { type: 'string', short: 'o' }, format: { type: 'string' } },
  async run(ctx: CommandContext, p: Parsed) {
    const [image = ''] = operands(p, 1, 1, usage);
    const file = str(p, 'output');
    if (file === undefined) throw invalidArgument('missing_flag', `--output: required\nusage: ${usage}`);
    const format = str(p, 'format') ?? 'docker-archive';
    if (format !== 'docker-archive' && format !== 'oci-archive') {
      throw invalidArgument('invalid_flag', `--format: "${format}" is not docker-archive or oci-archive`);
    }
    const store = await ctx.store();
    const img = store.resolve(image);
    // The archive names the image as it was asked for, or by its first name.
    const name = img.names.includes(store.canonicalTagged(image)) ? store.canonicalTagged(image) : img.names[0];
    await runCopy(ctx, { transport: 'store', name: img.id }, { transport: format, path: file, ...(name === undefined ? {} : { ref: name }) });
    return 0;
  },
};
