/**
 * `berth image mount` / `unmount` as library calls: an image's top snapshot
 * is mounted at a directory through a view (read-only) or an active
 * snapshot (writable, discarded on unmount), and the mount is recorded in
 * the snapshot metadata so `listImageMounts` tells what is mounted where.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import { alreadyExists, failedPrecondition, invalidArgument, notFound } from '../../errors.ts';
import type { Snapshotter } from './snapshotter.ts';
import type { MountSpec } from './types.ts';
import type { MountRecord } from './metadata.ts';

export interface MountImageOptions {
  /** Top chain ID of the image (applyImageLayers' last chain ID). */
  chainId: string;
  target: string;
  /** Writable mount (changes are discarded on unmount); read-only by default. */
  writable?: boolean;
}

export type ImageMount = MountRecord & { target: string };

export async function mountImage(snapshotter: Snapshotter, options: MountImageOptions): Promise<ImageMount> {
  const target = resolve(options.target);
  if (!existsSync(target) || !statSync(target).isDirectory()) throw invalidArgument('mount.target', `mount target "${target}": not a directory`);
  if (snapshotter.listMounts().some((m) => m.target === target)) throw alreadyExists('mount.exists', `mount target "${target}": an image is already mounted there`);
  const parent = snapshotter.stat(options.chainId);
  if (parent?.kind !== 'committed') throw notFound('mount.image', `image snapshot "${options.chainId}": not unpacked`);
  const readonly = options.writable !== true;
  const key = `mount-${randomBytes(6).toString('hex')}`;
  const specs = readonly ? await snapshotter.view(key, options.chainId) : await snapshotter.prepare(key, options.chainId);
  try {
    await performMounts(specs, target, readonly);
  } catch (err) {
    await snapshotter.remove(key);
    throw err;
  }
  const record: MountRecord = { key, parent: options.chainId, readonly, created: new Date().toISOString() };
  await snapshotter.updateMounts((mounts) => {
    mounts[target] = record;
  });
  return { target, ...record };
}

/** Unmounts what mountImage mounted at `target` and removes its snapshot. */
export async function unmountImage(snapshotter: Snapshotter, targetPath: string): Promise<void> {
  const target = resolve(targetPath);
  const record = snapshotter.listMounts().find((m) => m.target === target);
  if (record === undefined) throw notFound('mount.not_mounted', `mount target "${target}": no image mounted there`);
  const sys = await import('../../sys/index.ts');
  try {
    sys.umount2(target, sys.UMOUNT_NOFOLLOW);
  } catch (err) {
    // Already gone (unmounted by hand): forget it all the same.
    if (!sys.isSystemError(err, 'EINVAL')) throw failedPrecondition('mount.busy', `mount target "${target}": cannot unmount`, { cause: err });
  }
  await snapshotter.updateMounts((mounts) => {
    delete mounts[target];
  });
  if (snapshotter.stat(record.key) !== undefined) await snapshotter.remove(record.key);
}

export function listImageMounts(snapshotter: Snapshotter): ImageMount[] {
  return snapshotter.listMounts();
}

/**
 * An image mounted on the host has no device cgroup and no user namespace
 * around it: nosuid and nodev (as podman mounts images), so a setuid-root
 * file or a device node from the image grants nothing to whoever reaches it.
 */
async function performMounts(specs: MountSpec[], target: string, readonly: boolean): Promise<void> {
  const sys = await import('../../sys/index.ts');
  sys.mountDescriptions(specs, target, readonly, undefined, sys.MS_NOSUID | sys.MS_NODEV);
}
