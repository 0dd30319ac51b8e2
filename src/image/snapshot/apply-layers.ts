/**
 * Image layers as committed snapshots, one per chain ID: a layer whose
 * chain ID is already committed (by this image or another) is not unpacked
 * again. Each missing layer is unpacked into a fresh active snapshot on top
 * of its parent (overlay whiteouts with the overlay driver, applied
 * whiteouts onto the parent's copy with the copying driver) and committed.
 */
import { randomBytes } from 'node:crypto';
import { invalidArgument, isBerthError } from '../../errors.ts';
import type { LayerSource } from '../unpack/index.ts';
import type { UnpackOptions } from '../unpack/options.ts';
import { chainIds } from './chain-id.ts';
import type { Snapshotter } from './snapshotter.ts';

export interface ApplyResult {
  /** Chain ID of each layer; the last names the whole image's snapshot. */
  chainIds: string[];
  /** How many layers were unpacked (the others were already there). */
  unpacked: number;
}

export async function applyImageLayers(
  snapshotter: Snapshotter,
  layers: LayerSource[],
  diffIds: string[],
  options: Omit<UnpackOptions, 'diffId' | 'whiteouts'> = {},
): Promise<ApplyResult> {
  if (diffIds.length !== layers.length) throw invalidArgument('snapshot.layers', `${diffIds.length} diff_ids for ${layers.length} layers`);
  const ids = chainIds(diffIds);
  const { Rootfs, unpackLayer } = await import('../unpack/index.ts');
  let unpacked = 0;
  // The image cap counts what this call unpacks; layers already committed were accepted before.
  const tally = options.tally ?? { bytes: 0 };
  for (const [i, layer] of layers.entries()) {
    const chain = ids[i] ?? '';
    if (snapshotter.stat(chain)?.kind === 'committed') continue;
    const parent = i === 0 ? undefined : ids[i - 1];
    const key = `extract-${randomBytes(6).toString('hex')}-${chain}`;
    await snapshotter.prepare(key, parent, { 'berth.layer': layer.digest });
    try {
      const info = snapshotter.stat(key);
      if (info === undefined) throw new Error(`snapshot ${key} vanished`);
      {
        using root = Rootfs.open(snapshotter.fsPath(info));
        const overlay = snapshotter.driver === 'overlay';
        const lowerDirs = overlay ? snapshotter.lowerDirs(parent) : [];
        await unpackLayer(root, { ...layer, diffId: diffIds[i] ?? '' }, await layer.open(), { ...options, whiteouts: overlay ? 'overlay' : 'apply', lowerDirs, tally });
      }
      try {
        await snapshotter.commit(chain, key, { 'berth.layer': layer.digest });
      } catch (err) {
        // Another process committed the same chain meanwhile: theirs is as good as ours.
        if (!isBerthError(err, 'snapshot.exists')) throw err;
        await snapshotter.remove(key);
      }
      unpacked++;
    } catch (err) {
      if (snapshotter.stat(key) !== undefined) await snapshotter.remove(key);
      throw err;
    }
  }
  return { chainIds: ids, unpacked };
}
