/**
 * `berth save [-o FILE] [--format docker-archive|oci-archive] IMAGE` (podman
 * save). Without -o the archive goes to stdout (never to a terminal): it is
 * written to a temporary file first, since an archive is finished only
 * when its image is complete.
 */
import { createReadStream, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { failedPrecondition, invalidArgument } from '../../../errors.ts';
import { defineCommand } from '../context.ts';
import { runCopy } from './common.ts';

export default defineCommand({
  args: ['IMAGE'],
  flags: [
    { name: 'output', short: 'o', type: 'string', value: 'FILE', help: 'the archive (default: standard output, never a terminal)' },
    { name: 'format', type: 'string', value: 'docker-archive|oci-archive', help: 'the archive\'s format (default docker-archive)' },
  ],
  async run(ctx, input) {
    const [image = ''] = input.args;
    const format = input.str('format') ?? 'docker-archive';
    if (format !== 'docker-archive' && format !== 'oci-archive') {
      throw invalidArgument('invalid_flag', `--format: "${format}" is not docker-archive or oci-archive`);
    }
    let file = input.str('output');
    let scratch: string | undefined;
    if (file === undefined) {
      if (ctx.stdout.isTTY || ctx.stdout.stream === undefined) {
        throw failedPrecondition('refusing_terminal', 'refusing to write an archive to a terminal: use --output FILE or redirect stdout');
      }
      scratch = mkdtempSync(join(tmpdir(), 'berth-save-'));
      file = join(scratch, 'image.tar');
    }
    try {
      const store = await ctx.store();
      const img = store.resolve(image);
      // The archive names the image as it was asked for, or by its first name.
      const name = img.names.includes(store.canonicalTagged(image)) ? store.canonicalTagged(image) : img.names[0];
      await runCopy(ctx, { transport: 'store', name: img.id }, { transport: format, path: file, ...(name === undefined ? {} : { ref: name }) });
      if (scratch !== undefined && ctx.stdout.stream !== undefined) {
        await pipeline(createReadStream(file), ctx.stdout.stream, { end: false });
      }
    } finally {
      if (scratch !== undefined) rmSync(scratch, { recursive: true, force: true });
    }
    return 0;
  },
});
