/**
 * `berth image inspect IMAGE...` — the store's view of images as JSON (as
 * podman image inspect); with --remote, a registry image without pulling it
 * (as skopeo inspect), with --raw its manifest, with --config its config.
 */
import { hostPlatform } from '../../../image/registry/platform.ts';
import { DEFAULT_TAG, repositoryName } from '../../../image/registry/reference.ts';
import { registryClient } from '../../../image/transport/docker.ts';
import { readConfigBlob, resolveImage } from '../../../image/copy/copy.ts';
import { parseImageConfig, parseJson } from '../../../image/store/manifest.ts';
import { RegistrySource } from '../../../image/transport/docker.ts';
import { bool, operands, type Parsed } from '../args.ts';
import type { CommandContext } from '../context.ts';
import { imageJson } from './images.ts';
import { PLATFORM_OPTION, platformOption, registryReference } from './common.ts';
import type { Command } from './command.ts';

const usage = 'berth image inspect [--remote [--raw|--config] [--platform P]] IMAGE...';

async function remote(ctx: CommandContext, p: Parsed, input: string): Promise<unknown> {
  const ref = registryReference(ctx, input);
  const client = await registryClient(ref.domain, ctx.registryOptions());
  const src = new RegistrySource(ref, client);
  if (bool(p, 'raw')) return (await src.topManifest()).bytes.toString('utf8');
  const resolved = await resolveImage(src, platformOption(p) ?? hostPlatform());
  const configBytes = await readConfigBlob(src, resolved.parsed.config);
  if (bool(p, 'config')) return parseJson(configBytes, `${src.name}: config`);
  const config = parseImageConfig(configBytes, `${src.name}: config`);
  const tags = await client.listTags(ref.path).catch(() => [] as string[]);
  return {
    Name: repositoryName(ref),
    Tag: ref.tag ?? (ref.digest === undefined ? DEFAULT_TAG : undefined),
    Digest: resolved.index?.digest ?? resolved.manifest.digest,
    ManifestDigest: resolved.manifest.digest,
    RepoTags: tags,
    Created: config.created ?? null,
    Labels: config.config?.Labels ?? null,
    Architecture: config.architecture,
    Os: config.os,
    ...(config.variant === undefined ? {} : { Variant: config.variant }),
    Layers: resolved.parsed.layers.map((l) => l.digest),
    LayersData: resolved.parsed.layers.map((l) => ({ MIMEType: l.mediaType, Digest: l.digest, Size: l.size, Annotations: l.annotations ?? null })),
    Env: config.config?.Env ?? [],
  };
}

export const inspect: Command = {
  usage,
  summary: 'Show what an image is made of (local, or --remote without pulling)',
  options: { remote: { type: 'boolean' }, raw: { type: 'boolean' }, config: { type: 'boolean' }, ...PLATFORM_OPTION },
  async run(ctx: CommandContext, p: Parsed) {
    const inputs = operands(p, 1, Infinity, usage);
    if (bool(p, 'remote')) {
      const results = [];
      for (const i of inputs) results.push(await remote(ctx, p, i));
      if (results.length === 1 && typeof results[0] === 'string') ctx.out(results[0]);
      else ctx.out(`${JSON.stringify(results.length === 1 ? results[0] : results, null, 2)}\n`);
      return 0;
    }
    const store = await ctx.store();
    const out = [];
    for (const i of inputs) {
      const img = store.resolve(i);
      const config = await store.readConfig(img);
      if (bool(p, 'config')) {
        out.push(config);
        continue;
      }
      out.push({
        ...imageJson(img),
        Config: config.config ?? {},
        Author: config.author ?? '',
        RootFS: { Type: 'layers', Layers: config.rootfs.diff_ids },
        Layers: img.layers.map((l) => ({ Digest: l.digest, MediaType: l.mediaType, Size: l.size, DiffID: l.diffId })),
        History: config.history ?? [],
        ManifestType: img.manifestMediaType,
      });
    }
    ctx.out(`${JSON.stringify(out, null, 2)}\n`);
    return 0;
  },
};
