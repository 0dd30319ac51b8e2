/**
 * A build step's writable snapshot: prepared on the committed snapshot of
 * the state before the step, mounted for the step to change (a RUN's
 * container root, COPY's destination), unmounted, diffed into a layer blob,
 * and committed under the new chain ID — or removed when the step changed
 * nothing or failed. Whatever happens, no mount, no active snapshot and no
 * temporary directory is left; leftovers of a build that was killed are
 * found by their owner's pid (`cleanupStale`).
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync, readdirSync, rmdirSync } from 'node:fs';
import { join } from 'node:path';
import { internal, isBerthError } from '../../../errors.ts';
import * as sys from '../../../sys/index.ts';
import { chainIds, type Snapshotter } from '../../snapshot/index.ts';
import type { ImageStore } from '../../store/store.ts';
import { overlayDiff } from '../layer/overlay-diff.ts';
import { treeDiff } from '../layer/tree-diff.ts';
import { writeLayer, type WrittenLayer } from '../layer/write.ts';
import { mountAt, unmount } from './mounts.ts';

export const OWNER_LABEL = 'berth.build.pid';

export interface WorkEnv {
  store: ImageStore;
  snapshotter: Snapshotter;
  /** Where step mounts and bundles live while a step runs (<root>/build/work). */
  workDir: string;
}

export interface StepOutcome<T> {
  result: T;
  /** The layer the step produced; undefined when it changed nothing. */
  layer: WrittenLayer | undefined;
  /** The chain ID of the state after the step (the parent's when nothing changed). */
  chainId: string | undefined;
}

function openDir(path: string): number {
  return sys.openat(sys.AT_FDCWD, path, sys.O_RDONLY | sys.O_DIRECTORY);
}

/** The layer between the parent and the (unmounted) snapshot `key`. */
async function diffSnapshot(env: WorkEnv, key: string, parent: string | undefined): Promise<WrittenLayer | undefined> {
  const snap = env.snapshotter;
  const info = snap.stat(key);
  if (info === undefined) throw internal('snapshot_vanished', `snapshot ${key} vanished while its changes were read`);
  const fsFd = openDir(snap.fsPath(info));
  try {
    if (snap.driver === 'overlay' || parent === undefined) return await writeLayer(env.store, overlayDiff(fsFd), fsFd);
    const lowerPath = snap.lowerDirs(parent)[0];
    if (lowerPath === undefined) throw internal('snapshot_no_directory', `snapshot ${parent} has no directory`);
    const lowerFd = openDir(lowerPath);
    try {
      return await writeLayer(env.store, treeDiff(lowerFd, fsFd), fsFd);
    } finally {
      sys.close(lowerFd);
    }
  } finally {
    sys.close(fsFd);
  }
}

/**
 * Runs `mutate` on a writable mount of the state `parent` (a committed
 * chain ID; undefined for an empty root) and turns what it changed into a
 * layer. `mutate` gets the mounted root and the step's private directory.
 */
export async function withWorkSnapshot<T>(
  env: WorkEnv,
  parent: string | undefined,
  mutate: (root: string, stepDir: string) => Promise<T>,
): Promise<StepOutcome<T>> {
  const snap = env.snapshotter;
  const key = `build-${process.pid}-${randomBytes(6).toString('hex')}`;
  const stepDir = join(env.workDir, key);
  const target = join(stepDir, 'rootfs');
  mkdirSync(target, { recursive: true, mode: 0o700 });
  let prepared = false;
  let mounted = false;
  try {
    const specs = await snap.prepare(key, parent, { [OWNER_LABEL]: String(process.pid) });
    prepared = true;
    mountAt(specs, target, false);
    mounted = true;
    const result = await mutate(target, stepDir);
    unmount(target);
    mounted = false;
    const layer = await diffSnapshot(env, key, parent);
    if (layer === undefined) {
      await snap.remove(key);
      prepared = false;
      return { result, layer, chainId: parent };
    }
    // ChainID(parent + layer) = sha256(parent + " " + diffID): chainIds() of [parent, diffID] computes just that.
    const top = parent === undefined ? layer.diffId : (chainIds([parent, layer.diffId])[1] ?? layer.diffId);
    try {
      await snap.commit(top, key, { 'berth.layer': layer.digest });
    } catch (err) {
      // The same change was committed before (by an earlier build): that snapshot serves.
      if (!isBerthError(err, 'snapshot_exists')) throw err;
      await snap.remove(key);
    }
    prepared = false;
    return { result, layer, chainId: top };
  } finally {
    if (mounted) unmount(target);
    if (prepared && snap.stat(key) !== undefined) await snap.remove(key);
    removeStepDir(stepDir);
  }
}

/** Removes a step directory without ever recursing into a mount: only empty directories and plain files written by the step. */
function removeStepDir(stepDir: string): void {
  try {
    rmdirSync(join(stepDir, 'rootfs'));
  } catch {
    // Not there, or (never expected) still mounted: then it stays rather than be emptied.
  }
  for (const name of safeList(stepDir)) {
    if (name === 'rootfs') continue;
    try {
      sys.unlinkat(sys.AT_FDCWD, join(stepDir, name), 0);
    } catch {
      // Left for cleanupStale.
    }
  }
  try {
    rmdirSync(stepDir);
  } catch {
    // Left for cleanupStale.
  }
}

function safeList(dir: string): string[] {
  try {
    return readdirSync(dir);
  } catch {
    return [];
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** The pid in a step's name (`build-PID-…`, `build-view-PID-…`). */
function ownerOf(name: string): number | undefined {
  const pid = Number(/^build-(?:view-)?(\d+)-/.exec(name)?.[1]);
  return Number.isInteger(pid) && pid > 0 ? pid : undefined;
}

/** Unmounts and removes what builds that died left (their pid is gone): step snapshots and views, then step directories; returns what went. */
export async function cleanupStale(env: WorkEnv): Promise<string[]> {
  const removed: string[] = [];
  for (const s of env.snapshotter.list()) {
    const owner = Number(s.labels?.[OWNER_LABEL]);
    if (s.kind === 'committed' || !Number.isInteger(owner) || owner <= 0 || alive(owner)) continue;
    const stepDir = join(env.workDir, s.key);
    unmount(join(stepDir, 'rootfs'));
    await env.snapshotter.remove(s.key);
    removeStepDir(stepDir);
    removed.push(s.key);
  }
  // A build killed between making its directory and preparing its snapshot leaves the directory alone.
  for (const name of safeList(env.workDir)) {
    const owner = ownerOf(name);
    if (owner === undefined || alive(owner)) continue;
    unmount(join(env.workDir, name, 'rootfs'));
    removeStepDir(join(env.workDir, name));
    removed.push(name);
  }
  return removed;
}
