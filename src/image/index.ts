/**
 * The image layer's library face for other layers (engine, APIs, CLI):
 * the store (blobs by digest, image records with diffIDs), references,
 * the registry client, transports, copying, pulling and importing. Unpack,
 * snapshots and bundles live beside it (src/image/unpack, snapshot, bundle)
 * and load native code, so they are imported from their own folders.
 */
export { ImageStore, DEFAULT_ROOT, type ImageRecord, type LayerRecord, type BlobRef, type CommitImageInput } from './store/store.ts';
export { FileContentStore, type ContentStore, type Provider, type Ingester, type Manager, type BlobInfo, type BlobWriter } from './store/content.ts';
export { prune, type PruneResult } from './store/gc.ts';
export { digestOf, parseDigest, isDigest, shortDigest } from './store/digest.ts';
export { parseManifest, parseIndex, parseImageConfig } from './store/manifest.ts';
export {
  parseReference,
  formatReference,
  familiarName,
  repositoryName,
  withDefaultTag,
  referenceDefaultsFromEnv,
  type ImageReference,
  type ReferenceDefaults,
} from './registry/reference.ts';
export { RegistryClient, type RegistryClientOptions } from './registry/client.ts';
export { lookupCredentials, storeCredentials, removeCredentials, defaultAuthFile, type Credentials } from './registry/credentials.ts';
export { hostPlatform, parsePlatform, formatPlatform, selectManifest } from './registry/platform.ts';
export { parseTransport, formatTransport, type TransportRef } from './transport/parse.ts';
export { openSource, openDestination, type TransportContext } from './transport/open.ts';
export type { ImageSource, ImageDestination, ManifestBlob } from './transport/types.ts';
export { copyImage, resolveImage, type CopyOptions, type CopyResult } from './copy/copy.ts';
export { pullImage, type PullOptions, type PullResult } from './copy/pull.ts';
export { importImage, type ImportOptions } from './copy/import.ts';
export type { ProgressEvent, ProgressSink } from './progress/events.ts';
