/**
 * Small test images pushed straight to a registry with the registry client:
 * a multi-platform OCI index of two one-layer images (amd64, arm64/v8).
 */
import { Readable } from 'node:stream';
import { MediaType, type Descriptor } from '../../src/oci/image-spec.ts';
import type { RegistryClient } from '../../src/image/registry/client.ts';
import { digestOf } from '../../src/image/store/digest.ts';

export interface PushedIndex {
  digest: string;
  bytes: Buffer;
  entries: Descriptor[];
}

export async function pushMultiArch(client: RegistryClient, repo: string, tag: string): Promise<PushedIndex> {
  const entries: Descriptor[] = [];
  for (const [arch, variant] of [['amd64', undefined], ['arm64', 'v8']] as const) {
    const layer = Buffer.from(`layer for ${arch}`);
    const config = Buffer.from(JSON.stringify({ architecture: arch, os: 'linux', ...(variant ? { variant } : {}), rootfs: { type: 'layers', diff_ids: [digestOf(layer)] } }));
    for (const b of [layer, config]) await client.uploadBlob(repo, { digest: digestOf(b), size: b.length }, () => Promise.resolve(Readable.from([b])));
    const manifest = Buffer.from(
      JSON.stringify({
        schemaVersion: 2,
        mediaType: MediaType.OciManifest,
        config: { mediaType: MediaType.OciConfig, digest: digestOf(config), size: config.length },
        layers: [{ mediaType: MediaType.OciLayer, digest: digestOf(layer), size: layer.length }],
      }),
    );
    await client.putManifest(repo, digestOf(manifest), manifest, MediaType.OciManifest);
    entries.push({ mediaType: MediaType.OciManifest, digest: digestOf(manifest), size: manifest.length, platform: { os: 'linux', architecture: arch, ...(variant ? { variant } : {}) } });
  }
  const bytes = Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: MediaType.OciIndex, manifests: entries }));
  await client.putManifest(repo, tag, bytes, MediaType.OciIndex);
  return { digest: digestOf(bytes), bytes, entries };
}
