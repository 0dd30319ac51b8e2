/**
 * Layer unpacking: `unpackLayers(dir, layers)` applies layer blobs in order
 * onto one directory (the job of `umoci unpack`'s rootfs step);
 * `unpackLayer(rootfs, blob, stream)` applies one. Imports src/sys (koffi):
 * load this module lazily from command start paths.
 */
import type { Readable } from 'node:stream';
import { Rootfs } from './rootfs.ts';
import { unpackLayer, type LayerBlob, type UnpackLayerResult } from './unpack-layer.ts';
import type { UnpackOptions } from './options.ts';

export { Rootfs } from './rootfs.ts';
export { unpackLayer, type LayerBlob, type UnpackLayerResult } from './unpack-layer.ts';
export { DEFAULT_LIMITS, type UnpackLimits, type UnpackOptions, type WhiteoutMode } from './options.ts';
export { TarReader, type TarHandler } from './tar-reader.ts';
export type { TarEntry, EntryType, Timespec } from './entry.ts';

export interface LayerSource extends LayerBlob {
  /** Opens the (compressed) blob for reading. */
  open(): Promise<Readable> | Readable;
}

/** Applies `layers` in order onto the existing directory `dir`. */
export async function unpackLayers(dir: string, layers: LayerSource[], options: UnpackOptions = {}): Promise<UnpackLayerResult[]> {
  using root = Rootfs.open(dir);
  const results: UnpackLayerResult[] = [];
  for (const layer of layers) {
    const input = await layer.open();
    const { diffId: _ignored, ...rest } = options;
    results.push(await unpackLayer(root, layer, input, rest));
  }
  return results;
}
