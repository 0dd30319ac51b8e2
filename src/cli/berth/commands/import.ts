/**
 * `berth import SOURCE [NAME]` — a root filesystem (directory, or tarball
 * plain/gzip/zstd) as a one-layer image; --change sets config fields with
 * Dockerfile words, as `docker import --change` does.
 */
import { describeError, invalidArgument } from '../../../errors.ts';
import { importImage } from '../../../image/copy/import.ts';
import type { ImageConfigDetails } from '../../../oci/image-spec.ts';
import { list, operands, str, type Parsed } from '../args.ts';
import type { CommandContext } from '../context.ts';
import type { Command } from './command.ts';

const usage = 'berth import [--change "CMD [\\"/bin/sh\\"]"]... [--message TEXT] [--arch ARCH] SOURCE [NAME]';

function words(value: string): string[] {
  const v = value.trim();
  if (v.startsWith('[')) {
    const parsed: unknown = JSON.parse(v);
    if (!Array.isArray(parsed) || !parsed.every((x) => typeof x === 'string')) throw invalidArgument('invalid_change', 'want a JSON array of strings');
    return parsed;
  }
  return ['/bin/sh', '-c', v];
}

function keyValues(value: string): [string, string][] {
  return value.split(/\s+/).filter(Boolean).map((kv) => {
    const i = kv.indexOf('=');
    if (i <= 0) throw invalidArgument('invalid_change', `"${kv}" is not KEY=VALUE`);
    return [kv.slice(0, i), kv.slice(i + 1).replace(/^"(.*)"$/, '$1')];
  });
}

export function applyChange(config: ImageConfigDetails, change: string): void {
  const m = /^\s*([A-Za-z]+)\s+(.*)$/s.exec(change);
  if (m === null) throw invalidArgument('invalid_change', `--change "${change}": want INSTRUCTION VALUE`);
  const [, word = '', value = ''] = m;
  try {
    switch (word.toUpperCase()) {
      case 'CMD':
        config.Cmd = words(value);
        break;
      case 'ENTRYPOINT':
        config.Entrypoint = words(value);
        break;
      case 'ENV':
        config.Env = [...(config.Env ?? []), ...keyValues(value).map(([k, v]) => `${k}=${v}`)];
        break;
      case 'LABEL':
        config.Labels = { ...config.Labels, ...Object.fromEntries(keyValues(value)) };
        break;
      case 'WORKDIR':
        config.WorkingDir = value.trim();
        break;
      case 'USER':
        config.User = value.trim();
        break;
      case 'EXPOSE':
        config.ExposedPorts = { ...config.ExposedPorts, ...Object.fromEntries(value.split(/\s+/).filter(Boolean).map((p) => [p.includes('/') ? p : `${p}/tcp`, {}])) };
        break;
      case 'STOPSIGNAL':
        config.StopSignal = value.trim();
        break;
      default:
        throw invalidArgument('invalid_change', `instruction "${word}" is not supported (CMD, ENTRYPOINT, ENV, LABEL, WORKDIR, USER, EXPOSE, STOPSIGNAL)`);
    }
  } catch (err) {
    throw invalidArgument('invalid_change', `--change "${change}": ${describeError(err)}`, { cause: err });
  }
}

export const importCmd: Command = {
  usage,
  summary: 'Make an image from a root filesystem directory or tarball',
  options: { change: { type: 'string', short: 'c', multiple: true }, message: { type: 'string', short: 'm' }, arch: { type: 'string' }, os: { type: 'string' }, variant: { type: 'string' } },
  async run(ctx: CommandContext, p: Parsed) {
    const [source = '', name] = operands(p, 1, 2, usage);
    const config: ImageConfigDetails = {};
    for (const c of list(p, 'change')) applyChange(config, c);
    const arch = str(p, 'arch');
    const os = str(p, 'os');
    const variant = str(p, 'variant');
    const message = str(p, 'message');
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
};
