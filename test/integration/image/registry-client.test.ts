import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { describe, test } from 'node:test';
import { gzipSync } from 'node:zlib';
import { isBerthError } from '../../../src/errors.ts';
import { MediaType } from '../../../src/oci/image-spec.ts';
import { RegistryClient } from '../../../src/image/registry/client.ts';
import { digestOf } from '../../../src/image/store/digest.ts';
import { withRegistry } from '../../helpers/registry.ts';
import { withTokenServer } from '../../helpers/registry-token.ts';

function blob(text: string): { data: Buffer; digest: string; size: number } {
  const data = gzipSync(Buffer.from(text));
  return { data, digest: digestOf(data), size: data.length };
}

async function readAll(stream: AsyncIterable<unknown>): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of stream) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

/** Pushes a config and one layer and a manifest tagged `tag`; returns the manifest digest. */
async function pushImage(client: RegistryClient, repo: string, tag: string, layerText: string): Promise<{ digest: string; layer: ReturnType<typeof blob> }> {
  const layer = blob(layerText);
  const config = Buffer.from(JSON.stringify({ architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: [digestOf(layerText)] } }));
  await client.uploadBlob(repo, layer, () => Promise.resolve(Readable.from([layer.data])));
  await client.uploadBlob(repo, { digest: digestOf(config), size: config.length }, () => Promise.resolve(Readable.from([config])));
  const manifest = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: MediaType.OciManifest,
      config: { mediaType: MediaType.OciConfig, digest: digestOf(config), size: config.length },
      layers: [{ mediaType: MediaType.OciLayerGzip, digest: layer.digest, size: layer.size }],
    }),
  );
  const digest = await client.putManifest(repo, tag, manifest, MediaType.OciManifest);
  assert.equal(digest, digestOf(manifest));
  return { digest, layer };
}

describe('registry client against docker-registry on loopback', () => {
  test('monolithic push, then pull of manifest and blob by tag and digest', async (t) => {
    const reg = await withRegistry(t);
    const client = new RegistryClient({ registry: reg.host });
    const { digest, layer } = await pushImage(client, 'team/app', 'v1', 'hello layer');
    const byTag = await client.getManifest('team/app', 'v1');
    assert.equal(byTag.digest, digest);
    assert.equal(byTag.mediaType, MediaType.OciManifest);
    assert.equal((await client.getManifest('team/app', digest)).digest, digest);
    assert.deepEqual(await client.headManifest('team/app', 'v1'), { digest, mediaType: MediaType.OciManifest, size: byTag.bytes.length });
    const got = await client.getBlob('team/app', layer.digest);
    assert.deepEqual(await readAll(got.stream), layer.data);
    assert.deepEqual(await client.listTags('team/app'), ['v1']);
  });

  test('a ranged blob read resumes at the offset', async (t) => {
    const reg = await withRegistry(t);
    const client = new RegistryClient({ registry: reg.host });
    const { layer } = await pushImage(client, 'app', 'v1', 'x'.repeat(5000));
    const part = await client.getBlob('app', layer.digest, 10);
    assert.equal(part.offset, 10);
    assert.deepEqual(await readAll(part.stream), layer.data.subarray(10));
  });

  test('chunked upload of a blob larger than the chunk size', async (t) => {
    const reg = await withRegistry(t);
    const client = new RegistryClient({ registry: reg.host });
    const data = Buffer.alloc(200_000);
    for (let i = 0; i < data.length; i++) data[i] = (i * 7919) & 0xff;
    const b = { digest: digestOf(data), size: data.length };
    const pieces = [data.subarray(0, 70_000), data.subarray(70_000, 70_001), data.subarray(70_001)];
    await client.uploadBlob('chunky', b, () => Promise.resolve(Readable.from(pieces)), { chunkSize: 65_536 });
    assert.equal(await client.blobSize('chunky', b.digest), data.length);
    assert.deepEqual(await readAll((await client.getBlob('chunky', b.digest)).stream), data);
  });

  test('cross-repository mount links a blob without uploading it', async (t) => {
    const reg = await withRegistry(t);
    const client = new RegistryClient({ registry: reg.host });
    const { layer } = await pushImage(client, 'source/app', 'v1', 'shared layer');
    assert.equal(await client.blobSize('target/app', layer.digest), undefined);
    assert.equal(await client.mountBlob('target/app', layer.digest, 'source/app'), true);
    assert.equal(await client.blobSize('target/app', layer.digest), layer.size);
  });

  test('a digest the registry does not have is a not-found error naming it', async (t) => {
    const reg = await withRegistry(t);
    const client = new RegistryClient({ registry: reg.host });
    const missing = digestOf('nothing');
    await assert.rejects(client.getManifest('nope', 'latest'), (err) => isBerthError(err) && err.kind === 'not_found' && /nope:latest/.test(err.message));
    await assert.rejects(client.getBlob('nope', missing), (err) => isBerthError(err) && err.kind === 'not_found' && err.message.includes(missing));
  });

  test('a blob upload whose content does not match its digest is refused by the registry', async (t) => {
    const reg = await withRegistry(t);
    const client = new RegistryClient({ registry: reg.host });
    const wrong = { digest: digestOf('expected'), size: 5 };
    await assert.rejects(
      client.uploadBlob('app', wrong, () => Promise.resolve(Readable.from([Buffer.from('other')]))),
      (err) => isBerthError(err, 'registry_rejected') && /DIGEST_INVALID/.test(err.message),
    );
  });
});

describe('registry client with htpasswd basic auth', () => {
  test('credentials are sent after the Basic challenge; wrong or none are refused', async (t) => {
    const reg = await withRegistry(t, { htpasswd: { users: { alice: 's3cret' } } });
    const good = new RegistryClient({ registry: reg.host, credentials: { username: 'alice', password: 's3cret' } });
    await good.ping();
    const { digest } = await pushImage(good, 'private/app', 'v1', 'basic');
    assert.equal((await good.getManifest('private/app', 'v1')).digest, digest);
    const bad = new RegistryClient({ registry: reg.host, credentials: { username: 'alice', password: 'nope' } });
    await assert.rejects(bad.getManifest('private/app', 'v1'), (err) => isBerthError(err, 'registry_unauthorized'));
    const anonymous = new RegistryClient({ registry: reg.host });
    await assert.rejects(anonymous.ping(), (err) => isBerthError(err, 'registry_unauthorized'));
  });
});

describe('registry client behind a token server', () => {
  test('the Bearer flow asks for the scopes each operation needs', async (t) => {
    const tokens = await withTokenServer(t, { users: { bob: 'pw' }, anonymousPull: ['public/app'] });
    const reg = await withRegistry(t, { token: tokens });
    const client = new RegistryClient({ registry: reg.host, credentials: { username: 'bob', password: 'pw' } });
    const { digest, layer } = await pushImage(client, 'public/app', 'v1', 'token layer');
    assert.ok(tokens.requests.some((r) => r.user === 'bob' && r.scopes.includes('repository:public/app:pull,push')));

    assert.equal(await client.mountBlob('other/app', layer.digest, 'public/app'), true);
    assert.ok(tokens.requests.some((r) => r.scopes.includes('repository:other/app:pull,push') && r.scopes.includes('repository:public/app:pull')));

    const anonymous = new RegistryClient({ registry: reg.host });
    assert.equal((await anonymous.getManifest('public/app', 'v1')).digest, digest);
    await assert.rejects(anonymous.getManifest('other/app', 'latest'), (err) => isBerthError(err, 'registry_unauthorized'));

    const wrong = new RegistryClient({ registry: reg.host, credentials: { username: 'bob', password: 'bad' } });
    await assert.rejects(wrong.getManifest('public/app', 'v1'), (err) => isBerthError(err, 'registry_unauthorized') && /token server/.test(err.message));
  });
});
