/**
 * What a container changed in its root filesystem (`docker diff`, `GET
 * /containers/{id}/changes`): its writable snapshot read as a layer, by the
 * builder's diffs (an overlay upper dir as it is; a copied tree compared
 * with its image's), each entry named as docker names it: 0 changed (it is
 * in the image too), 1 added, 2 deleted (a whiteout). Volumes and bind
 * mounts are not in the snapshot and so not in the list, as with docker.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { overlayDiff } from '../../image/build/layer/overlay-diff.ts';
import { treeDiff } from '../../image/build/layer/tree-diff.ts';
import { OPAQUE_WHITEOUT, WHITEOUT_PREFIX } from '../../image/build/layer/node.ts';
import type { DiffItem } from '../../image/build/layer/diff.ts';
import * as sys from '../../sys/index.ts';
import { snapshotKey } from '../paths.ts';
import { snapshots } from '../rootfs.ts';

export const ChangeKind = { modified: 0, added: 1, deleted: 2 } as const;

export interface Change {
  Path: string;
  Kind: (typeof ChangeKind)[keyof typeof ChangeKind];
}

function openDir(path: string): number {
  return sys.openat(sys.AT_FDCWD, path, sys.O_RDONLY | sys.O_DIRECTORY);
}

/** Layer entries (binary-string names, dirs ending in "/") as docker's change list. */
export function changesOf(items: Iterable<DiffItem>, inImage: (path: string) => boolean): Change[] {
  const out: Change[] = [];
  for (const { header } of items) {
    const rel = header.name.replace(/\/$/, '');
    const slash = rel.lastIndexOf('/');
    const dir = slash === -1 ? '' : rel.slice(0, slash);
    const base = rel.slice(slash + 1);
    if (base === OPAQUE_WHITEOUT) continue; // the directory itself is listed as changed
    const utf8 = (p: string): string => `/${Buffer.from(p, 'latin1').toString('utf8')}`;
    if (base.startsWith(WHITEOUT_PREFIX)) {
      out.push({ Path: utf8(dir === '' ? base.slice(WHITEOUT_PREFIX.length) : `${dir}/${base.slice(WHITEOUT_PREFIX.length)}`), Kind: ChangeKind.deleted });
      continue;
    }
    out.push({ Path: utf8(rel), Kind: inImage(rel) ? ChangeKind.modified : ChangeKind.added });
  }
  return out;
}

/**
 * Without the places mounts were made on (docker keeps those in an init
 * layer below the container's): a mount target, and a directory whose
 * every change is such a place.
 */
export function withoutMountPoints(changes: readonly Change[], targets: readonly string[]): Change[] {
  const hidden = new Set(targets);
  const keep = new Array<boolean>(changes.length).fill(true);
  // Children come after their parents: from the end, a directory knows what is kept below it.
  const keptBelow = new Map<string, boolean>();
  for (let i = changes.length - 1; i >= 0; i--) {
    const { Path } = changes[i]!;
    const below = keptBelow.get(Path);
    keep[i] = !hidden.has(Path) && below !== false;
    const parent = Path.slice(0, Path.lastIndexOf('/')) || '/';
    keptBelow.set(parent, (keptBelow.get(parent) ?? false) || keep[i]!);
  }
  return changes.filter((_, i) => keep[i]);
}

export async function containerChanges(root: string, id: string): Promise<Change[]> {
  const snap = await snapshots(root);
  const info = snap.stat(snapshotKey(id));
  if (info === undefined) return [];
  const lowers = snap.lowerDirs(info.parent);
  // Nearest layer first: a name present in any of them is in the image (overlay's whiteouts between layers aside).
  const inImage = (rel: string): boolean => lowers.some((l) => existsSync(join(l, Buffer.from(rel, 'latin1').toString())));
  const fsFd = openDir(snap.fsPath(info));
  try {
    if (snap.driver === 'overlay' || lowers[0] === undefined) return changesOf(overlayDiff(fsFd), inImage);
    const lowerFd = openDir(lowers[0]);
    try {
      return changesOf(treeDiff(lowerFd, fsFd), inImage);
    } finally {
      sys.close(lowerFd);
    }
  } finally {
    sys.close(fsFd);
  }
}
