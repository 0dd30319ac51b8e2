/**
 * A stage's (or an image's) file system as committed snapshots: each layer
 * applied once, by chain ID, shared with `berth image mount` and later
 * builds; and a read-only view of it mounted for as long as a COPY --from
 * reads it.
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync, rmdirSync } from 'node:fs';
import { join } from 'node:path';
import { applyImageLayers } from '../../snapshot/index.ts';
import type { LayerRef } from '../state.ts';
import { mountAt, unmount } from './mounts.ts';
import { OWNER_LABEL, type WorkEnv } from './work-snapshot.ts';

/** Makes sure every layer is a committed snapshot; returns the top chain ID (undefined: no layers). */
export async function ensureChain(env: WorkEnv, layers: LayerRef[]): Promise<string | undefined> {
  if (layers.length === 0) return undefined;
  const sources = layers.map((l) => ({ digest: l.digest, mediaType: l.mediaType, open: () => env.store.readBlob(l.digest) }));
  const { chainIds } = await applyImageLayers(env.snapshotter, sources, layers.map((l) => l.diffId));
  return chainIds.at(-1);
}

/** Runs `fn` with the state of `layers` mounted read-only (an empty directory for no layers). */
export async function withStateView<T>(env: WorkEnv, layers: LayerRef[], fn: (root: string) => Promise<T> | T): Promise<T> {
  const chain = await ensureChain(env, layers);
  const key = `build-view-${process.pid}-${randomBytes(6).toString('hex')}`;
  const dir = join(env.workDir, key);
  const target = join(dir, 'rootfs');
  mkdirSync(target, { recursive: true, mode: 0o700 });
  let viewed = false;
  let mounted = false;
  try {
    if (chain !== undefined) {
      const specs = await env.snapshotter.view(key, chain, { [OWNER_LABEL]: String(process.pid) });
      viewed = true;
      mountAt(specs, target, true);
      mounted = true;
    }
    return await fn(target);
  } finally {
    if (mounted) unmount(target);
    if (viewed) await env.snapshotter.remove(key);
    try {
      rmdirSync(target);
      rmdirSync(dir);
    } catch {
      // Left for cleanupStale (never recursed into: it may still be a mount).
    }
  }
}
