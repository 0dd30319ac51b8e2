/**
 * A registry that takes a push and never answers, while keeping the
 * connection busy (102 Processing every few milliseconds, so the idle
 * timeout never fires): the overall deadline ends the push, as it ends a
 * pull. The server gives up on its own after a few seconds so that a client
 * without a deadline fails this test instead of hanging it.
 */
import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { test } from 'node:test';
import { describeError, isBerthError } from '../../../../src/errors.ts';
import { MediaType } from '../../../../src/oci/image-spec.ts';
import { RegistryClient } from '../../../../src/image/registry/client.ts';
import { digestOf } from '../../../../src/image/store/digest.ts';
import { hostileRegistry, type Handler } from '../../../helpers/hostile-registry.ts';

/** Reads the request, then sends only 102 Processing, every 20 ms, for up to 5 s. */
const busyForever: Handler = (req, res) => {
  req.resume();
  let n = 0;
  const timer = setInterval(() => {
    if (res.destroyed || ++n > 250) {
      clearInterval(timer);
      res.destroy();
      return;
    }
    res.writeProcessing();
  }, 20);
  res.once('close', () => clearInterval(timer));
};

async function stallingRegistry(t: Parameters<typeof hostileRegistry>[0]): Promise<{ client: RegistryClient; hits: Map<string, number> }> {
  const reg = await hostileRegistry(t, {
    '/v2/app/blobs/uploads/': (_req, res) => res.writeHead(202, { location: '/v2/app/blobs/uploads/u1' }).end(),
    '/v2/app/blobs/uploads/u1': busyForever,
    '/v2/app/manifests/v1': busyForever,
  });
  const client = new RegistryClient({ registry: reg.host, timeouts: { idleMs: 30_000, deadlineMs: 500 }, retry: { attempts: 2, baseDelayMs: 1 } });
  return { client, hits: reg.hits };
}

const notCompleteAfter = (what: RegExp) => (err: unknown): boolean =>
  isBerthError(err, 'registry_timeout') && new RegExp(`^${what.source}: not complete after 0\\.5 s \\(transfer deadline, BERTH_REGISTRY_TIMEOUT\\)$`).test(describeError(err));

test('a stalled push: a blob upload the registry never answers ends at the transfer deadline, naming the registry and the blob', async (t) => {
  const { client, hits } = await stallingRegistry(t);
  const blob = Buffer.alloc(4096, 1);
  const digest = digestOf(blob);
  await assert.rejects(
    client.uploadBlob('app', { digest, size: blob.length }, () => Promise.resolve(Readable.from([blob]))),
    notCompleteAfter(new RegExp(`blob ${digest} upload to 127\\.0\\.0\\.1:\\d+/app`)),
  );
  assert.equal(hits.get('/v2/app/blobs/uploads/u1'), 1, 'a missed deadline is not retried');

  // Chunked uploads share the one deadline too.
  await assert.rejects(
    client.uploadBlob('app', { digest, size: blob.length }, () => Promise.resolve(Readable.from([blob])), { chunkSize: 1024 }),
    notCompleteAfter(new RegExp(`blob ${digest} upload to 127\\.0\\.0\\.1:\\d+/app`)),
  );
});

test('a stalled push: a manifest put the registry never answers ends at the transfer deadline, naming the registry and the manifest', async (t) => {
  const { client, hits } = await stallingRegistry(t);
  const manifest = Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: MediaType.OciManifest }));
  await assert.rejects(client.putManifest('app', 'v1', manifest, MediaType.OciManifest), notCompleteAfter(/manifest 127\.0\.0\.1:\d+\/app:v1/));
  assert.equal(hits.get('/v2/app/manifests/v1'), 1, 'a missed deadline is not retried');
});
