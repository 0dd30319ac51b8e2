import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { test, type TestContext } from 'node:test';
import { isBerthError } from '../../../src/errors.ts';
import { RegistryClient } from '../../../src/image/registry/client.ts';
import { digestOf } from '../../../src/image/store/digest.ts';
import { MediaType } from '../../../src/oci/image-spec.ts';

/** A registry stand-in on loopback that fails the first requests of each path as told. */
async function flakyServer(t: TestContext, failures: Record<string, ('503' | 'reset' | '404')[]>, bodies: Record<string, Buffer>): Promise<{ host: string; hits: Map<string, number> }> {
  const hits = new Map<string, number>();
  const server = createServer((req, res) => {
    const path = req.url ?? '/';
    const n = hits.get(path) ?? 0;
    hits.set(path, n + 1);
    const failure = failures[path]?.[n];
    if (failure === 'reset') {
      req.socket.destroy();
      return;
    }
    if (failure === '503' || failure === '404') {
      res.writeHead(Number(failure), { 'content-type': 'application/json' }).end('{"errors":[{"code":"UNAVAILABLE","message":"try later"}]}');
      return;
    }
    const body = bodies[path];
    if (path === '/v2/' || body === undefined) {
      res.writeHead(path === '/v2/' ? 200 : 404).end();
      return;
    }
    res.writeHead(200, { 'content-type': MediaType.OciManifest, 'content-length': String(body.length) }).end(body);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  t.after(() => {
    server.closeAllConnections();
    return new Promise<void>((r) => server.close(() => r()));
  });
  const a = server.address();
  return { host: `127.0.0.1:${typeof a === 'object' && a !== null ? a.port : 0}`, hits };
}

const manifest = Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: MediaType.OciManifest, config: { mediaType: MediaType.OciConfig, digest: digestOf('c'), size: 1 }, layers: [] }));

test('5xx answers and broken connections are retried with back-off, then succeed', async (t) => {
  const srv = await flakyServer(t, { '/v2/app/manifests/v1': ['503', 'reset', '503'] }, { '/v2/app/manifests/v1': manifest });
  const retries: string[] = [];
  const client = new RegistryClient({ registry: srv.host, retry: { attempts: 4, baseDelayMs: 1, onRetry: (_n, err) => retries.push(isBerthError(err) ? err.code : String((err as { code?: string }).code)) } });
  const got = await client.getManifest('app', 'v1');
  assert.equal(got.digest, digestOf(manifest));
  assert.equal(srv.hits.get('/v2/app/manifests/v1'), 4);
  assert.equal(retries.length, 3);
});

test('retries stop after the attempts allowed; a 404 is not retried', async (t) => {
  const srv = await flakyServer(t, { '/v2/app/manifests/v1': ['503', '503', '503'], '/v2/app/manifests/v2': ['404'] }, { '/v2/app/manifests/v1': manifest });
  const client = new RegistryClient({ registry: srv.host, retry: { attempts: 3, baseDelayMs: 1 } });
  await assert.rejects(client.getManifest('app', 'v1'), (err) => isBerthError(err, 'registry_error') && /503 UNAVAILABLE \(try later\)/.test(err.message));
  assert.equal(srv.hits.get('/v2/app/manifests/v1'), 3);
  await assert.rejects(client.getManifest('app', 'v2'), (err) => isBerthError(err) && err.kind === 'not_found');
  assert.equal(srv.hits.get('/v2/app/manifests/v2'), 1);
});

test('a manifest whose bytes do not match the digest asked for is refused', async (t) => {
  const wrong = digestOf('something else');
  const srv = await flakyServer(t, {}, { [`/v2/app/manifests/${wrong}`]: manifest });
  const client = new RegistryClient({ registry: srv.host, retry: { attempts: 1 } });
  await assert.rejects(client.getManifest('app', wrong), (err) => isBerthError(err, 'manifest_digest_mismatch'));
});
