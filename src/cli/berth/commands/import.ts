/**
 * `berth import SOURCE [NAME]` — a root filesystem (directory, or tarball
 * plain/gzip/zstd) as a one-layer image; --change sets config fields with
 * Dockerfile words, as `docker import --change` does.
 */
import { applyChange } from '../../../image/copy/change.ts';
import { importImage } from '../../../image/copy/import.ts';
import type { ImageConfigDetails } from '../../../oci/image-spec.ts';
import { defineCommand } from '../context.ts';

export default defineCommand({
  args: ['SOURCE', '[NAME]'],
  flags: [
    { name: 'change', short: 'c', type: 'list', value: 'INSTRUCTION', help: 'set a config field with a Dockerfile instruction (CMD ["sh"], ENV A=1, ...)' },
    { name: 'message', short: 'm', type: 'string', value: 'TEXT', help: 'the history comment' },
    { name: 'arch', type: 'string', value: 'ARCH', help: 'the image\'s architecture (default: this host\'s)' },
    { name: 'os', type: 'string', value: 'OS', help: 'the image\'s operating system (default linux)' },
    { name: 'variant', type: 'string', value: 'VARIANT', help: 'the architecture\'s variant' },
  ],
  async run(ctx, input) {
    const [source = '', name] = input.args;
    const config: ImageConfigDetails = {};
    for (const c of input.list('change')) applyChange(config, c);
    const arch = input.str('arch');
    const os = input.str('os');
    const variant = input.str('variant');
    const message = input.str('message');
    const img = await importImage(await ctx.store(), source, {
      names: name === undefined ? [] : [name],
      config,
      ...(arch === undefined ? {} : { architecture: arch }),
      ...(os === undefined ? {} : { os }),
      ...(variant === undefined ? {} : { variant }),
      ...(message === undefined ? {} : { comment: message }),
    });
    ctx.out(`${img.id.slice(7)}\n`);
    return 0;
  },
});
