import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { unpackBundle } from '../../../../src/image/bundle/index.ts';
import type { ImageConfig } from '../../../../src/oci/image-spec.ts';
import type { Spec } from '../../../../src/oci/runtime-spec.ts';
import { isBerthError } from '../../../../src/errors.ts';
import { tarOf, type WriteEntry } from '../unpack/fixtures/tar-writer.ts';
import { layersOf, tempDir } from '../unpack/helpers.ts';

function configFor(tars: Buffer[], user?: string): ImageConfig {
  const layers = layersOf(tars);
  return {
    architecture: 'amd64',
    os: 'linux',
    config: { Cmd: ['/bin/true'], ...(user === undefined ? {} : { User: user }) },
    rootfs: { type: 'layers', diff_ids: layers.map((l) => l.diffId ?? '') },
  };
}

async function bundle(dir: string, tars: Buffer[], user?: string): Promise<Spec> {
  await unpackBundle(layersOf(tars), configFor(tars, user), dir);
  return JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8')) as Spec;
}

const etc = (passwd: WriteEntry): Buffer => tarOf([{ name: 'etc', type: 'dir' }, passwd, { name: 'etc/group', data: 'app:x:77:\n' }]);

test('unpackBundle writes rootfs, config.json with the user from the image\'s passwd, and berth-bundle.json', async (t) => {
  const dir = join(tempDir(t), 'bundle');
  const spec = await bundle(dir, [etc({ name: 'etc/passwd', data: 'app:x:70:77::/srv:/bin/sh\n' })], 'app');
  assert.deepEqual(readdirSync(dir).sort(), ['berth-bundle.json', 'config.json', 'rootfs']);
  assert.deepEqual(spec.process?.user, { uid: 70, gid: 77, additionalGids: [] });
  assert.ok(spec.process?.env?.includes('HOME=/srv'));
  const meta = JSON.parse(readFileSync(join(dir, 'berth-bundle.json'), 'utf8')) as { layers: { diffId: string }[] };
  assert.equal(meta.layers.length, 1);
});

test('an /etc/passwd symlinked to a host path is read inside the rootfs, never from the host', async (t) => {
  const dir = tempDir(t);
  // The host's /etc/hostname holds no users; the image's own file of that name does.
  const spec = await bundle(
    join(dir, 'a'),
    [tarOf([{ name: 'etc', type: 'dir' }, { name: 'etc/hostname', data: 'app:x:4321:4321::/inside:/bin/sh\n' }, { name: 'etc/passwd', type: 'symlink', linkname: '/etc/hostname' }])],
    'app',
  );
  assert.deepEqual(spec.process?.user, { uid: 4321, gid: 4321, additionalGids: [] });
  // A target only the host has: the image has no users, so a name is unknown.
  const hostOnly = [tarOf([{ name: 'etc', type: 'dir' }, { name: 'etc/passwd', type: 'symlink', linkname: '/etc/shadow' }])];
  await assert.rejects(unpackBundle(layersOf(hostOnly), configFor(hostOnly, 'root'), join(dir, 'b')), (err: unknown) => isBerthError(err, 'image_user'));
  assert.ok(!existsSync(join(dir, 'b')), 'a failed bundle is removed');
  const loop = [tarOf([{ name: 'etc', type: 'dir' }, { name: 'etc/passwd', type: 'symlink', linkname: '/etc/passwd' }])];
  await assert.rejects(unpackBundle(layersOf(loop), configFor(loop, 'root'), join(dir, 'c')), (err: unknown) => isBerthError(err, 'image_userdb') && /symlink loop/.test(err.message));
});

test('an /etc/passwd that is a FIFO is refused instead of blocking the reader', async (t) => {
  const dir = join(tempDir(t), 'bundle');
  await assert.rejects(bundle(dir, [etc({ name: 'etc/passwd', type: 'fifo' })], 'app'), (err: unknown) => isBerthError(err, 'image_userdb') && /not a regular file/.test(err.message));
});

test('a non-empty target directory and a layer count mismatch are refused', async (t) => {
  const dir = tempDir(t);
  mkdirSync(join(dir, 'full'));
  writeFileSync(join(dir, 'full/x'), '');
  const tars = [tarOf([{ name: 'a' }])];
  await assert.rejects(unpackBundle(layersOf(tars), configFor(tars), join(dir, 'full')), (err: unknown) => isBerthError(err, 'bundle_exists'));
  await assert.rejects(unpackBundle(layersOf(tars), configFor([...tars, ...tars]), join(dir, 'b')), (err: unknown) => isBerthError(err, 'bundle_layers'));
  assert.deepEqual(readdirSync(join(dir, 'full')), ['x']);
});
