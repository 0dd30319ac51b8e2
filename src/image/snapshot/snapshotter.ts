/**
 * Snapshots of layer stacks, like containerd's overlay snapshotter:
 * committed snapshots (one per chain ID, shared by every image whose layers
 * stack the same way) and active ones (a container's writable layer, or a
 * layer being unpacked) under `<root>/snapshots/<id>/fs`. `prepare` and
 * `view` return mount descriptions instead of mounting; the caller decides
 * when. With the overlay driver a snapshot's fs holds only its own layer
 * (overlay whiteouts included) and the mount stacks the parents as lower
 * dirs; with the copying driver (no overlayfs) each snapshot's fs is a full
 * copy of its parent plus its own changes, mounted by bind.
 */
import { existsSync, mkdirSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { alreadyExists, failedPrecondition, invalidArgument, notFound } from '../../errors.ts';
import { MetadataStore, type Metadata, type MountRecord } from './metadata.ts';
import { detectDriver } from './detect.ts';
import type { MountSpec, SnapshotDriver, SnapshotInfo, SnapshotKind } from './types.ts';
import { privateDir } from '../store/private-dir.ts';

/** Where `berth image mount` mounts an image by default (`<root>/image-mounts/<id>`): private like the snapshots. */
export const IMAGE_MOUNTS = 'image-mounts';

export interface SnapshotterOptions {
  /** Force a driver; detected (overlay when it works) otherwise. */
  driver?: SnapshotDriver;
}

export class Snapshotter {
  readonly root: string;
  readonly dir: string;
  readonly driver: SnapshotDriver;
  private readonly meta: MetadataStore;

  private constructor(root: string, driver: SnapshotDriver) {
    this.root = root;
    this.dir = join(root, 'snapshots');
    this.driver = driver;
    this.meta = new MetadataStore(this.dir);
  }

  /** Opens (creating) the snapshotter under `root` (e.g. /var/lib/berth). */
  static async open(root: string, options: SnapshotterOptions = {}): Promise<Snapshotter> {
    const dir = join(root, 'snapshots');
    privateDir(root);
    privateDir(dir);
    privateDir(join(root, IMAGE_MOUNTS));
    return new Snapshotter(root, options.driver ?? (await detectDriver(dir)));
  }

  /** The directory holding a snapshot's files. */
  fsPath(info: SnapshotInfo): string {
    return join(this.dir, info.id, 'fs');
  }

  stat(key: string): SnapshotInfo | undefined {
    const s = this.meta.read().snapshots[key];
    return s === undefined ? undefined : { key, ...s };
  }

  list(): SnapshotInfo[] {
    return Object.entries(this.meta.read().snapshots).map(([key, s]) => ({ key, ...s }));
  }

  /** A writable snapshot on top of committed `parent`; returns how to mount it. */
  async prepare(key: string, parent?: string, labels?: Record<string, string>): Promise<MountSpec[]> {
    const info = await this.create('active', key, parent, labels);
    return this.mountsOf(info, this.meta.read());
  }

  /** A read-only snapshot of committed `parent`. */
  async view(key: string, parent: string, labels?: Record<string, string>): Promise<MountSpec[]> {
    const info = await this.create('view', key, parent, labels);
    return this.mountsOf(info, this.meta.read());
  }

  /** How to mount an active snapshot or a view. */
  mounts(key: string): MountSpec[] {
    const m = this.meta.read();
    const s = m.snapshots[key];
    if (s === undefined) throw notFound('snapshot_not_found', `snapshot "${key}": not found`);
    if (s.kind === 'committed') throw failedPrecondition('snapshot_committed', `snapshot "${key}": committed snapshots are mounted through a view or an active snapshot`);
    return this.mountsOf({ key, ...s }, m);
  }

  /** Turns active snapshot `key` into committed snapshot `name`. */
  async commit(name: string, key: string, labels?: Record<string, string>): Promise<SnapshotInfo> {
    return this.meta.update((m) => {
      const s = m.snapshots[key];
      if (s === undefined) throw notFound('snapshot_not_found', `snapshot "${key}": not found`);
      if (s.kind !== 'active') throw failedPrecondition('snapshot_not_active', `snapshot "${key}": is ${s.kind}, only active snapshots are committed`);
      if (m.snapshots[name] !== undefined) throw alreadyExists('snapshot_exists', `snapshot "${name}": already exists`);
      delete m.snapshots[key];
      const committed = { ...s, kind: 'committed' as const, ...(labels === undefined ? {} : { labels }) };
      m.snapshots[name] = committed;
      rmSync(join(this.dir, s.id, 'work'), { recursive: true, force: true });
      return { key: name, ...committed };
    });
  }

  /** Removes a snapshot that no other snapshot has as its parent. */
  async remove(key: string): Promise<void> {
    const id = await this.meta.update((m) => {
      const s = m.snapshots[key];
      if (s === undefined) throw notFound('snapshot_not_found', `snapshot "${key}": not found`);
      const children = Object.entries(m.snapshots).filter(([, c]) => c.parent === key).map(([k]) => k);
      if (children.length > 0) {
        throw failedPrecondition('snapshot_in_use', `snapshot "${key}": is the parent of ${children.map((c) => `"${c}"`).join(', ')}`);
      }
      delete m.snapshots[key];
      return s.id;
    });
    rmSync(join(this.dir, id), { recursive: true, force: true });
  }

  /**
   * Removes the directories no snapshot names: `create` makes its directory
   * and `remove` deletes it on either side of the metadata's write, so a
   * crash between the two leaves one. Under the metadata's lock, so no
   * create is halfway meanwhile.
   */
  async sweep(): Promise<string[]> {
    return this.meta.update((m) => {
      const named = new Set(Object.values(m.snapshots).map((s) => s.id));
      const removed = readdirSync(this.dir).filter((name) => /^\d+$/.test(name) && !named.has(name));
      for (const name of removed) rmSync(join(this.dir, name), { recursive: true, force: true });
      return removed;
    });
  }

  private async create(kind: SnapshotKind, key: string, parent: string | undefined, labels?: Record<string, string>): Promise<SnapshotInfo> {
    if (key === '') throw invalidArgument('snapshot_key', 'snapshot key: empty');
    const info = await this.meta.update((m) => {
      if (m.snapshots[key] !== undefined) throw alreadyExists('snapshot_exists', `snapshot "${key}": already exists`);
      if (parent !== undefined) {
        const p = m.snapshots[parent];
        if (p === undefined) throw notFound('snapshot_not_found', `parent snapshot "${parent}": not found`);
        if (p.kind !== 'committed') throw failedPrecondition('snapshot_parent_not_committed', `parent snapshot "${parent}": is ${p.kind}, not committed`);
      }
      const id = String(m.nextId++);
      const s = { id, kind, created: new Date().toISOString(), ...(parent === undefined ? {} : { parent }), ...(labels === undefined ? {} : { labels }) };
      m.snapshots[key] = s;
      const base = join(this.dir, id);
      rmSync(base, { recursive: true, force: true });
      mkdirSync(join(base, 'fs'), { recursive: true, mode: 0o755 });
      if (this.driver === 'overlay' && kind === 'active') mkdirSync(join(base, 'work'), { mode: 0o700 });
      return { key, ...s };
    });
    if (this.driver === 'copy' && parent !== undefined && kind === 'active') {
      try {
        await this.copyParent(info, parent);
      } catch (err) {
        await this.remove(key);
        throw err;
      }
    }
    return info;
  }

  private async copyParent(info: SnapshotInfo, parent: string): Promise<void> {
    const p = this.stat(parent);
    if (p === undefined) throw notFound('snapshot_not_found', `parent snapshot "${parent}": not found`);
    const [{ Rootfs }, { copyTree }] = await Promise.all([import('../unpack/rootfs.ts'), import('./copy-tree.ts')]);
    using dest = Rootfs.open(this.fsPath(info));
    copyTree(this.fsPath(p), dest, `snapshot ${parent}`);
  }

  /** The fs directories of committed `parent` and its ancestors, nearest first. */
  lowerDirs(parent: string | undefined): string[] {
    return this.lowers(parent, this.meta.read());
  }

  /** Committed ancestors from the nearest down, as fs paths. */
  private lowers(parent: string | undefined, m: Metadata): string[] {
    const out: string[] = [];
    for (let k = parent; k !== undefined; ) {
      const s = m.snapshots[k];
      if (s === undefined) throw notFound('snapshot_not_found', `parent snapshot "${k}": not found`);
      out.push(join(this.dir, s.id, 'fs'));
      k = s.parent;
    }
    return out;
  }

  private mountsOf(info: SnapshotInfo, m: Metadata): MountSpec[] {
    const fs = this.fsPath(info);
    if (this.driver === 'copy') {
      // A view of a copy-driver parent needs no copy of its own: bind the parent read-only.
      const src = info.kind === 'view' && info.parent !== undefined ? (this.lowers(info.parent, m)[0] ?? fs) : fs;
      return [{ type: 'bind', source: src, options: [info.kind === 'view' ? 'ro' : 'rw', 'rbind'] }];
    }
    const lowers = this.lowers(info.parent, m);
    if (info.kind === 'view') {
      if (lowers.length === 1) return [{ type: 'bind', source: lowers[0] ?? fs, options: ['ro', 'rbind'] }];
      if (lowers.length === 0) return [{ type: 'bind', source: fs, options: ['ro', 'rbind'] }];
      return [{ type: 'overlay', source: 'overlay', options: [`lowerdir=${lowers.join(':')}`] }];
    }
    if (lowers.length === 0) return [{ type: 'bind', source: fs, options: ['rw', 'rbind'] }];
    return [
      {
        type: 'overlay',
        source: 'overlay',
        options: [`workdir=${join(this.dir, info.id, 'work')}`, `upperdir=${fs}`, `lowerdir=${lowers.join(':')}`],
      },
    ];
  }

  /** Image mounts recorded by mountImage. */
  listMounts(): (MountRecord & { target: string })[] {
    return Object.entries(this.meta.read().mounts ?? {}).map(([target, r]) => ({ target, ...r }));
  }

  /** Changes the mount records under the lock. */
  updateMounts<T>(change: (mounts: Record<string, MountRecord>) => T): Promise<T> {
    return this.meta.update((m) => change((m.mounts ??= {})));
  }

  /** True when the directory of a snapshot exists (for tests and repair). */
  hasFiles(key: string): boolean {
    const s = this.stat(key);
    return s !== undefined && existsSync(this.fsPath(s));
  }
}
