/**
 * What an image is made of, as `podman image inspect` shows a stored one
 * and `skopeo inspect` one in a registry (read without pulling it: the
 * manifest, the config, the repository's tags).
 */
import type { Platform } from '../oci/image-spec.ts';
import { readConfigBlob, resolveImage } from './copy/copy.ts';
import { imageSummary } from './list.ts';
import { hostPlatform } from './registry/platform.ts';
import { DEFAULT_TAG, repositoryName, type ImageReference } from './registry/reference.ts';
import { parseImageConfig, parseJson } from './store/manifest.ts';
import type { ImageRecord, ImageStore } from './store/store.ts';
import { registryClient, RegistrySource, type RegistryOptions } from './transport/docker.ts';

/** A stored image: its summary, config, layers and history. */
export async function inspectImage(store: ImageStore, img: ImageRecord): Promise<Record<string, unknown>> {
  const config = await store.readConfig(img);
  return {
    ...imageSummary(img),
    Config: config.config ?? {},
    Author: config.author ?? '',
    RootFS: { Type: 'layers', Layers: config.rootfs.diff_ids },
    Layers: img.layers.map((l) => ({ Digest: l.digest, MediaType: l.mediaType, Size: l.size, DiffID: l.diffId })),
    History: config.history ?? [],
    ManifestType: img.manifestMediaType,
  };
}

export interface RemoteInspectOptions {
  registry: RegistryOptions;
  /** The top manifest's bytes as the registry serves them (a string). */
  raw?: boolean;
  /** The image config as JSON. */
  config?: boolean;
  /** Which image of an index (default: this host's). */
  platform?: Platform | undefined;
}

/** A registry image without pulling it (skopeo inspect's fields). */
export async function inspectRemote(ref: ImageReference, options: RemoteInspectOptions): Promise<unknown> {
  const client = await registryClient(ref.domain, options.registry);
  const src = new RegistrySource(ref, client);
  if (options.raw === true) return (await src.topManifest()).bytes.toString('utf8');
  const resolved = await resolveImage(src, options.platform ?? hostPlatform());
  const configBytes = await readConfigBlob(src, resolved.parsed.config);
  if (options.config === true) return parseJson(configBytes, `${src.name}: config`);
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
