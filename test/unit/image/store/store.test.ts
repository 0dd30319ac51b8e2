import assert from 'node:assert/strict';
import { test, type TestContext } from 'node:test';
import { DatabaseSync } from 'node:sqlite';
import { join } from 'node:path';
import { isBerthError } from '../../../../src/errors.ts';
import { MediaType } from '../../../../src/oci/image-spec.ts';
import { digestOf } from '../../../../src/image/store/digest.ts';
import { prune } from '../../../../src/image/store/gc.ts';
import { ImageStore } from '../../../../src/image/store/store.ts';
import { IMAGE_SCHEMA_VERSION } from '../../../../src/image/store/db.ts';
import { tempDir } from '../../../helpers/registry-tmp.ts';

async function openStore(t: TestContext, defaults = {}): Promise<ImageStore> {
  const store = await ImageStore.open({ root: tempDir(t), defaults });
  t.after(() => store.close());
  return store;
}

/** Writes a one-layer image's blobs (layer, config, manifest) into the store. */
async function writeImage(store: ImageStore, seed: string): Promise<{ manifestDigest: string; configDigest: string; layerDigest: string }> {
  const layer = Buffer.from(`layer ${seed}`);
  const l = await store.content.writeBlob(layer);
  const config = Buffer.from(
    JSON.stringify({ architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: [digestOf(`diff ${seed}`)] }, created: '2024-01-02T03:04:05Z' }),
  );
  const c = await store.content.writeBlob(config);
  const manifest = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: MediaType.OciManifest,
      config: { mediaType: MediaType.OciConfig, digest: c.digest, size: c.size },
      layers: [{ mediaType: MediaType.OciLayer, digest: l.digest, size: l.size }],
    }),
  );
  const m = await store.content.writeBlob(manifest);
  return { manifestDigest: m.digest, configDigest: c.digest, layerDigest: l.digest };
}

test('the image tables carry their own schema version and reopen cleanly', async (t) => {
  const root = tempDir(t);
  (await ImageStore.open({ root })).close();
  const again = await ImageStore.open({ root });
  again.close();
  const db = new DatabaseSync(join(root, 'berth.db'));
  t.after(() => db.close());
  assert.equal(db.prepare('SELECT version FROM image_schema').get()?.['version'], IMAGE_SCHEMA_VERSION);
  assert.equal(db.prepare('PRAGMA journal_mode').get()?.['journal_mode'], 'wal');
  const tables = db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name").all().map((r) => r['name']);
  assert.ok(tables.every((n) => String(n).startsWith('image_')), `tables: ${tables.join(', ')}`);
});

test('a newer schema than this berth knows is refused, not clobbered', async (t) => {
  const root = tempDir(t);
  (await ImageStore.open({ root })).close();
  const db = new DatabaseSync(join(root, 'berth.db'));
  db.prepare('UPDATE image_schema SET version = 99').run();
  db.close();
  await assert.rejects(ImageStore.open({ root }), (err) => isBerthError(err, 'image_schema_too_new'));
});

test('commitImage records layers with diffIDs and names; resolve finds it every way', async (t) => {
  const store = await openStore(t);
  const { manifestDigest, configDigest, layerDigest } = await writeImage(store, 'one');
  const rec = await store.commitImage({
    manifestDigest,
    manifestMediaType: MediaType.OciManifest,
    names: ['127.0.0.1:5000/team/app:v1', 'busybox'],
    repoDigests: [`127.0.0.1:5000/team/app@${manifestDigest}`],
  });
  assert.equal(rec.id, configDigest);
  assert.deepEqual(rec.names, ['127.0.0.1:5000/team/app:v1', 'localhost/busybox:latest']);
  assert.equal(rec.layers.length, 1);
  assert.equal(rec.layers[0]?.digest, layerDigest);
  assert.equal(rec.layers[0]?.diffId, digestOf('diff one'));
  assert.equal(rec.created, '2024-01-02T03:04:05Z');
  for (const q of ['busybox', 'busybox:latest', 'localhost/busybox', configDigest, configDigest.slice(7, 19), manifestDigest,
    `127.0.0.1:5000/team/app@${manifestDigest}`, '127.0.0.1:5000/team/app:v1']) {
    assert.equal(store.resolve(q).id, configDigest, q);
  }
  assert.throws(() => store.resolve('127.0.0.1:5000/team/app:v2'), (err) => isBerthError(err, 'image_not_found'));
  assert.equal((await store.readConfig(rec)).os, 'linux');
  assert.equal((await store.readManifest(rec)).layers.length, 1);
});

test('with a default registry configured, bare names resolve there first, then under localhost/', async (t) => {
  const store = await openStore(t, { registry: 'registry.test:5000', officialNamespace: 'library' });
  const a = await writeImage(store, 'a');
  const b = await writeImage(store, 'b');
  await store.commitImage({ manifestDigest: a.manifestDigest, manifestMediaType: MediaType.OciManifest, names: ['localhost/tool'] });
  assert.equal(store.resolve('tool').id, a.configDigest);
  await store.commitImage({ manifestDigest: b.manifestDigest, manifestMediaType: MediaType.OciManifest, names: ['tool'] });
  assert.deepEqual(store.resolve('tool').names, ['registry.test:5000/library/tool:latest']);
});

test('a tag moves between images; untagging leaves a dangling image that prune removes with its blobs', async (t) => {
  const store = await openStore(t);
  const a = await writeImage(store, 'a');
  const b = await writeImage(store, 'b');
  await store.commitImage({ manifestDigest: a.manifestDigest, manifestMediaType: MediaType.OciManifest, names: ['app:1'] });
  await store.commitImage({ manifestDigest: b.manifestDigest, manifestMediaType: MediaType.OciManifest, names: ['app:2'] });
  assert.equal(store.tag('app:2', 'app:1'), 'localhost/app:1');
  assert.equal(store.resolve('app:1').id, b.configDigest);
  assert.deepEqual(store.get(a.configDigest)?.names, []);

  const leftover = await store.content.writeBlob(Buffer.from('orphan'));
  const lease = store.lease();
  const leased = await store.content.writeBlob(Buffer.from('in flight'));
  lease.add(leased.digest);

  const result = await prune(store);
  assert.deepEqual(result.images, [a.configDigest]);
  assert.deepEqual(result.blobs.sort(), [a.manifestDigest, a.configDigest, a.layerDigest, leftover.digest].sort());
  assert.equal(await store.content.info(b.layerDigest) !== undefined, true, 'blobs of a named image stay');
  assert.equal(await store.content.info(leased.digest) !== undefined, true, 'leased blobs stay');
  lease.release();
  assert.deepEqual((await prune(store)).blobs, [leased.digest]);
});

test('commitImage refuses a manifest whose layers and diff_ids disagree', async (t) => {
  const store = await openStore(t);
  const c = await store.content.writeBlob(Buffer.from(JSON.stringify({ architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: [] } })));
  const l = await store.content.writeBlob(Buffer.from('l'));
  const m = await store.content.writeBlob(
    Buffer.from(JSON.stringify({ schemaVersion: 2, config: { mediaType: MediaType.OciConfig, digest: c.digest, size: c.size }, layers: [{ mediaType: MediaType.OciLayer, digest: l.digest, size: 1 }] })),
  );
  await assert.rejects(store.commitImage({ manifestDigest: m.digest, manifestMediaType: MediaType.OciManifest }), (err) => isBerthError(err, 'layer_count_mismatch'));
  assert.deepEqual(store.list(), []);
});

test('digest-only references cannot be tags', async (t) => {
  const store = await openStore(t);
  assert.throws(() => store.canonicalTagged(`app@${digestOf('x')}`), (err) => isBerthError(err, 'invalid_tag'));
});
