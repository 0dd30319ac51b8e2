/**
 * An OCI runtime bundle from an image, the job of `umoci unpack`: DIR/rootfs
 * with the layers applied in order, DIR/config.json from the image config,
 * and DIR/berth-bundle.json recording what was unpacked. DIR must not exist
 * or be empty; on failure what was written is removed again.
 */
import { mkdirSync, readdirSync, rmSync, writeFileSync, renameSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import type { ImageConfig } from '../../oci/image-spec.ts';
import type { Spec } from '../../oci/runtime-spec.ts';
import { alreadyExists, invalidArgument } from '../../errors.ts';
import { Rootfs } from '../unpack/rootfs.ts';
import type { UnpackLayerResult } from '../unpack/unpack-layer.ts';
import { applyLayers, type LayerSource } from '../unpack/index.ts';
import type { UnpackOptions } from '../unpack/options.ts';
import { imageConfigToSpec, type ConfigToSpecOptions } from './image-config-to-spec.ts';
import { readUserDb } from './read-user-db.ts';

export interface BundleOptions extends Omit<UnpackOptions, 'diffId'> {
  spec?: Omit<ConfigToSpecOptions, 'userDb'>;
  /** Recorded in berth-bundle.json (e.g. the manifest digest and the image name). */
  source?: Record<string, string>;
}

export interface BundleResult {
  dir: string;
  rootfs: string;
  spec: Spec;
  layers: UnpackLayerResult[];
}

function prepareDir(dir: string): boolean {
  if (!existsSync(dir)) {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    return true;
  }
  if (readdirSync(dir).length > 0) throw alreadyExists('bundle_exists', `bundle "${dir}": directory is not empty`);
  return false;
}

function writeJsonAtomic(path: string, value: unknown): void {
  const tmp = `${path}.tmp-${process.pid}`;
  writeFileSync(tmp, `${JSON.stringify(value, null, '\t')}\n`, { mode: 0o644 });
  renameSync(tmp, path);
}

export async function unpackBundle(layers: LayerSource[], config: ImageConfig, dir: string, options: BundleOptions = {}): Promise<BundleResult> {
  const diffIds = config.rootfs.diff_ids;
  if (diffIds.length !== layers.length) {
    throw invalidArgument('bundle_layers', `image config lists ${diffIds.length} diff_ids for ${layers.length} layers`);
  }
  const created = prepareDir(dir);
  const rootfs = join(dir, 'rootfs');
  try {
    mkdirSync(rootfs, { mode: 0o755 });
    const { spec: specOptions, source, ...unpackOptions } = options;
    const results: UnpackLayerResult[] = [];
    let spec: Spec;
    {
      using root = Rootfs.open(rootfs);
      results.push(...(await applyLayers(root, layers.map((l, i) => ({ ...l, diffId: diffIds[i] ?? '' })), unpackOptions)));
      spec = imageConfigToSpec(config, { ...specOptions, userDb: readUserDb(root) });
    }
    writeJsonAtomic(join(dir, 'config.json'), spec);
    writeJsonAtomic(join(dir, 'berth-bundle.json'), {
      source: source ?? {},
      layers: results.map((r) => ({ digest: r.digest, diffId: r.diffId })),
    });
    return { dir, rootfs, spec, layers: results };
  } catch (err) {
    if (created) rmSync(dir, { recursive: true, force: true });
    else for (const name of readdirSync(dir)) rmSync(join(dir, name), { recursive: true, force: true });
    throw err;
  }
}
