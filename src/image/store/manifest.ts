/**
 * Validation of manifests, indexes and image configs read from outside
 * (registries, archives, layouts, the store's own files): JSON is `unknown`
 * until these functions have checked the fields berth relies on.
 */
import { invalidArgument, unsupported } from '../../errors.ts';
import { MediaType, type Descriptor, type ImageConfig, type Index, type Manifest, type Platform } from '../../oci/image-spec.ts';
import { parseDigest } from './digest.ts';

export const MANIFEST_TYPES: readonly string[] = [MediaType.OciManifest, MediaType.DockerManifest];
export const INDEX_TYPES: readonly string[] = [MediaType.OciIndex, MediaType.DockerManifestList];
const SCHEMA1_TYPES = [
  'application/vnd.docker.distribution.manifest.v1+json',
  'application/vnd.docker.distribution.manifest.v1+prettyjws',
];

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function fail(what: string, why: string): never {
  throw invalidArgument('invalid_manifest', `${what}: ${why}`);
}

/**
 * Parses JSON from outside. The parser's own message quotes the text, so it
 * is neither shown nor chained: a file a symlink points at (a layout's
 * index.json linked to /etc/shadow) must not reach an error message.
 */
export function parseJson(bytes: Uint8Array | string, what: string): unknown {
  try {
    return JSON.parse(typeof bytes === 'string' ? bytes : Buffer.from(bytes).toString('utf8')) as unknown;
  } catch (err) {
    const at = err instanceof Error ? /at position (\d+)/.exec(err.message)?.[1] : undefined;
    throw invalidArgument('invalid_json', `${what}: not valid JSON${at === undefined ? '' : ` (at position ${at})`}`);
  }
}

function parsePlatform(v: unknown, what: string): Platform {
  if (!isRecord(v)) fail(what, 'platform is not an object');
  const { architecture, os, variant } = v;
  if (typeof architecture !== 'string' || typeof os !== 'string') fail(what, 'platform needs "os" and "architecture" strings');
  const p: Platform = { architecture, os };
  if (typeof variant === 'string') p.variant = variant;
  if (typeof v['os.version'] === 'string') p['os.version'] = v['os.version'];
  return p;
}

export function parseDescriptor(v: unknown, what: string): Descriptor {
  if (!isRecord(v)) fail(what, 'descriptor is not an object');
  const { mediaType, digest, size, urls, annotations, platform } = v;
  if (typeof mediaType !== 'string') fail(what, 'descriptor has no "mediaType"');
  if (typeof digest !== 'string') fail(what, 'descriptor has no "digest"');
  parseDigest(digest, `${what}: digest`);
  if (typeof size !== 'number' || !Number.isSafeInteger(size) || size < 0) fail(what, `descriptor ${digest}: "size" is not a non-negative integer`);
  const d: Descriptor = { mediaType, digest, size };
  if (Array.isArray(urls) && urls.every((u) => typeof u === 'string')) d.urls = urls;
  if (isRecord(annotations)) {
    d.annotations = Object.fromEntries(Object.entries(annotations).filter((e): e is [string, string] => typeof e[1] === 'string'));
  }
  if (platform !== undefined) d.platform = parsePlatform(platform, `${what}: ${digest}`);
  return d;
}

/** The media type a manifest document declares, or that its shape implies. */
export function detectMediaType(doc: unknown): string | undefined {
  if (!isRecord(doc)) return undefined;
  if (typeof doc['mediaType'] === 'string') return doc['mediaType'];
  if (doc['schemaVersion'] === 1) return SCHEMA1_TYPES[0];
  if (Array.isArray(doc['manifests'])) return MediaType.OciIndex;
  if (isRecord(doc['config'])) return MediaType.OciManifest;
  return undefined;
}

export function isIndexType(mediaType: string): boolean {
  return INDEX_TYPES.includes(mediaType);
}

export function isManifestType(mediaType: string): boolean {
  return MANIFEST_TYPES.includes(mediaType);
}

export function checkSupportedType(mediaType: string, what: string): void {
  if (SCHEMA1_TYPES.includes(mediaType)) {
    throw unsupported('unsupported_manifest', `${what}: Docker schema 1 manifests are not supported`);
  }
  if (!isManifestType(mediaType) && !isIndexType(mediaType)) {
    throw unsupported('unsupported_manifest', `${what}: media type "${mediaType}" is not an image manifest or index`);
  }
}

export function parseManifest(bytes: Uint8Array | string, what: string): Manifest {
  const doc = parseJson(bytes, `manifest ${what}`);
  if (!isRecord(doc)) fail(`manifest ${what}`, 'not a JSON object');
  if (doc['schemaVersion'] !== 2) fail(`manifest ${what}`, `schemaVersion is ${JSON.stringify(doc['schemaVersion'])}, want 2`);
  const { layers } = doc;
  if (!Array.isArray(layers)) fail(`manifest ${what}`, '"layers" is not an array');
  const m: Manifest = {
    schemaVersion: 2,
    config: parseDescriptor(doc['config'], `manifest ${what}: config`),
    layers: layers.map((l, i) => parseDescriptor(l, `manifest ${what}: layers[${i}]`)),
  };
  if (typeof doc['mediaType'] === 'string') m.mediaType = doc['mediaType'];
  if (typeof doc['artifactType'] === 'string') m.artifactType = doc['artifactType'];
  if (isRecord(doc['annotations'])) m.annotations = doc['annotations'] as Record<string, string>;
  if (doc['subject'] !== undefined) m.subject = parseDescriptor(doc['subject'], `manifest ${what}: subject`);
  return m;
}

export function parseIndex(bytes: Uint8Array | string, what: string): Index {
  const doc = parseJson(bytes, `index ${what}`);
  if (!isRecord(doc)) fail(`index ${what}`, 'not a JSON object');
  if (doc['schemaVersion'] !== 2) fail(`index ${what}`, `schemaVersion is ${JSON.stringify(doc['schemaVersion'])}, want 2`);
  const { manifests } = doc;
  if (!Array.isArray(manifests)) fail(`index ${what}`, '"manifests" is not an array');
  const idx: Index = {
    schemaVersion: 2,
    manifests: manifests.map((m, i) => parseDescriptor(m, `index ${what}: manifests[${i}]`)),
  };
  if (typeof doc['mediaType'] === 'string') idx.mediaType = doc['mediaType'];
  if (isRecord(doc['annotations'])) idx.annotations = doc['annotations'] as Record<string, string>;
  return idx;
}

export function parseImageConfig(bytes: Uint8Array | string, what: string): ImageConfig {
  const doc = parseJson(bytes, `image config ${what}`);
  if (!isRecord(doc)) fail(`image config ${what}`, 'not a JSON object');
  const { architecture, os, rootfs } = doc;
  if (typeof architecture !== 'string') fail(`image config ${what}`, '"architecture" is not a string');
  if (typeof os !== 'string') fail(`image config ${what}`, '"os" is not a string');
  if (!isRecord(rootfs) || !Array.isArray(rootfs['diff_ids'])) fail(`image config ${what}`, '"rootfs.diff_ids" is not an array');
  const diffIds = rootfs['diff_ids'].map((d, i) => {
    if (typeof d !== 'string') fail(`image config ${what}`, `rootfs.diff_ids[${i}] is not a string`);
    parseDigest(d, `image config ${what}: rootfs.diff_ids[${i}]`);
    return d;
  });
  // The rest of the config is passed through as the document says; only the
  // fields above are relied upon here.
  return { ...(doc as unknown as ImageConfig), architecture, os, rootfs: { type: 'layers', diff_ids: diffIds } };
}
