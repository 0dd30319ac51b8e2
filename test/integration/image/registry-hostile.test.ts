import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { MediaType } from '../../../src/oci/image-spec.ts';
import { digestOf } from '../../../src/image/store/digest.ts';
import { berth } from '../../helpers/registry-cli.ts';
import { answer, flood, hostileRegistry, testImage } from '../../helpers/hostile-registry.ts';
import { tempDir } from '../../helpers/registry-tmp.ts';
import { waitFor } from '../../helpers/runtime.ts';

const MiB = 1024 * 1024;
const GiB = 1024 * MiB;
const junk = Buffer.alloc(64 * 1024, 0x20);

test('unbounded memory from a registry: a 1.5 GiB config is refused on its declared size, before it is fetched', async (t) => {
  const img = testImage({ configSize: 1.5 * GiB });
  const reg = await hostileRegistry(t, { [img.manifestPath]: answer(img.manifest, MediaType.OciManifest), [img.configPath]: (_req, res) => flood(res.writeHead(200), junk) });
  const r = await berth('--root', join(tempDir(t), 'root'), '--quiet', 'pull', `${reg.host}/app:v1`);
  assert.notEqual(r.code, 0);
  assert.match(r.stderr, /^berth: docker:\/\/127\.0\.0\.1:\d+\/app:v1: config sha256:[0-9a-f]{64}: 1\.5 GiB, over the limit of 4 MiB$/m);
  assert.equal(reg.hits.get(img.configPath), undefined, 'the config was never asked for');
});

test('unbounded memory from a registry: a config that goes on past its declared size is cut off there, with or without Content-Length', async (t) => {
  const img = testImage();
  for (const declared of [String(1.5 * GiB), undefined]) {
    const reg = await hostileRegistry(t, {
      [img.manifestPath]: answer(img.manifest, MediaType.OciManifest),
      [img.configPath]: (_req, res) => flood(res.writeHead(200, declared === undefined ? {} : { 'content-length': declared }), Buffer.concat([img.config, junk])),
    });
    const r = await berth('--root', join(tempDir(t), 'root'), '--quiet', 'pull', `${reg.host}/app:v1`);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, new RegExp(`config sha256:[0-9a-f]{64}: more than the ${img.config.length} bytes declared`), `Content-Length ${declared}`);
    await waitFor('the client to close the connection', () => reg.cutOff.has(img.configPath) || undefined);
  }
});

test('unbounded memory from a registry: manifests over 4 MiB are refused by their Content-Length, or cut off at 4 MiB without one; an index entry over 4 MiB is not fetched', async (t) => {
  const big = await hostileRegistry(t, { '/v2/app/manifests/v1': (_req, res) => flood(res.writeHead(200, { 'content-type': MediaType.OciManifest, 'content-length': String(5 * MiB) }), junk) });
  let r = await berth('--root', join(tempDir(t), 'root'), '--quiet', 'pull', `${big.host}/app:v1`);
  assert.match(r.stderr, /manifest 127\.0\.0\.1:\d+\/app:v1: 5 MiB, over the limit of 4 MiB/);

  const chunked = await hostileRegistry(t, { '/v2/app/manifests/v1': (_req, res) => flood(res.writeHead(200, { 'content-type': MediaType.OciManifest }), junk) });
  r = await berth('--root', join(tempDir(t), 'root'), '--quiet', 'pull', `${chunked.host}/app:v1`);
  assert.match(r.stderr, /manifest 127\.0\.0\.1:\d+\/app:v1: more than the limit of 4 MiB/);
  await waitFor('the client to close the connection', () => chunked.cutOff.has('/v2/app/manifests/v1') || undefined);

  const child = digestOf('a manifest too large to ask for');
  const index = Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: MediaType.OciIndex, manifests: [{ mediaType: MediaType.OciManifest, digest: child, size: 5 * MiB, platform: { os: 'linux', architecture: 'amd64' } }] }));
  const indexed = await hostileRegistry(t, { '/v2/app/manifests/v1': answer(index, MediaType.OciIndex) });
  r = await berth('--root', join(tempDir(t), 'root'), '--quiet', 'pull', '--platform', 'linux/amd64', `${indexed.host}/app:v1`);
  assert.match(r.stderr, new RegExp(`app:v1@${child}: 5 MiB, over the limit of 4 MiB`));
  assert.equal(indexed.hits.get(`/v2/app/manifests/${child}`), undefined);
});

test('a layer that goes on past its declared size is cut off and not stored', async (t) => {
  const img = testImage();
  const reg = await hostileRegistry(t, {
    [img.manifestPath]: answer(img.manifest, MediaType.OciManifest),
    [img.configPath]: answer(img.config),
    [img.layerPath]: (_req, res) => flood(res.writeHead(200), Buffer.concat([img.layer, junk])),
  });
  const root = join(tempDir(t), 'root');
  const r = await berth('--root', root, '--quiet', 'pull', `${reg.host}/app:v1`);
  assert.notEqual(r.code, 0);
  assert.match(r.stderr, new RegExp(`blob ${digestOf(img.layer)}: more than the ${img.layer.length} bytes declared`));
  await waitFor('the client to close the connection', () => reg.cutOff.has(img.layerPath) || undefined);
  const images = await berth('--root', root, 'images', '--json');
  assert.deepEqual(JSON.parse(images.stdout), []);
});
