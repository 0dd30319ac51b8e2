/**
 * Layer unpacking: `unpackLayers(dir, layers)` applies layer blobs in order
 * onto one directory (the job of `umoci unpack`'s rootfs step);
 * `unpackLayer(rootfs, blob, stream)` applies one. Imports src/sys (koffi):
 * load this module lazily from command start paths.
 */
import type { Readable } from 'node:stream';
import { Rootfs } from './rootfs.ts';
import { unpackLayer, type LayerBlob, type UnpackLayerResult } from './unpack-layer.ts';
import { LayerStream } from './decompress.ts';
import type { UnpackOptions } from './options.ts';

export { Rootfs } from './rootfs.ts';
export { unpackLayer, type LayerBlob, type UnpackLayerResult } from './unpack-layer.ts';
export { DEFAULT_LIMITS, LIMIT_VARIABLES, limitsFromEnv, parseByteSize, type ImageTally, type UnpackLimits, type UnpackOptions, type WhiteoutMode } from './options.ts';
export { TarReader, type TarHandler } from './tar-reader.ts';
export { LayerStream, AHEAD_BYTES } from './decompress.ts';
export type { TarEntry, EntryType, Timespec } from './entry.ts';

export interface LayerSource extends LayerBlob {
  /** Opens the (compressed) blob for reading. */
  open(): Promise<Readable> | Readable;
}

/**
 * Applies `layers` in order onto the Rootfs. Layer i+1 is opened and starts
 * decompressing (bounded, see AHEAD_BYTES) while layer i is written.
 */
export async function applyLayers(root: Rootfs, layers: LayerSource[], options: Omit<UnpackOptions, 'diffId'> = {}): Promise<UnpackLayerResult[]> {
  const start = (l: LayerSource): LayerStream => new LayerStream(Promise.resolve(l.open()), l.digest, l.mediaType);
  const shared = { ...options, tally: options.tally ?? { bytes: 0 } };
  const results: UnpackLayerResult[] = [];
  let next = layers[0] === undefined ? undefined : start(layers[0]);
  try {
    for (const [i, layer] of layers.entries()) {
      const current = next as LayerStream;
      const following = layers[i + 1];
      next = following === undefined ? undefined : start(following);
      results.push(await unpackLayer(root, layer, current, shared));
    }
  } finally {
    next?.cancel();
  }
  return results;
}

/** Applies `layers` in order onto the existing directory `dir`. */
export async function unpackLayers(dir: string, layers: LayerSource[], options: Omit<UnpackOptions, 'diffId'> = {}): Promise<UnpackLayerResult[]> {
  using root = Rootfs.open(dir);
  return await applyLayers(root, layers, options);
}
