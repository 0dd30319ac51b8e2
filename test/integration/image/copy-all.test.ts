import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { MediaType } from '../../../src/oci/image-spec.ts';
import { RegistryClient } from '../../../src/image/registry/client.ts';
import { withRegistry } from '../../helpers/registry.ts';
import { pushMultiArch } from '../../helpers/registry-images.ts';
import { berth, berthOk } from '../../helpers/registry-cli.ts';
import { tempDir } from '../../helpers/registry-tmp.ts';

test('image copy --all carries a whole index between registries and into an OCI layout', async (t) => {
  const dir = tempDir(t);
  const reg = await withRegistry(t);
  const client = new RegistryClient({ registry: reg.host });
  const index = await pushMultiArch(client, 'multi', 'v1');
  const root = join(dir, 'root');

  await berthOk('--root', root, '--quiet', 'image', 'copy', '--all', `docker://${reg.host}/multi:v1`, `docker://${reg.host}/copied:v1`);
  const copied = await client.getManifest('copied', 'v1');
  assert.equal(copied.digest, index.digest, 'the index keeps its bytes');
  for (const e of index.entries) assert.equal((await client.getManifest('copied', e.digest)).digest, e.digest);

  const layout = join(dir, 'layout');
  await berthOk('--root', root, '--quiet', 'image', 'copy', '--all', `docker://${reg.host}/multi:v1`, `oci:${layout}:v1`);
  const entry = (JSON.parse(readFileSync(join(layout, 'index.json'), 'utf8')) as { manifests: { mediaType: string; digest: string }[] }).manifests[0];
  assert.deepEqual(entry, { mediaType: MediaType.OciIndex, digest: index.digest, size: index.bytes.length, annotations: { 'org.opencontainers.image.ref.name': 'v1' } });
  const raw = JSON.parse(execFileSync('skopeo', ['inspect', '--raw', `oci:${layout}:v1`], { encoding: 'utf8' })) as { manifests: unknown[] };
  assert.equal(raw.manifests.length, 2);
  const arm = JSON.parse(execFileSync('skopeo', ['inspect', '--override-arch', 'arm64', `oci:${layout}:v1`], { encoding: 'utf8' })) as { Architecture: string };
  assert.equal(arm.Architecture, 'arm64');

  const refused = await berth('--root', root, 'image', 'copy', '--all', `docker://${reg.host}/multi:v1`, 'berth:multi:v1');
  assert.equal(refused.code, 1);
  assert.match(refused.stderr, /cannot hold a whole index/);
});
