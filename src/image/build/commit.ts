/**
 * The build's result as an image in the store, recorded the way every
 * other image is (see src/image/copy/import.ts): the config and an OCI
 * manifest written as verified blobs, then the image record with its
 * names. The config's `created` is the last step's history time, so a
 * build answered wholly from the cache yields the very same image ID.
 */
import { MediaType, type ImageConfig } from '../../oci/image-spec.ts';
import type { ImageRecord, ImageStore } from '../store/store.ts';
import type { StageState } from './state.ts';

export function finalConfig(s: StageState, fallbackTime: string): ImageConfig {
  const c = structuredClone(s.config);
  const created = [...(c.history ?? [])].reverse().find((h) => h.created !== undefined)?.created ?? fallbackTime;
  // A fixed key order: the same state always serialises to the same bytes.
  const out: ImageConfig = { created, architecture: c.architecture, os: c.os, config: c.config ?? {}, rootfs: c.rootfs, history: c.history ?? [] };
  if (c.author !== undefined) out.author = c.author;
  if (c.variant !== undefined) out.variant = c.variant;
  return out;
}

export async function commitBuild(store: ImageStore, s: StageState, names: string[], keep: (digest: string) => void, fallbackTime: string): Promise<ImageRecord> {
  const config = Buffer.from(JSON.stringify(finalConfig(s, fallbackTime)));
  const c = await store.content.writeBlob(config);
  keep(c.digest);
  const manifest = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: MediaType.OciManifest,
      config: { mediaType: MediaType.OciConfig, digest: c.digest, size: c.size },
      layers: s.layers.map((l) => ({ mediaType: l.mediaType, digest: l.digest, size: l.size })),
    }),
  );
  const m = await store.content.writeBlob(manifest);
  keep(m.digest);
  return store.commitImage({ manifestDigest: m.digest, manifestMediaType: MediaType.OciManifest, names });
}
