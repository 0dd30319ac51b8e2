/**
 * One berth unpack of an OCI layout's image into a bundle (rootfs +
 * config.json, as `umoci unpack` writes), as a process of its own so that
 * bench/unpack.ts times it the way it times the umoci command.
 *   build/node bench/unpack-berth.ts LAYOUT TAG BUNDLE
 */
import { createReadStream, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { unpackBundle } from '../src/image/bundle/index.ts';
import type { ImageConfig, Index, Manifest } from '../src/oci/image-spec.ts';

const [layout, tag, bundle] = process.argv.slice(2);
if (layout === undefined || tag === undefined || bundle === undefined) {
  console.error('usage: unpack-berth.ts LAYOUT TAG BUNDLE');
  process.exit(2);
}
const blob = (digest: string): string => join(layout, 'blobs', 'sha256', digest.slice(7));
const index = JSON.parse(readFileSync(join(layout, 'index.json'), 'utf8')) as Index;
const desc = index.manifests.find((m) => m.annotations?.['org.opencontainers.image.ref.name'] === tag);
if (desc === undefined) throw new Error(`tag ${tag} not in ${layout}`);
const manifest = JSON.parse(readFileSync(blob(desc.digest), 'utf8')) as Manifest;
const config = JSON.parse(readFileSync(blob(manifest.config.digest), 'utf8')) as ImageConfig;
await unpackBundle(
  manifest.layers.map((l) => ({ digest: l.digest, mediaType: l.mediaType, open: () => createReadStream(blob(l.digest), { highWaterMark: 1 << 20 }) })),
  config,
  bundle,
);
