/**
 * Copying an image between any two transports (what `skopeo copy`,
 * `berth pull` and `berth push` do): resolve the manifest (choosing the
 * platform's entry from an index), copy the config, then the layers in
 * parallel, skipping blobs the destination has and mounting those its
 * registry holds in the source repository, and commit the manifest last,
 * so a destination never names a blob it lacks.
 */
import { pipeline, Readable } from 'node:stream';
import { unsupported } from '../../errors.ts';
import { MediaType, type Descriptor, type ImageConfig, type Manifest, type Platform } from '../../oci/image-spec.ts';
import { digestOf } from '../store/digest.ts';
import { hostPlatform, selectManifest } from '../registry/platform.ts';
import { checkSupportedType, isIndexType, parseImageConfig, parseIndex, parseManifest } from '../store/manifest.ts';
import type { BlobKind, ProgressSink } from '../progress/events.ts';
import type { ImageDestination, ImageSource, ManifestBlob } from '../transport/types.ts';
import { checkDeclaredSize, cutOffAfter, MAX_CONFIG_BYTES, MAX_MANIFEST_BYTES, readSmallBlob } from '../limits.ts';
import { dockerToOci, isDockerManifest } from './convert.ts';

export interface CopyOptions {
  /** Which entry of an index to copy (default: the host's platform). */
  platform?: Platform;
  progress?: ProgressSink;
  /** Blobs transferred at once (default 4). */
  concurrency?: number;
  /** Told once the manifest and config are known, before any layer moves (pull+unpack starts here). */
  onResolved?: (image: ResolvedImage, config: ImageConfig) => void;
  /** Copy an index with every image it lists (skopeo copy --all), not one platform's. */
  all?: boolean;
}

export interface ResolvedImage {
  manifest: ManifestBlob;
  parsed: Manifest;
  index?: ManifestBlob;
}

export interface CopyResult {
  /** The manifest digest at the destination (differs from the source's after a conversion). */
  manifestDigest: string;
  sourceManifestDigest: string;
  indexDigest?: string;
  configDigest: string;
  imageId?: string;
  layers: Descriptor[];
  config: ImageConfig;
}

/** The image manifest a source names, after platform selection. */
export async function resolveImage(src: ImageSource, platform: Platform = hostPlatform()): Promise<ResolvedImage> {
  const top = await src.topManifest();
  checkSupportedType(top.mediaType, src.name);
  if (!isIndexType(top.mediaType)) return { manifest: top, parsed: parseManifest(top.bytes, `${src.name} (${top.digest})`) };
  const index = parseIndex(top.bytes, `${src.name} (${top.digest})`);
  const chosen = selectManifest(index.manifests, platform, `${src.name} (${top.digest})`);
  const manifest = await childManifest(src, chosen);
  checkSupportedType(manifest.mediaType, `${src.name}@${chosen.digest}`);
  if (isIndexType(manifest.mediaType)) {
    throw unsupported('unsupported_manifest', `${src.name}@${chosen.digest}: an index inside an index is not supported`);
  }
  return { manifest, parsed: parseManifest(manifest.bytes, `${src.name}@${chosen.digest}`), index: top };
}

/** An image's config, read whole only when the manifest declares at most 4 MiB, and checked against its digest. */
export async function readConfigBlob(src: ImageSource, desc: Descriptor): Promise<Buffer> {
  const what = `${src.name}: config ${desc.digest}`;
  checkDeclaredSize(what, desc.size, MAX_CONFIG_BYTES);
  return readSmallBlob((await src.blob(desc)).stream, desc, MAX_CONFIG_BYTES, what);
}

/** A manifest an index lists, refused on its declared size before it is fetched. */
function childManifest(src: ImageSource, desc: Descriptor): Promise<ManifestBlob> {
  checkDeclaredSize(`${src.name}@${desc.digest}`, desc.size, MAX_MANIFEST_BYTES);
  return src.manifestByDigest(desc.digest);
}

/** Runs `fn` over items with at most `limit` at once; the first failure fails the whole. */
export async function forEachLimited<T>(items: T[], limit: number, fn: (item: T, index: number) => Promise<void>): Promise<void> {
  let next = 0;
  let failed = false;
  const worker = async (): Promise<void> => {
    while (!failed && next < items.length) {
      const i = next++;
      const item = items[i] as T;
      try {
        await fn(item, i);
      } catch (err) {
        failed = true;
        throw err;
      }
    }
  };
  const results = await Promise.allSettled(Array.from({ length: Math.min(limit, items.length) }, worker));
  const rejected = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (rejected !== undefined) throw rejected.reason;
}

export async function copyBlob(
  src: ImageSource,
  dst: ImageDestination,
  desc: Descriptor,
  kind: BlobKind,
  progress: ProgressSink | undefined,
  extra: { diffId?: string; bytes?: Buffer } = {},
): Promise<void> {
  if (await dst.hasBlob(desc)) {
    progress?.({ type: 'blob-skip', digest: desc.digest, kind, size: desc.size, reason: 'exists' });
    return;
  }
  if (src.registryRepo !== undefined && dst.tryMount !== undefined && (await dst.tryMount(desc, src.registryRepo))) {
    progress?.({ type: 'blob-skip', digest: desc.digest, kind, size: desc.size, reason: 'mounted' });
    return;
  }
  progress?.({ type: 'blob-start', digest: desc.digest, kind, size: desc.size });
  const { bytes } = extra;
  const transfer = { startedAt: Date.now() };
  const what = `${src.name}: blob ${desc.digest}`;
  const open = bytes !== undefined
    ? (offset: number) => Promise.resolve({ stream: Readable.from([bytes.subarray(offset)]), offset })
    : async (offset: number) => {
        const r = await src.blob(desc, offset, transfer);
        // A source that sends more than the descriptor says is cut off, not stored.
        // pipeline: an error or an early end on either side ends both (the connection is not left open).
        const limited = pipeline(r.stream, cutOffAfter(desc.size - r.offset, what), () => undefined);
        return { stream: limited, offset: r.offset };
      };
  await dst.putBlob(desc, open, {
    onBytes: (n) => progress?.({ type: 'blob-progress', digest: desc.digest, bytes: n }),
    ...(extra.diffId === undefined ? {} : { diffId: extra.diffId }),
  });
  progress?.({ type: 'blob-done', digest: desc.digest, kind });
}

/** Copies the config and layers of one manifest (nothing is committed). */
async function copyContent(
  src: ImageSource,
  dst: ImageDestination,
  parsed: Manifest,
  options: CopyOptions,
  beforeBlobs?: (config: ImageConfig) => void,
): Promise<ImageConfig> {
  const configBytes = await readConfigBlob(src, parsed.config);
  const config = parseImageConfig(configBytes, `${src.name}: config ${parsed.config.digest}`);
  beforeBlobs?.(config);
  await copyBlob(src, dst, parsed.config, 'config', options.progress, { bytes: configBytes });
  const diffIds = config.rootfs.diff_ids;
  await forEachLimited(parsed.layers, options.concurrency ?? 4, (layer, i) => {
    const diffId = diffIds[i];
    return copyBlob(src, dst, layer, 'layer', options.progress, diffId === undefined ? {} : { diffId });
  });
  return config;
}

/**
 * Copies an index whole: every image it lists, each child manifest by
 * digest, then the index under the destination's name. Children converted
 * to OCI (for OCI layouts) change digest, so the index is rewritten then.
 */
async function copyIndex(src: ImageSource, dst: ImageDestination, top: ManifestBlob, options: CopyOptions): Promise<CopyResult> {
  const putManifest = dst.putManifest?.bind(dst);
  if (putManifest === undefined) throw unsupported('copy_all_unsupported', `${dst.name}: cannot hold a whole index (--all); copy one platform instead`);
  const index = parseIndex(top.bytes, `${src.name} (${top.digest})`);
  const entries: Descriptor[] = [];
  let changed = !dst.acceptsDockerManifests && top.mediaType !== MediaType.OciIndex;
  let first: { parsed: Manifest; config: ImageConfig } | undefined;
  for (const desc of index.manifests) {
    const child = await childManifest(src, desc);
    checkSupportedType(child.mediaType, `${src.name}@${desc.digest}`);
    if (isIndexType(child.mediaType)) throw unsupported('unsupported_manifest', `${src.name}@${desc.digest}: an index inside an index is not supported`);
    const parsed = parseManifest(child.bytes, `${src.name}@${desc.digest}`);
    const config = await copyContent(src, dst, parsed, options);
    first ??= { parsed, config };
    const out = !dst.acceptsDockerManifests && isDockerManifest(child.mediaType) ? dockerToOci(parsed) : child;
    await putManifest(out);
    if (out.digest !== desc.digest) changed = true;
    entries.push({ ...desc, mediaType: out.mediaType, digest: out.digest, size: out.bytes.byteLength });
  }
  let manifest = top;
  if (changed) {
    const bytes = Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: MediaType.OciIndex, manifests: entries, ...(index.annotations === undefined ? {} : { annotations: index.annotations }) }));
    manifest = { bytes, mediaType: MediaType.OciIndex, digest: digestOf(bytes) };
  }
  const committed = await dst.commit({ manifest });
  options.progress?.({ type: 'manifest-written', digest: committed.manifestDigest, destination: dst.name });
  if (first === undefined) throw unsupported('empty_index', `${src.name} (${top.digest}): the index lists no images`);
  return {
    manifestDigest: committed.manifestDigest,
    sourceManifestDigest: top.digest,
    indexDigest: top.digest,
    configDigest: first.parsed.config.digest,
    layers: first.parsed.layers,
    config: first.config,
  };
}

export async function copyImage(src: ImageSource, dst: ImageDestination, options: CopyOptions = {}): Promise<CopyResult> {
  const progress = options.progress;
  if (options.all === true) {
    const top = await src.topManifest();
    checkSupportedType(top.mediaType, src.name);
    if (isIndexType(top.mediaType)) return copyIndex(src, dst, top, options);
  }
  const resolved = await resolveImage(src, options.platform);
  const { parsed } = resolved;
  progress?.({
    type: 'resolved',
    source: src.name,
    manifestDigest: resolved.manifest.digest,
    layers: parsed.layers.length,
    bytes: parsed.layers.reduce((n, l) => n + l.size, parsed.config.size),
  });
  const config = await copyContent(src, dst, parsed, options, (c) => options.onResolved?.(resolved, c));
  let manifest = resolved.manifest;
  if (!dst.acceptsDockerManifests && isDockerManifest(manifest.mediaType)) manifest = dockerToOci(parsed);
  const committed = await dst.commit({ manifest, ...(resolved.index === undefined ? {} : { index: resolved.index }) });
  progress?.({ type: 'manifest-written', digest: committed.manifestDigest, destination: dst.name });
  const result: CopyResult = {
    manifestDigest: committed.manifestDigest,
    sourceManifestDigest: resolved.manifest.digest,
    configDigest: parsed.config.digest,
    layers: parsed.layers,
    config,
  };
  if (resolved.index !== undefined) result.indexDigest = resolved.index.digest;
  if (committed.imageId !== undefined) result.imageId = committed.imageId;
  return result;
}
