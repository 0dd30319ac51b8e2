/**
 * `berth image mount [--writable] IMAGE [DIR]` and `berth image unmount
 * DIR|IMAGE`, as podman's: the image's layers become committed snapshots
 * (by chain ID, shared between images; see src/image/snapshot), and its top
 * snapshot is mounted at DIR (default <root>/image-mounts/<id>), read-only
 * unless --writable (writes are then discarded on unmount). Without IMAGE,
 * lists what is mounted.
 */
import { existsSync, mkdirSync, rmdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { notFound } from '../../../errors.ts';
import type { Snapshotter } from '../../../image/snapshot/index.ts';
import type { ImageRecord, ImageStore } from '../../../image/store/store.ts';
import { bool, operands, type Parsed } from '../args.ts';
import type { CommandContext } from '../context.ts';
import type { Command } from './command.ts';

async function snapshots(store: ImageStore): Promise<Snapshotter> {
  const { Snapshotter } = await import('../../../image/snapshot/index.ts');
  return Snapshotter.open(store.root);
}

async function topChainId(store: ImageStore, img: ImageRecord): Promise<string> {
  const { applyImageLayers } = await import('../../../image/snapshot/index.ts');
  const snap = await snapshots(store);
  const layers = img.layers.map((l) => ({ digest: l.digest, mediaType: l.mediaType, open: () => store.readBlob(l.digest) }));
  const { chainIds } = await applyImageLayers(snap, layers, img.layers.map((l) => l.diffId));
  const top = chainIds[chainIds.length - 1];
  if (top === undefined) throw notFound('image_empty', `image ${img.id.slice(7, 19)}: has no layers to mount`);
  return top;
}

export const mount: Command = {
  usage: 'berth image mount [--writable] [IMAGE [DIR]]',
  summary: 'Mount an image\'s root filesystem (lists mounts without IMAGE)',
  options: { writable: { type: 'boolean' } },
  async run(ctx: CommandContext, p: Parsed) {
    const [image, dirArg] = operands(p, 0, 2, this.usage);
    const store = await ctx.store();
    const { mountImage, listImageMounts } = await import('../../../image/snapshot/index.ts');
    const snap = await snapshots(store);
    if (image === undefined) {
      for (const m of listImageMounts(snap)) ctx.out(`${m.target}\t${m.parent}\t${m.readonly ? 'ro' : 'rw'}\n`);
      return 0;
    }
    const img = store.resolve(image);
    const chainId = await topChainId(store, img);
    const target = resolve(dirArg ?? join(store.root, 'image-mounts', img.id.slice(7, 19)));
    mkdirSync(target, { recursive: true });
    await mountImage(snap, { chainId, target, writable: bool(p, 'writable') });
    ctx.out(`${target}\n`);
    return 0;
  },
};

export const unmount: Command = {
  usage: 'berth image unmount DIR|IMAGE',
  summary: 'Unmount what berth image mount mounted',
  options: {},
  async run(ctx: CommandContext, p: Parsed) {
    const [what = ''] = operands(p, 1, 1, this.usage);
    const store = await ctx.store();
    const { unmountImage, listImageMounts, chainIds } = await import('../../../image/snapshot/index.ts');
    const snap = await snapshots(store);
    const mounts = listImageMounts(snap);
    let targets = mounts.filter((m) => m.target === resolve(what)).map((m) => m.target);
    if (targets.length === 0) {
      const img = store.resolve(what);
      const top = chainIds(img.layers.map((l) => l.diffId)).at(-1);
      targets = mounts.filter((m) => m.parent === top).map((m) => m.target);
      if (targets.length === 0) throw notFound('not_mounted', `image "${what}": not mounted`);
    }
    for (const t of targets) {
      await unmountImage(snap, t);
      // The default mount point is ours to remove; a directory the user named stays.
      if (t.startsWith(join(store.root, 'image-mounts')) && existsSync(t)) rmdirSync(t);
      ctx.out(`${t}\n`);
    }
    return 0;
  },
};
