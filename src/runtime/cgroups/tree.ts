/**
 * Creating and removing cgroup directories: every level of a path, with the
 * set-up a new level needs (v1 cpuset: the parent's cpus and mems, as an
 * empty cpuset cannot take tasks; v2: the controllers enabled for the
 * children of each ancestor, as runc does), and removal children first,
 * waiting briefly while exiting processes leave.
 */
import { posix } from 'node:path';
import { delay } from '../../delay.ts';
import { cleanupAfter, errnoCode } from '../../errors.ts';
import type { CgroupFs } from './fs.ts';
import { cgroupIoError, readOptional, writeControl } from './write.ts';

/**
 * mkdir -p, from the first missing ancestor down; returns the directories it
 * created, top first. With `beforeChild`, every level below `top` is visited
 * (existing ones too) and the hook runs on each parent before its child is
 * made: on v2 the controllers are enabled there first.
 */
export async function makeDirs(fs: CgroupFs, dir: string, beforeChild?: { top: string; run: (parent: string) => Promise<void> }): Promise<string[]> {
  const levels: string[] = [];
  for (let d = dir; d !== '/' && d !== beforeChild?.top; d = posix.dirname(d)) {
    if (beforeChild === undefined && (await fs.exists(d))) break;
    levels.unshift(d);
  }
  const created: string[] = [];
  try {
    for (const d of levels) {
      await beforeChild?.run(posix.dirname(d));
      if (await fs.mkdir(d)) created.push(d);
    }
  } catch (err) {
    const failure = cgroupIoError('create', levels[created.length] ?? dir, err);
    await cleanupAfter(failure, () => removeCreated(fs, created));
    throw failure;
  }
  return created;
}

/**
 * Removes the directories a failed create made, children first; tries them
 * all, then throws what failed (for cleanupAfter to report beside the
 * create's own failure).
 */
export async function removeCreated(fs: CgroupFs, created: readonly string[]): Promise<void> {
  const failures: unknown[] = [];
  for (const d of [...created].reverse()) {
    await fs.rmdir(d).catch((err: unknown) => failures.push(cgroupIoError('remove', d, err)));
  }
  if (failures.length === 1) throw failures[0];
  if (failures.length > 1) throw new AggregateError(failures, `cgroup: ${failures.length} directories made for the container are left`);
}

/** A new cpuset cgroup starts empty; copy the parent's cpus and mems down each created level. */
export async function initCpuset(fs: CgroupFs, created: readonly string[]): Promise<void> {
  for (const d of created) {
    for (const file of ['cpuset.cpus', 'cpuset.mems']) {
      const own = (await readOptional(fs, d, file))?.trim();
      if (own === undefined || own !== '') continue;
      const parent = (await readOptional(fs, posix.dirname(d), file))?.trim() ?? '';
      if (parent !== '') await writeControl(fs, d, file, parent);
    }
  }
}

/**
 * Enables every available controller for the children of one level. All at
 * once first; one by one when that fails (one unavailable controller must
 * not block the others; the resource that needs it fails later, by name).
 */
export async function enableControllers(fs: CgroupFs, level: string): Promise<void> {
  const available = ((await readOptional(fs, level, 'cgroup.controllers')) ?? '').trim().split(/\s+/).filter(Boolean);
  if (available.length === 0) return;
  const enabled = new Set(((await readOptional(fs, level, 'cgroup.subtree_control')) ?? '').trim().split(/\s+/));
  const wanted = available.filter((c) => !enabled.has(c));
  if (wanted.length === 0) return;
  try {
    await fs.write(`${level}/cgroup.subtree_control`, wanted.map((c) => `+${c}`).join(' '));
  } catch {
    for (const c of wanted) await fs.write(`${level}/cgroup.subtree_control`, `+${c}`).catch(() => undefined);
  }
}

export const EBUSY_DEADLINE_MS = 2000;

/**
 * rmdir of a cgroup and its descendants, deepest first; a missing directory
 * is not an error. EBUSY is retried until `deadline` (ms since the epoch).
 */
export async function removeTree(fs: CgroupFs, dir: string, deadline = Date.now() + EBUSY_DEADLINE_MS): Promise<void> {
  let children: string[];
  try {
    children = await fs.subdirs(dir);
  } catch (err) {
    if (errnoCode(err) === 'ENOENT') return;
    throw cgroupIoError('list', dir, err);
  }
  for (const child of children) await removeTree(fs, posix.join(dir, child), deadline);
  for (let wait = 1; ; wait = Math.min(wait * 2, 50)) {
    try {
      await fs.rmdir(dir);
      return;
    } catch (err) {
      const code = errnoCode(err);
      if (code === 'ENOENT') return;
      // Exiting processes leave the cgroup a moment after they are reaped.
      if (code !== 'EBUSY' || Date.now() > deadline) throw cgroupIoError('remove', dir, err);
    }
    await delay(wait);
  }
}
