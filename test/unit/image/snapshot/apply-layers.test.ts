import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { Snapshotter, applyImageLayers } from '../../../../src/image/snapshot/index.ts';
import { tarOf } from '../unpack/fixtures/tar-writer.ts';
import { layersOf, tempDir } from '../unpack/helpers.ts';

const base = tarOf([{ name: 'etc', type: 'dir' }, { name: 'etc/os', data: 'base\n' }, { name: 'etc/old', data: 'old\n' }]);
const app = tarOf([{ name: 'etc/.wh.old' }, { name: 'app', data: 'app\n' }]);
const other = tarOf([{ name: 'other', data: 'other\n' }]);

test('copy driver: layers become committed snapshots by chain ID, shared between images', async (t) => {
  const root = tempDir(t);
  const s = await Snapshotter.open(root, { driver: 'copy' });
  const one = layersOf([base, app]);
  const r1 = await applyImageLayers(s, one, one.map((l) => l.diffId ?? ''));
  assert.equal(r1.unpacked, 2);
  const top = s.stat(r1.chainIds[1] ?? '');
  assert.equal(top?.kind, 'committed');
  assert.equal(top?.parent, r1.chainIds[0]);
  const fs = s.fsPath(top ?? { key: '', kind: 'committed', id: '', created: '' });
  assert.deepEqual(readdirSync(fs).sort(), ['app', 'etc']);
  assert.deepEqual(readdirSync(join(fs, 'etc')), ['os'], 'the whiteout applied to the copy');
  // A second image on the same base unpacks only its own layer.
  const two = layersOf([base, other]);
  const r2 = await applyImageLayers(s, two, two.map((l) => l.diffId ?? ''));
  assert.equal(r2.unpacked, 1);
  assert.equal(r2.chainIds[0], r1.chainIds[0]);
  assert.equal(s.list().length, 3);
  assert.ok(s.list().every((x) => x.kind === 'committed'), 'no extraction snapshot left behind');
});

test('a layer that fails leaves no snapshot behind', async (t) => {
  const root = tempDir(t);
  const s = await Snapshotter.open(root, { driver: 'overlay' });
  const bad = layersOf([tarOf([{ name: '../escape', data: 'x' }])]);
  await assert.rejects(applyImageLayers(s, bad, bad.map((l) => l.diffId ?? '')), /path escapes the root/);
  assert.deepEqual(s.list(), []);
  assert.deepEqual(readdirSync(join(root, 'snapshots')).filter((n) => !n.startsWith('metadata')), []);
  assert.ok(!existsSync(join(root, 'snapshots/1')));
});
