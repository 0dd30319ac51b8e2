/**
 * berth against umoci: one OCI layout whose layers cover whiteouts, opaque
 * directories, hard links, symlinks, devices, modes, owners, xattrs and
 * mtimes, unpacked by `umoci unpack` and by berth's unpackBundle; the two
 * rootfs trees must be the same. Then runc runs the bundle berth wrote.
 * Root only (umoci creates devices and sets owners as root).
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { createReadStream, mkdtempSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { unpackBundle } from '../../src/image/bundle/index.ts';
import type { ImageConfig } from '../../src/oci/image-spec.ts';
import type { Spec } from '../../src/oci/runtime-spec.ts';
import { OciLayoutWriter, type LayoutImage } from '../unit/image/unpack/fixtures/oci-layout.ts';
import type { WriteEntry } from '../unit/image/unpack/fixtures/tar-writer.ts';
import { readTree, type TreeNode } from '../unit/image/unpack/fixtures/tree.ts';
import { onCleanup } from '../helpers/cleanup.ts';
import { tempDir } from '../unit/image/unpack/helpers.ts';

const T = 1_650_000_000;

async function buildImage(dir: string): Promise<LayoutImage> {
  const w = new OciLayoutWriter(dir);
  const busybox = readFileSync('/bin/busybox');
  const base: WriteEntry[] = [
    { name: 'bin', type: 'dir', mtime: T },
    { name: 'bin/busybox', data: busybox, mode: 0o755, mtime: T },
    ...['sh', 'echo', 'cat', 'id', 'ls', 'stat'].map((n): WriteEntry => ({ name: `bin/${n}`, type: 'symlink', linkname: 'busybox', mtime: T })),
    { name: 'etc', type: 'dir', mtime: T + 1 },
    { name: 'etc/passwd', data: 'root:x:0:0:root:/root:/bin/sh\napp:x:1234:2345:app:/home/app:/bin/sh\n', mtime: T + 2 },
    { name: 'etc/group', data: 'root:x:0:\napp:x:2345:\nextra:x:3456:app\n', mtime: T + 2 },
    { name: 'home', type: 'dir', mtime: T + 3 },
    { name: 'home/app', type: 'dir', uid: 1234, gid: 2345, mode: 0o750, mtime: T + 4 },
    { name: 'home/app/notes', data: 'owned\n', uid: 1234, gid: 2345, mode: 0o640, mtime: { sec: T + 5, nsec: 123_000_000 } },
    { name: 'tmp', type: 'dir', mode: 0o1777, mtime: T + 6 },
    { name: 'usr', type: 'dir', mtime: T + 7 },
    { name: 'usr/bin', type: 'dir', mtime: T + 7 },
    { name: 'usr/bin/su', data: 'setuid', mode: 0o4755, mtime: T + 8 },
    { name: 'usr/bin/wall', data: 'setgid', mode: 0o2755, gid: 5, mtime: T + 8 },
    { name: 'usr/bin/hard', type: 'hardlink', linkname: 'usr/bin/su' },
    { name: 'usr/lib', type: 'dir', mtime: T + 9 },
    { name: 'usr/lib/data', data: Buffer.alloc(300_000, 0x5a), mtime: T + 9, xattrs: { 'user.note': 'kept', 'trusted.bin': Buffer.from([0, 1, 254, 255]) } },
    { name: 'usr/lib/abs-link', type: 'symlink', linkname: '/usr/lib/data', uid: 1234, gid: 2345, mtime: T + 10 },
    { name: 'dev', type: 'dir', mtime: T + 11 },
    { name: 'dev/null', type: 'char', devmajor: 1, devminor: 3, mode: 0o666, mtime: T + 11 },
    { name: 'dev/loop9', type: 'block', devmajor: 7, devminor: 9, mode: 0o660, gid: 6, mtime: T + 11 },
    { name: 'dev/fifo', type: 'fifo', mode: 0o620, mtime: T + 11 },
    { name: 'old', type: 'dir', mtime: T + 12 },
    { name: 'old/a', data: 'a' },
    { name: 'old/sub', type: 'dir', mtime: T + 12 },
    { name: 'old/sub/b', data: 'b' },
    { name: 'opq', type: 'dir', mtime: T + 13 },
    { name: 'opq/lower', data: 'lower' },
    { name: 'gone', data: 'gone' },
    { name: 'replaced', data: 'file' },
  ];
  await w.addLayer(base);
  await w.addLayer([
    { name: '.wh.gone' },
    { name: 'old/.wh.sub' },
    { name: 'opq', type: 'dir', mode: 0o700, mtime: T + 20 },
    { name: 'opq/.wh..wh..opq' },
    { name: 'opq/upper', data: 'upper', mtime: T + 21 },
    { name: 'replaced', type: 'dir', mtime: T + 22 },
    { name: 'replaced/inside', data: 'x', mtime: T + 22 },
    { name: 'usr/lib/data', data: 'rewritten', mtime: T + 23, xattrs: { 'user.note': 'new' } },
  ]);
  await w.addLayer([{ name: 'home/app/later', data: 'third layer\n', uid: 1234, gid: 2345, mtime: T + 30 }], 'gzip');
  return w.finish('compat', {
    Cmd: ['/bin/sh', '-c', 'echo hello from berth; id -u; id -g; cat /home/app/later; ls /replaced'],
    Env: ['PATH=/bin:/usr/bin', 'GREETING=hi'],
    WorkingDir: '/home/app',
    User: 'app',
  });
}

function imageConfig(image: LayoutImage): ImageConfig {
  return JSON.parse(readFileSync(join(image.dir, 'blobs/sha256', image.configDigest.slice(7)), 'utf8')) as ImageConfig;
}

async function berthUnpack(image: LayoutImage, bundle: string): Promise<void> {
  await unpackBundle(
    image.layers.map((l) => ({ digest: l.digest, mediaType: l.mediaType, open: () => createReadStream(l.path) })),
    imageConfig(image),
    bundle,
    // umoci creates device nodes as root; berth does when asked (its default leaves empty files).
    { devices: 'create' },
  );
}

function comparable(tree: Map<string, TreeNode>): Record<string, TreeNode> {
  tree.delete('.'); // the root's times are its mkdir's in both tools
  return Object.fromEntries(tree);
}

// scripts/install.sh --test installs umoci and runc; compat tests run as root. A missing tool fails, it does not skip.
describe('unpack compared with umoci (root)', () => {
  test('berth and umoci unpack the same image to the same tree', async (t) => {
    const dir = tempDir(t, 'berth-compat-');
    const image = await buildImage(join(dir, 'layout'));
    execFileSync('umoci', ['unpack', '--image', `${image.dir}:compat`, join(dir, 'umoci')], { stdio: 'pipe' });
    await berthUnpack(image, join(dir, 'berth'));
    const options = { ignoreXattrs: ['security.selinux'] };
    const ours = comparable(readTree(join(dir, 'berth/rootfs'), options));
    const theirs = comparable(readTree(join(dir, 'umoci/rootfs'), options));
    assert.deepEqual(Object.keys(ours).sort(), Object.keys(theirs).sort(), 'same names');
    for (const [path, node] of Object.entries(theirs)) assert.deepEqual(ours[path], node, `same node at ${path}`);
    // What the layers were built to show, checked on the result itself.
    assert.equal(ours['usr/bin/hard']?.linkGroup, 'usr/bin/hard');
    assert.equal(ours['dev/loop9']?.rdev, '7:9');
    assert.equal(ours['opq/lower'], undefined);
    assert.equal(ours['old/sub'], undefined);

    const spec = JSON.parse(readFileSync(join(dir, 'berth/config.json'), 'utf8')) as Spec;
    const uspec = JSON.parse(readFileSync(join(dir, 'umoci/config.json'), 'utf8')) as Spec;
    assert.deepEqual(spec.process?.args, uspec.process?.args);
    assert.deepEqual(spec.process?.user, uspec.process?.user);
    assert.equal(spec.process?.cwd, uspec.process?.cwd);
    assert.deepEqual([...(spec.process?.env ?? [])].sort(), [...(uspec.process?.env ?? [])].sort());
    for (const [k, v] of Object.entries(spec.annotations ?? {})) assert.equal(uspec.annotations?.[k], v, `annotation ${k}`);
  });

  test('runc runs the bundle berth unpacked', async (t) => {
    const dir = tempDir(t, 'berth-compat-');
    const image = await buildImage(join(dir, 'layout'));
    const bundle = join(dir, 'bundle');
    await berthUnpack(image, bundle);
    const state = mkdtempSync(join(dir, 'runc-'));
    const id = `berth-compat-${process.pid}-${Date.now()}`;
    onCleanup(t, () => spawnSync('runc', ['--root', state, 'delete', '--force', id], { stdio: 'ignore' }));
    const run = spawnSync('runc', ['--root', state, 'run', '--bundle', bundle, id], { encoding: 'utf8', timeout: 60_000 });
    assert.equal(run.status, 0, `runc run failed: ${run.stderr}`);
    assert.equal(run.stdout, 'hello from berth\n1234\n2345\nthird layer\ninside\n');
  });
});
