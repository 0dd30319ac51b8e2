/**
 * Root-only: image layers as snapshots, mounted for real (overlayfs, and
 * the copying driver by bind mount). What the mount shows must be the tree
 * unpackBundle writes for the same image.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Snapshotter, applyImageLayers, detectDriver, mountImage, unmountImage, listImageMounts } from '../../../src/image/snapshot/index.ts';
import { unpackBundle } from '../../../src/image/bundle/index.ts';
import type { ImageConfig } from '../../../src/oci/image-spec.ts';
import { tarOf } from '../../unit/image/unpack/fixtures/tar-writer.ts';
import { readTree } from '../../unit/image/unpack/fixtures/tree.ts';
import { layersOf, tempDir } from '../../unit/image/unpack/helpers.ts';
import * as sys from '../../../src/sys/index.ts';
import { errnoCode } from '../../../src/errors.ts';

const T = 1_700_000_000;
const tars = [
  tarOf([
    { name: 'etc', type: 'dir', mtime: T },
    { name: 'etc/os', data: 'base\n', mtime: T },
    { name: 'etc/gone', data: 'x', mtime: T },
    { name: 'home', type: 'dir', mtime: T },
    { name: 'home/u', type: 'dir', uid: 1000, gid: 1000, mode: 0o750, mtime: T + 1 },
    { name: 'home/u/a', data: 'a', uid: 1000, gid: 1000, mtime: T + 1 },
    { name: 'opq', type: 'dir', mtime: T },
    { name: 'opq/lower', data: 'l', mtime: T },
    { name: 'dev', type: 'dir', mtime: T },
    { name: 'dev/null', type: 'char', devmajor: 1, devminor: 3, mode: 0o666, mtime: T },
  ]),
  tarOf([
    { name: 'etc/.wh.gone' },
    { name: 'opq', type: 'dir', mode: 0o700, mtime: T + 5 },
    { name: 'opq/.wh..wh..opq' },
    { name: 'opq/upper', data: 'u', mtime: T + 5 },
  ]),
  // No entry for home/ or home/u: the upper layer must inherit their metadata.
  tarOf([{ name: 'home/u/b', data: 'b', uid: 1000, gid: 1000, mtime: T + 9 }]),
];

function config(): ImageConfig {
  return { architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: layersOf(tars).map((l) => l.diffId ?? '') } };
}

// Integration tests run as root (./run-tests): no skip that could let them pass unrun.
describe('snapshots mounted (root)', () => {
  test('overlayfs is detected where a trial mount works', async (t) => {
    // Detection is what is tested: a driver forced from the environment is set aside for it.
    const forced = process.env['BERTH_SNAPSHOTTER'];
    delete process.env['BERTH_SNAPSHOTTER'];
    t.after(() => {
      if (forced !== undefined) process.env['BERTH_SNAPSHOTTER'] = forced;
    });
    const works = /\toverlay$/m.test(readFileSync('/proc/filesystems', 'utf8'));
    assert.equal(await detectDriver(tempDir(t, 'berth-snap-')), works ? 'overlay' : 'copy');
  });

  for (const driver of ['overlay', 'copy'] as const) {
    test(`${driver} driver: the mounted image is the tree unpackBundle writes; writable mounts are discarded on unmount`, async (t) => {
      const dir = tempDir(t, 'berth-snap-');
      const s = await Snapshotter.open(join(dir, 'state'), { driver });
      const layers = layersOf(tars);
      const { chainIds } = await applyImageLayers(s, layers, config().rootfs.diff_ids);
      const top = chainIds[chainIds.length - 1] ?? '';
      await unpackBundle(layersOf(tars), config(), join(dir, 'bundle'));
      const target = join(dir, 'mnt');
      mkdirSync(target);
      t.after(() => {
        try {
          sys.umount2(target, sys.MNT_DETACH);
        } catch {
          // not mounted
        }
      });

      const ro = await mountImage(s, { chainId: top, target });
      assert.equal(ro.readonly, true);
      assert.deepEqual(listImageMounts(s).map((m) => m.target), [target]);
      const mounted = readTree(target);
      const expected = readTree(join(dir, 'bundle/rootfs'));
      mounted.delete('.');
      expected.delete('.');
      assert.deepEqual(Object.fromEntries(mounted), Object.fromEntries(expected));
      assert.throws(() => writeFileSync(join(target, 'x'), 'x'), (err: unknown) => errnoCode(err) === 'EROFS');
      await unmountImage(s, target);
      assert.deepEqual(readdirSync(target), []);
      assert.deepEqual(listImageMounts(s), []);

      await mountImage(s, { chainId: top, target, writable: true });
      writeFileSync(join(target, 'scratch'), 'changed');
      await unmountImage(s, target);
      assert.deepEqual(readdirSync(target), []);
      assert.ok(s.list().every((x) => x.kind === 'committed'), 'the mount snapshot is gone');
      await mountImage(s, { chainId: top, target });
      assert.ok(!readdirSync(target).includes('scratch'), 'changes were discarded');
      await unmountImage(s, target);
    });
  }
});
