/**
 * Docker schema 2 → OCI manifest conversion, for destinations that only
 * hold OCI media types (OCI layouts: umoci refuses Docker types). Only the
 * media types change; config and layer bytes stay, so their digests do too.
 */
import { MediaType, type Descriptor, type Manifest } from '../../oci/image-spec.ts';
import { digestOf } from '../store/digest.ts';
import type { ManifestBlob } from '../transport/types.ts';

const LAYER_TYPES: Record<string, string> = {
  [MediaType.DockerLayerGzip]: MediaType.OciLayerGzip,
  'application/vnd.docker.image.rootfs.diff.tar': MediaType.OciLayer,
  [MediaType.DockerForeignLayerGzip]: 'application/vnd.oci.image.layer.nondistributable.v1.tar+gzip',
  'application/vnd.docker.image.rootfs.diff.tar.zstd': MediaType.OciLayerZstd,
};

function convertLayer(d: Descriptor): Descriptor {
  return { ...d, mediaType: LAYER_TYPES[d.mediaType] ?? d.mediaType };
}

export function isDockerManifest(mediaType: string): boolean {
  return mediaType === MediaType.DockerManifest;
}

export function dockerToOci(manifest: Manifest): ManifestBlob {
  const converted: Manifest = {
    schemaVersion: 2,
    mediaType: MediaType.OciManifest,
    config: { ...manifest.config, mediaType: MediaType.OciConfig },
    layers: manifest.layers.map(convertLayer),
  };
  if (manifest.annotations !== undefined) converted.annotations = manifest.annotations;
  const bytes = Buffer.from(JSON.stringify(converted));
  return { bytes, mediaType: MediaType.OciManifest, digest: digestOf(bytes) };
}
