/**
 * Root-only: hostile layers through `image mount` (overlay snapshots and the
 * copying driver) against `image unpack` of the same layers. Each test builds
 * its layers in place; a mounted image must never grant more than the
 * unpacked tree, and both must show the same tree.
 */
import { describe, test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { Snapshotter, applyImageLayers, mountImage, unmountImage } from '../../../src/image/snapshot/index.ts';
import { ImageStore } from '../../../src/image/store/store.ts';
import { unpackLayers } from '../../../src/image/unpack/index.ts';
import { tarOf, type WriteEntry } from '../../unit/image/unpack/fixtures/tar-writer.ts';
import { readTree, type TreeNode } from '../../unit/image/unpack/fixtures/tree.ts';
import { layersOf, tempDir } from '../../unit/image/unpack/helpers.ts';
import { onCleanup } from '../../helpers/cleanup.ts';
import { isBerthError } from '../../../src/errors.ts';

const DRIVERS = ['overlay', 'copy'] as const;
type Driver = (typeof DRIVERS)[number];

interface Mounted {
  target: string;
  snapshotter: Snapshotter;
}

/** The layers as committed snapshots, mounted at a fresh directory (unmounted after the test). */
async function mountLayers(t: TestContext, dir: string, driver: Driver, layers: WriteEntry[][], writable = false): Promise<Mounted> {
  const snapshotter = await Snapshotter.open(join(dir, 'state'), { driver });
  const sources = layersOf(layers.map(tarOf));
  const { chainIds } = await applyImageLayers(snapshotter, sources, sources.map((l) => l.diffId ?? ''));
  const target = join(dir, 'mnt');
  mkdirSync(target);
  onCleanup(t, async () => {
    try {
      await unmountImage(snapshotter, target);
    } catch {
      // unmounted by the test
    }
  });
  await mountImage(snapshotter, { chainId: chainIds.at(-1) ?? '', target, writable });
  return { target, snapshotter };
}

async function unpackedTree(dir: string, layers: WriteEntry[][]): Promise<Record<string, TreeNode>> {
  const rootfs = join(dir, 'rootfs');
  mkdirSync(rootfs);
  await unpackLayers(rootfs, layersOf(layers.map(tarOf)));
  return comparable(readTree(rootfs));
}

function comparable(tree: Map<string, TreeNode>): Record<string, TreeNode> {
  tree.delete('.');
  // Hard-link groups: an overlay view shows its own inode numbers for copied-up files; the names of a group are compared by content.
  for (const n of tree.values()) delete n.linkGroup;
  return Object.fromEntries(tree);
}

/** The options of the mount at `target`, from mountinfo. */
function mountOptions(target: string): string[] {
  const line = readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .filter((l) => l.split(' ')[4] === target)
    .at(-1);
  assert.ok(line !== undefined, `${target} is mounted`);
  return line.split(' ')[5]?.split(',') ?? [];
}

describe('image mount of hostile layers (root)', () => {
  for (const driver of DRIVERS) {
    for (const writable of [false, true]) {
      test(`${driver} driver, ${writable ? 'writable' : 'read-only'}: privilege escalation through image mount — a setuid-root file runs without privileges (nosuid), nodev`, async (t) => {
        const dir = tempDir(t, 'berth-hostile-mount-');
        // Another user must reach the mount for the attack; the test opens the way the old 0755 store did.
        chmodSync(dir, 0o755);
        const id = readFileSync('/usr/bin/id');
        const { target } = await mountLayers(t, dir, driver, [[{ name: 'bin', type: 'dir' }, { name: 'bin/id', data: id, mode: 0o4755, uid: 0, gid: 0 }], [{ name: 'etc', type: 'dir' }]], writable);
        assert.equal(statSync(join(target, 'bin/id')).mode & 0o4000, 0o4000, 'the image keeps its setuid bit');
        assert.ok(mountOptions(target).includes('nosuid'), mountOptions(target).join(','));
        assert.ok(mountOptions(target).includes('nodev'), mountOptions(target).join(','));
        const run = spawnSync('setpriv', ['--reuid=65534', '--regid=65534', '--clear-groups', join(target, 'bin/id'), '-u'], { encoding: 'utf8' });
        assert.equal(run.status, 0, run.stderr);
        assert.equal(run.stdout.trim(), '65534', 'the setuid-root file gave no root');
      });
    }

    test(`${driver} driver: device nodes from a layer are empty files without permissions, as unpack makes them; whiteouts still hide`, async (t) => {
      const dir = tempDir(t, 'berth-hostile-mount-');
      const layers: WriteEntry[][] = [
        [{ name: 'dev', type: 'dir' }, { name: 'dev/mem', type: 'char', devmajor: 1, devminor: 1, mode: 0o666 }, { name: 'dev/sda', type: 'block', devmajor: 8, devminor: 0, mode: 0o666 }, { name: 'gone', data: 'x' }],
        [{ name: '.wh.gone' }, { name: 'dev/zero', type: 'char', devmajor: 1, devminor: 5, mode: 0o666 }],
      ];
      const { target } = await mountLayers(t, dir, driver, layers);
      const mounted = comparable(readTree(target));
      for (const name of ['dev/mem', 'dev/sda', 'dev/zero']) {
        assert.deepEqual([mounted[name]?.type, mounted[name]?.mode, mounted[name]?.size], ['file', 0, 0], name);
      }
      assert.equal(mounted['gone'], undefined);
      assert.deepEqual(mounted, await unpackedTree(dir, layers));
    });

    test(`${driver} driver: overlay xattrs from a layer (trusted.overlay.opaque, .redirect) are dropped: the mount shows the unpacked tree`, async (t) => {
      const dir = tempDir(t, 'berth-hostile-mount-');
      const layers: WriteEntry[][] = [
        [{ name: 'a', type: 'dir' }, { name: 'a/lower', data: 'kept' }, { name: 'secret', type: 'dir' }, { name: 'secret/key', data: 'k' }],
        [
          { name: 'a', type: 'dir', xattrs: { 'trusted.overlay.opaque': 'y' } },
          { name: 'b', type: 'dir', xattrs: { 'trusted.overlay.redirect': '/secret' } },
          { name: 'c', data: 'c', xattrs: { 'trusted.overlay.origin': Buffer.from([0, 1, 2]) } },
        ],
      ];
      const { target } = await mountLayers(t, dir, driver, layers);
      const mounted = comparable(readTree(target));
      assert.equal(mounted['a/lower']?.type, 'file', 'an opaque xattr from the layer hides nothing');
      assert.equal(mounted['b/key'], undefined, 'a redirect from the layer shows nothing of another directory');
      assert.deepEqual(mounted, await unpackedTree(dir, layers));
    });

    test(`${driver} driver: a hard link to a file of a lower layer is the file (image mount, as unpack)`, async (t) => {
      const dir = tempDir(t, 'berth-hostile-mount-');
      const layers: WriteEntry[][] = [
        [{ name: 'bin', type: 'dir' }, { name: 'bin/tool', data: 'the tool\n', mode: 0o755, uid: 7, gid: 8, xattrs: { 'user.k': 'v' } }],
        [{ name: 'usr', type: 'dir' }, { name: 'usr/bin', type: 'dir' }, { name: 'usr/bin/tool', type: 'hardlink', linkname: 'bin/tool' }, { name: 'bin/again', type: 'hardlink', linkname: '/bin/tool' }],
      ];
      const { target } = await mountLayers(t, dir, driver, layers);
      const mounted = comparable(readTree(target));
      assert.equal(readFileSync(join(target, 'usr/bin/tool'), 'utf8'), 'the tool\n');
      assert.equal(statSync(join(target, 'usr/bin/tool')).ino, statSync(join(target, 'bin/tool')).ino, 'one file under both names');
      assert.deepEqual(mounted, await unpackedTree(dir, layers));
    });

    test(`${driver} driver: a whiteout through a symlink has one behaviour in unpack and mount (it hides nothing behind the link)`, async (t) => {
      const dir = tempDir(t, 'berth-hostile-mount-');
      const layers: WriteEntry[][] = [
        [{ name: 'real', type: 'dir' }, { name: 'real/x', data: 'x' }, { name: 'link', type: 'symlink', linkname: 'real' }, { name: 'dangling', type: 'symlink', linkname: 'nowhere' }],
        [{ name: 'link/.wh.x' }, { name: 'dangling/.wh.y' }, { name: 'link/.wh..wh..opq' }],
      ];
      const { target } = await mountLayers(t, dir, driver, layers);
      const mounted = comparable(readTree(target));
      assert.equal(mounted['link']?.type, 'symlink', 'the link stays a link');
      assert.equal(mounted['dangling']?.type, 'symlink');
      assert.equal(mounted['real/x']?.type, 'file', 'nothing hidden through the link');
      assert.deepEqual(mounted, await unpackedTree(dir, layers));
    });


    test(`${driver} driver: entries and hard links through a lower layer's symlink (bin -> usr/bin) land where unpack puts them`, async (t) => {
      const dir = tempDir(t, 'berth-hostile-mount-');
      const layers: WriteEntry[][] = [
        [{ name: 'usr', type: 'dir' }, { name: 'usr/bin', type: 'dir' }, { name: 'usr/bin/sh', data: 'sh' }, { name: 'bin', type: 'symlink', linkname: 'usr/bin' }],
        [
          { name: 'bin/app', data: 'app' },
          { name: 'tools', type: 'symlink', linkname: '/usr/bin' },
          { name: 'tools/more', type: 'dir' },
          { name: 'tools/more/deep', data: 'deep' },
          { name: 'sh-again', type: 'hardlink', linkname: 'bin/sh' },
        ],
      ];
      const { target } = await mountLayers(t, dir, driver, layers);
      const mounted = comparable(readTree(target));
      assert.equal(mounted['bin']?.type, 'symlink', 'the lower symlink is not hidden by a directory');
      assert.equal(readFileSync(join(target, 'usr/bin/app'), 'utf8'), 'app');
      assert.equal(readFileSync(join(target, 'usr/bin/more/deep'), 'utf8'), 'deep');
      assert.equal(statSync(join(target, 'sh-again')).ino, statSync(join(target, 'usr/bin/sh')).ino);
      assert.deepEqual(mounted, await unpackedTree(dir, layers));
    });

    test(`${driver} driver: a hard link to a file a middle layer deleted (whiteout, opaque directory) is refused by mount as by unpack`, async (t) => {
      const base: WriteEntry[] = [{ name: 'd', type: 'dir' }, { name: 'd/f', data: 'f' }, { name: 'g', data: 'g' }];
      for (const [i, middle] of ([[{ name: '.wh.g' }], [{ name: 'd', type: 'dir' }, { name: 'd/.wh..wh..opq' }]] as WriteEntry[][]).entries()) {
        const dir = join(tempDir(t, 'berth-hostile-mount-'), `case-${i}`);
        mkdirSync(dir);
        const layers = [base, middle, [{ name: 'h', type: 'hardlink' as const, linkname: i === 0 ? 'g' : 'd/f' }]];
        await assert.rejects(mountLayers(t, dir, driver, layers), (err: unknown) => isBerthError(err, 'unpack.link_target'));
        await assert.rejects(unpackedTree(dir, layers), (err: unknown) => isBerthError(err, 'unpack.link_target'));
      }
    });

    test(`${driver} driver: a file through a lower layer's dangling symlink is refused by mount as by unpack`, async (t) => {
      const dir = tempDir(t, 'berth-hostile-mount-');
      const layers: WriteEntry[][] = [[{ name: 'dangling', type: 'symlink', linkname: '/nowhere' }], [{ name: 'dangling/x', data: 'x' }]];
      await assert.rejects(mountLayers(t, dir, driver, layers), (err: unknown) => isBerthError(err, 'unpack.parent'));
      await assert.rejects(unpackedTree(dir, layers), (err: unknown) => isBerthError(err, 'unpack.parent'));
    });
  }

  // The copying driver has no lower directories; overlay is where the layers stack in the mount options (writable: with upper and work dirs).
  {
    test('overlay driver: an image of 150 layers mounts (its overlay options outgrow a page)', async (t) => {
      const dir = tempDir(t, 'berth-hostile-mount-');
      const layers: WriteEntry[][] = Array.from({ length: 150 }, (_, i) => [{ name: `f${String(i).padStart(3, '0')}`, data: `${i}` }]);
      const { target } = await mountLayers(t, dir, 'overlay', layers, true);
      for (const i of [0, 75, 149]) assert.equal(readFileSync(join(target, `f${String(i).padStart(3, '0')}`), 'utf8'), `${i}`);
      assert.equal(Object.keys(comparable(readTree(target))).length, 150);
    });
  }

  test('the store\'s private directories are 0700, also those an older berth left 0755', async (t) => {
    const dir = tempDir(t, 'berth-hostile-mount-');
    const root = join(dir, 'root');
    for (const d of [root, join(root, 'snapshots'), join(root, 'image-mounts')]) mkdirSync(d, { recursive: true, mode: 0o755 });
    chmodSync(root, 0o755);
    const store = await ImageStore.open({ root });
    store.close();
    await Snapshotter.open(root, { driver: 'copy' });
    for (const d of [root, join(root, 'snapshots'), join(root, 'image-mounts')]) assert.equal(statSync(d).mode & 0o7777, 0o700, d);
    const fresh = join(dir, 'fresh');
    (await ImageStore.open({ root: fresh })).close();
    await Snapshotter.open(fresh, { driver: 'copy' });
    for (const d of [fresh, join(fresh, 'snapshots'), join(fresh, 'image-mounts')]) assert.equal(statSync(d).mode & 0o7777, 0o700, d);
  });
});
