import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, request } from 'node:http';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import { RegistryClient } from '../../../src/image/registry/client.ts';
import { digestOf } from '../../../src/image/store/digest.ts';
import { withRegistry } from '../../helpers/registry.ts';
import { pushMultiArch } from '../../helpers/registry-images.ts';
import { berth, berthOk } from '../../helpers/registry-cli.ts';
import { tempDir } from '../../helpers/registry-tmp.ts';

/** Imports a small tree as NAME into ROOT and pushes it to the registry; returns the pushed manifest digest. */
async function seed(dir: string, root: string, host: string, repo: string, size = 2_000_000): Promise<void> {
  const tree = join(dir, `tree-${repo.replace(/\W/g, '_')}`);
  mkdirSync(join(tree, 'data'), { recursive: true });
  // Incompressible content so the layer stays large enough to cut mid-way.
  const big = Buffer.alloc(size);
  for (let i = 0, x = 1; i < size; i++) {
    x = (Math.imul(x, 1103515245) + 12345) >>> 0;
    big[i] = x >>> 24;
  }
  writeFileSync(join(tree, 'data', 'blob.bin'), big);
  writeFileSync(join(tree, 'data', 'hello.txt'), 'hello\n');
  await berthOk('--root', root, '--quiet', 'import', tree, 'seed:latest');
  await berthOk('--root', root, '--quiet', 'push', 'seed:latest', `${host}/${repo}:v1`);
}

/**
 * An HTTP proxy in front of the registry that cuts the first download of
 * every blob after `cutAfter` bytes, and records each blob request's Range.
 */
async function flakyProxy(t: TestContext, upstream: string, cutAfter: number): Promise<{ host: string; blobRequests: { path: string; range: string | undefined }[] }> {
  const blobRequests: { path: string; range: string | undefined }[] = [];
  const cut = new Set<string>();
  const [uhost, uport] = upstream.split(':');
  const server = createServer((req, res) => {
    const path = req.url ?? '/';
    const isBlob = req.method === 'GET' && /\/blobs\/sha256:/.test(path);
    if (isBlob) blobRequests.push({ path, range: req.headers.range });
    const up = request({ host: uhost, port: Number(uport), method: req.method, path, headers: req.headers }, (ur) => {
      res.writeHead(ur.statusCode ?? 502, ur.headers);
      if (!isBlob || cut.has(path) || Number(ur.headers['content-length'] ?? 0) <= cutAfter) {
        ur.pipe(res);
        return;
      }
      cut.add(path);
      let sent = 0;
      ur.on('data', (chunk: Buffer) => {
        if (sent >= cutAfter) return;
        const part = chunk.subarray(0, cutAfter - sent);
        sent += part.length;
        res.write(part);
        if (sent >= cutAfter) {
          ur.destroy();
          res.socket?.destroy();
        }
      });
    });
    up.on('error', () => res.destroy());
    req.pipe(up);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  t.after(() => {
    server.closeAllConnections();
    return new Promise<void>((r) => server.close(() => r()));
  });
  const addr = server.address();
  return { host: `127.0.0.1:${typeof addr === 'object' && addr !== null ? addr.port : 0}`, blobRequests };
}

test('a download cut mid-layer resumes with a Range request where the ingest stopped', async (t) => {
  const dir = tempDir(t);
  const reg = await withRegistry(t);
  await seed(dir, join(dir, 'src'), reg.host, 'resume/app');
  const proxy = await flakyProxy(t, reg.host, 700_000);
  const root = join(dir, 'dst');
  const r = await berth('--root', root, '--quiet', 'pull', `${proxy.host}/resume/app:v1`);
  assert.equal(r.code, 0, r.stderr);
  const layerRequests = proxy.blobRequests.filter((b) => proxy.blobRequests.filter((x) => x.path === b.path).length > 1);
  assert.equal(layerRequests.length, 2, JSON.stringify(proxy.blobRequests));
  assert.equal(layerRequests[0]?.range, undefined);
  const m = /^bytes=(\d+)-$/.exec(layerRequests[1]?.range ?? '');
  assert.ok(m !== null && Number(m[1]) > 0 && Number(m[1]) <= 700_000, `second request asked for ${layerRequests[1]?.range}`);
  const img = JSON.parse((await berthOk('--root', root, 'image', 'inspect', `${proxy.host}/resume/app:v1`)).stdout) as { Layers: { Digest: string }[] }[];
  const layer = img[0]?.Layers[0]?.Digest ?? '';
  const stored = readFileSync(join(root, 'blobs', 'sha256', layer.slice(7)));
  assert.equal(digestOf(stored), layer, 'the resumed blob is whole and verified');
});

test('an index is resolved to the requested platform; the index digest is the repo digest', async (t) => {
  const dir = tempDir(t);
  const reg = await withRegistry(t);
  const client = new RegistryClient({ registry: reg.host });
  const { entries, bytes: index } = await pushMultiArch(client, 'multi', 'v1');
  const root = join(dir, 'root');
  await berthOk('--root', root, '--quiet', 'pull', '--platform', 'linux/arm64', `${reg.host}/multi:v1`);
  const [img] = JSON.parse((await berthOk('--root', root, 'images', '--json')).stdout) as { Architecture: string; Digest: string; ManifestDigest: string; RepoDigests: string[] }[];
  assert.equal(img?.Architecture, 'arm64');
  assert.equal(img?.ManifestDigest, entries[1]?.digest);
  assert.equal(img?.Digest, digestOf(index));
  assert.deepEqual(img?.RepoDigests, [`${reg.host}/multi@${digestOf(index)}`]);

  const remote = JSON.parse((await berthOk('--root', root, 'image', 'inspect', '--remote', '--platform', 'linux/amd64', `${reg.host}/multi:v1`)).stdout) as { Architecture: string; Digest: string; RepoTags: string[] };
  assert.equal(remote.Architecture, 'amd64');
  assert.equal(remote.Digest, digestOf(index));
  assert.deepEqual(remote.RepoTags, ['v1']);

  const none = await berth('--root', root, 'pull', '--platform', 'linux/s390x', `${reg.host}/multi:v1`);
  assert.equal(none.code, 1);
  assert.match(none.stderr, /no manifest for platform linux\/s390x \(offers linux\/amd64, linux\/arm64\/v8\)/);
});

test('a digest reference pulls exactly that manifest and names no tag', async (t) => {
  const dir = tempDir(t);
  const reg = await withRegistry(t);
  await seed(dir, join(dir, 'src'), reg.host, 'bydigest', 1000);
  const digest = (await new RegistryClient({ registry: reg.host }).getManifest('bydigest', 'v1')).digest;
  const root = join(dir, 'root');
  await berthOk('--root', root, '--quiet', 'pull', `${reg.host}/bydigest@${digest}`);
  const [img] = JSON.parse((await berthOk('--root', root, 'images', '--json')).stdout) as { RepoTags: string[]; RepoDigests: string[] }[];
  assert.deepEqual(img?.RepoTags, []);
  assert.deepEqual(img?.RepoDigests, [`${reg.host}/bydigest@${digest}`]);
  assert.match((await berthOk('--root', root, 'images')).stdout, /<none>\s+<none>/);
  const bad = await berth('--root', root, 'pull', `${reg.host}/bydigest@${digestOf('other')}`);
  assert.equal(bad.code, 1);
  assert.match(bad.stderr, /registry answered 404 MANIFEST_UNKNOWN/);
});

test('pull --unpack leaves a runtime bundle: rootfs with the files and a config.json (root)', async (t) => {
  const dir = tempDir(t);
  const reg = await withRegistry(t);
  await seed(dir, join(dir, 'src'), reg.host, 'unpackme', 5000);
  const bundle = join(dir, 'bundle');
  await berthOk('--root', join(dir, 'root'), '--quiet', 'pull', '--unpack', bundle, `${reg.host}/unpackme:v1`);
  assert.equal(readFileSync(join(bundle, 'rootfs', 'data', 'hello.txt'), 'utf8'), 'hello\n');
  assert.ok(existsSync(join(bundle, 'config.json')));
  const again = join(dir, 'bundle2');
  await berthOk('--root', join(dir, 'root'), '--quiet', 'image', 'unpack', `${reg.host}/unpackme:v1`, again);
  assert.equal(readFileSync(join(again, 'rootfs', 'data', 'hello.txt'), 'utf8'), 'hello\n');
});
