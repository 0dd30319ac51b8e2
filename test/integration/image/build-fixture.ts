/**
 * What the build tests share: a store with a busybox base image made by
 * `berth import` of the busybox-static rootfs the runtime tests use, a
 * context directory, the `berth` command run in-process against that
 * store, and a census of what a build could leave behind (mounts, active
 * snapshots, containers, cgroups, work directories).
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import { berth, berthOk, type CliResult } from '../../helpers/registry-cli.ts';
import { makeRootfs, RuntimeFixture } from '../../helpers/runtime.ts';
import { ImageStore } from '../../../src/image/store/store.ts';
import * as sys from '../../../src/sys/index.ts';

export interface BuildFixture {
  dir: string;
  /** The store's data root (--root). */
  root: string;
  context: string;
  runtime: RuntimeFixture;
  berth(...args: string[]): Promise<CliResult>;
  berthOk(...args: string[]): Promise<CliResult>;
  /** Writes files into the context (paths relative to it); mtimes fixed so layers are comparable. */
  write(files: Record<string, string>, mode?: number): void;
  /** Sets the time of everything in the context (directories included) to FIXED_MTIME. */
  fixTimes(): void;
  withStore<T>(fn: (store: ImageStore) => Promise<T> | T): Promise<T>;
}

export const FIXED_MTIME = 1_500_000_000;

function mountsUnder(dir: string): string[] {
  return readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .map((l) => l.split(' ')[4] ?? '')
    .filter((m) => m === dir || m.startsWith(`${dir}/`));
}

/** A temporary directory whose leftover mounts (a failed test's) are detached before it is removed. */
export function buildTempDir(t: TestContext): string {
  const dir = mkdtempSync(join(tmpdir(), 'berth-build-'));
  t.after(() => {
    for (const m of mountsUnder(dir).reverse()) sys.umount2(m, sys.MNT_DETACH);
    rmSync(dir, { recursive: true, force: true });
  });
  return dir;
}

export async function buildFixture(t: TestContext, baseExtras: Record<string, string> = {}): Promise<BuildFixture> {
  const dir = buildTempDir(t);
  const root = join(dir, 'root');
  const context = join(dir, 'context');
  mkdirSync(context);
  const rootfs = makeRootfs(join(dir, 'base'));
  for (const [path, content] of Object.entries(baseExtras)) {
    mkdirSync(join(rootfs, path, '..'), { recursive: true });
    writeFileSync(join(rootfs, path), content);
  }
  const runtime = new RuntimeFixture(t);
  await berthOk('--root', root, '--quiet', 'import', rootfs, 'busybox');
  const f: BuildFixture = {
    dir,
    root,
    context,
    runtime,
    berth: (...args) => berth('--root', root, ...args),
    berthOk: (...args) => berthOk('--root', root, ...args),
    write(files, mode) {
      for (const [path, content] of Object.entries(files)) {
        const full = join(context, path);
        mkdirSync(join(full, '..'), { recursive: true });
        writeFileSync(full, content, mode === undefined ? {} : { mode });
        utimesSync(full, FIXED_MTIME, FIXED_MTIME);
      }
    },
    fixTimes() {
      const walk = (d: string): void => {
        for (const e of readdirSync(d, { withFileTypes: true })) {
          if (e.isDirectory()) walk(join(d, e.name));
          if (!e.isSymbolicLink()) utimesSync(join(d, e.name), FIXED_MTIME, FIXED_MTIME);
        }
      };
      walk(context);
    },
    async withStore(fn) {
      const store = await ImageStore.open({ root });
      try {
        return await fn(store);
      } finally {
        store.close();
      }
    },
  };
  return f;
}

export interface Leftovers {
  mounts: string[];
  /** Snapshots that are not committed layers (a step's or a view's). */
  active: string[];
  containers: string[];
  cgroups: string[];
  work: string[];
}

/** What a build may leave behind under the store root; all empty when it cleaned up. */
export function leftovers(root: string): Leftovers {
  const meta = join(root, 'snapshots', 'metadata.json');
  const snapshots = existsSync(meta) ? (JSON.parse(readFileSync(meta, 'utf8')) as { snapshots: Record<string, { kind: string }> }).snapshots : {};
  const list = (d: string): string[] => (existsSync(d) ? readdirSync(d) : []);
  const cgroups: string[] = [];
  for (const ctrl of list('/sys/fs/cgroup')) {
    for (const name of list(join('/sys/fs/cgroup', ctrl, 'berth'))) if (name.startsWith(`build-${process.pid}-`)) cgroups.push(join(ctrl, name));
  }
  return {
    mounts: mountsUnder(root),
    active: Object.entries(snapshots)
      .filter(([, s]) => s.kind !== 'committed')
      .map(([k]) => k),
    containers: list(join(root, 'build', 'runtime')),
    cgroups,
    work: list(join(root, 'build', 'work')),
  };
}

export const NOTHING_LEFT: Leftovers = { mounts: [], active: [], containers: [], cgroups: [], work: [] };

/** A gzipped tar of `files` (made with the system tar, so ADD reads an archive nobody here wrote). */
export function makeTarball(dir: string, name: string, files: Record<string, string>, compress: 'gzip' | 'none' | 'zstd'): string {
  const src = mkdtempSync(join(dir, 'tar-src-'));
  for (const [path, content] of Object.entries(files)) {
    mkdirSync(join(src, path, '..'), { recursive: true });
    writeFileSync(join(src, path), content);
  }
  const out = join(dir, name);
  const flag = compress === 'gzip' ? ['-z'] : compress === 'zstd' ? ['--zstd'] : [];
  execFileSync('tar', ['-c', ...flag, '-f', out, '--owner=123', '--group=456', `--mtime=@${FIXED_MTIME}`, '--sort=name', '-C', src, '.']);
  rmSync(src, { recursive: true, force: true });
  return out;
}
