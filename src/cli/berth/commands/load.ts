/**
 * `berth load [-i FILE]` — every image of a docker-archive or oci-archive
 * into the store (src/image/copy/load.ts), from FILE or standard input.
 */
import { createWriteStream, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { invalidArgument } from '../../../errors.ts';
import { loadArchive } from '../../../image/copy/load.ts';
import { defineCommand } from '../context.ts';
import { runCopy } from './common.ts';

export default defineCommand({
  args: [],
  flags: [{ name: 'input', short: 'i', type: 'string', value: 'FILE', help: 'the archive (default: standard input)' }],
  async run(ctx, input) {
    let file = input.str('input');
    let scratch: string | undefined;
    if (file === undefined) {
      // An archive is read by offset, so stdin is saved to a file first.
      if (process.stdin.isTTY) throw invalidArgument('missing_flag', '--input: required when stdin is a terminal');
      scratch = mkdtempSync(join(tmpdir(), 'berth-load-'));
      file = join(scratch, 'image.tar');
      await pipeline(process.stdin, createWriteStream(file));
    }
    try {
      const loaded = await loadArchive(await ctx.store(), file, (from, to) => runCopy(ctx, from, to));
      for (const name of loaded) ctx.out(`Loaded image: ${name}\n`);
      return 0;
    } finally {
      if (scratch !== undefined) rmSync(scratch, { recursive: true, force: true });
    }
  },
});
