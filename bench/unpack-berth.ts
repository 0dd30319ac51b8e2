/**
 * One berth unpack of an OCI layout's image into a bundle directory, as a
 * process of its own so bench/unpack.ts times it like the umoci command.
 *   build/node bench/unpack-berth.ts LAYOUT TAG BUNDLE
 */
import { createReadStream, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { unpackLayers } from '../src/image/unpack/index.ts';

const [layout, tag, bundle] = process.argv.slice(2);
if (layout === undefined || tag === undefined || bundle === undefined) {
  console.error('usage: unpack-berth.ts LAYOUT TAG BUNDLE');
  process.exit(2);
}
interface Desc {
  digest: string;
  mediaType: string;
  annotations?: Record<string, string>;
}
const blob = (d: string): string => join(layout, 'blobs', 'sha256', d.slice(7));
const index = JSON.parse(readFileSync(join(layout, 'index.json'), 'utf8')) as { manifests: Desc[] };
const desc = index.manifests.find((m) => m.annotations?.['org.opencontainers.image.ref.name'] === tag);
if (desc === undefined) throw new Error(`tag ${tag} not in ${layout}`);
const manifest = JSON.parse(readFileSync(blob(desc.digest), 'utf8')) as { config: Desc; layers: Desc[] };
const config = JSON.parse(readFileSync(blob(manifest.config.digest), 'utf8')) as { rootfs: { diff_ids: string[] } };
const rootfs = join(bundle, 'rootfs');
mkdirSync(rootfs, { recursive: true });
await unpackLayers(
  rootfs,
  manifest.layers.map((l, i) => ({
    digest: l.digest,
    mediaType: l.mediaType,
    diffId: config.rootfs.diff_ids[i] ?? '',
    open: () => createReadStream(blob(l.digest), { highWaterMark: 1 << 20 }),
  })),
);
