/**
 * The Docker shapes of images (src/api/docker/images.ts), the JSON message
 * stream (src/api/docker/progress.ts) and the build route's refusals, with
 * no daemon: names as docker shows them, the list filters, X-Registry-Auth,
 * history order, progress messages, and errors before and after a stream began.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isBerthError, notFound } from '../../../../src/errors.ts';
import { checkImageFilters, dockerName, globMatches, imageHistory, imageInspect, imageSummary, matchImage, registryAuth } from '../../../../src/api/docker/images.ts';
import { messageStream, progressBar, pullProgress, type JsonMessage } from '../../../../src/api/docker/progress.ts';
import { parseFilters, Query } from '../../../../src/api/query.ts';
import { refuseUnsupported } from '../../../../src/api/routes/build.ts';
import type { ImageRecord } from '../../../../src/image/store/store.ts';
import type { ImageConfig } from '../../../../src/oci/image-spec.ts';

const img = (over: Partial<ImageRecord> = {}): ImageRecord => ({
  id: `sha256:${'a'.repeat(64)}`,
  names: ['localhost/app:v1'],
  repoDigests: [],
  manifestDigest: `sha256:${'b'.repeat(64)}`,
  manifestMediaType: 'application/vnd.oci.image.manifest.v1+json',
  manifestSize: 400,
  config: { digest: `sha256:${'a'.repeat(64)}`, mediaType: 'application/vnd.oci.image.config.v1+json', size: 300 },
  layers: [
    { digest: `sha256:${'1'.repeat(64)}`, mediaType: 'x', size: 100, diffId: `sha256:${'3'.repeat(64)}` },
    { digest: `sha256:${'2'.repeat(64)}`, mediaType: 'x', size: 20, diffId: `sha256:${'4'.repeat(64)}` },
  ],
  os: 'linux',
  architecture: 'amd64',
  size: 420,
  created: '2026-01-02T03:04:05Z',
  addedAt: '2026-01-02T03:04:05Z',
  ...over,
});

test('names are shown as docker shows them: no localhost/ without a default registry, no default registry or namespace with one', () => {
  assert.equal(dockerName('localhost/app:v1', {}), 'app:v1');
  assert.equal(dockerName('127.0.0.1:5000/team/app:v1', {}), '127.0.0.1:5000/team/app:v1');
  assert.equal(dockerName('reg.example:5000/library/busybox:1', { registry: 'reg.example:5000', officialNamespace: 'library' }), 'busybox:1');
  assert.equal(dockerName('localhost/app:v1', { registry: 'reg.example:5000' }), 'localhost/app:v1');
});

test('history is newest first; only the newest entry carries the ID and tags; empty layers have no size', () => {
  const config: ImageConfig = {
    architecture: 'amd64',
    os: 'linux',
    rootfs: { type: 'layers', diff_ids: [] },
    history: [
      { created: '2026-01-01T00:00:00Z', created_by: 'ADD rootfs' },
      { created: '2026-01-01T00:00:01Z', created_by: 'ENV A=1', empty_layer: true },
      { created: '2026-01-01T00:00:02Z', created_by: 'RUN make' },
    ],
  };
  const h = imageHistory(img(), config, {});
  assert.deepEqual(h.map((e) => [e['Id'], e['CreatedBy'], e['Size'], e['Tags']]), [
    [img().id, 'RUN make', 20, ['app:v1']],
    ['<missing>', 'ENV A=1', 0, null],
    ['<missing>', 'ADD rootfs', 100, null],
  ]);
  assert.equal(h[0]!['Created'], Date.parse('2026-01-01T00:00:02Z') / 1000);
});

test('image filters: dangling, label, reference (path.Match on the name and the repository), before/since; unknown ones refused by name', () => {
  const f = (o: Record<string, string[]>) => parseFilters(JSON.stringify(o));
  const created = (): number => Date.parse('2026-06-01T00:00:00Z') / 1000;
  const m = (i: ImageRecord, o: Record<string, string[]>, labels: Record<string, string> = {}): boolean => matchImage(i, labels, f(o), {}, created);
  assert.equal(m(img(), { dangling: ['true'] }), false);
  assert.equal(m(img({ names: [] }), { dangling: ['true'] }), true);
  assert.equal(m(img({ names: [], repoDigests: ['r@sha256:x'] }), { dangling: ['true'] }), true, 'a digest is not a tag');
  assert.equal(m(img(), { label: ['a=1'] }, { a: '1' }), true);
  assert.equal(m(img(), { label: ['a=2'] }, { a: '1' }), false);
  assert.equal(m(img(), { label: ['a'] }, {}), false);
  assert.equal(m(img(), { reference: ['app'] }), true);
  assert.equal(m(img(), { reference: ['app:v*'] }), true);
  assert.equal(m(img(), { reference: ['ap'] }), false);
  assert.equal(m(img({ names: ['127.0.0.1:5000/team/app:v1'] }), { reference: ['*/app'] }), false, '* stays within a path segment');
  assert.equal(m(img(), { before: ['x'] }), true);
  assert.equal(m(img(), { since: ['x'] }), false);
  assert.equal(globMatches('a[bc]d', 'acd'), true);
  assert.throws(() => checkImageFilters(f({ colour: ['red'] })), /filter "colour": not an image filter/);
  assert.throws(() => checkImageFilters(f({ dangling: ['maybe'] })), /dangling="maybe"/);
});

test('X-Registry-Auth: base64url JSON credentials; "{}" is none; tokens and garbage are refused naming the header', () => {
  const enc = (v: unknown): string => Buffer.from(JSON.stringify(v)).toString('base64url');
  assert.deepEqual(registryAuth(enc({ username: 'u', password: 'p?>~', serveraddress: '127.0.0.1:5000' })), { username: 'u', password: 'p?>~' });
  assert.deepEqual(registryAuth(enc({ auth: Buffer.from('u:p:q').toString('base64') })), { username: 'u', password: 'p:q' });
  assert.equal(registryAuth(enc({})), undefined);
  assert.equal(registryAuth(undefined), undefined);
  assert.throws(() => registryAuth('%%%'), /X-Registry-Auth/);
  assert.throws(() => registryAuth(enc({ identitytoken: 't' })), /identity and registry tokens are not supported/);
  assert.throws(() => registryAuth(enc({ username: 5 })), /field "username" must be a string/);
});

test('progress: a pull\'s events become Docker\'s per-layer messages; the bar is docker\'s', () => {
  const out: JsonMessage[] = [];
  const sink = pullProgress((m) => out.push(m), 'team/app', 'v1');
  const digest = `sha256:${'c'.repeat(64)}`;
  sink({ type: 'resolved', source: 's', manifestDigest: 'm', layers: 1, bytes: 200 });
  sink({ type: 'blob-start', digest: `sha256:${'d'.repeat(64)}`, kind: 'config', size: 10 });
  sink({ type: 'blob-start', digest, kind: 'layer', size: 200 });
  sink({ type: 'blob-progress', digest, bytes: 100 });
  sink({ type: 'blob-progress', digest, bytes: 100 });
  sink({ type: 'blob-done', digest, kind: 'layer' });
  sink({ type: 'blob-skip', digest: `sha256:${'e'.repeat(64)}`, kind: 'layer', size: 5, reason: 'exists' });
  const id = 'c'.repeat(12);
  assert.deepEqual(out, [
    { status: 'Pulling from team/app', id: 'v1' },
    { status: 'Pulling fs layer', progressDetail: {}, id },
    { status: 'Downloading', progressDetail: { current: 100, total: 200 }, progress: progressBar(100, 200), id },
    { status: 'Downloading', progressDetail: { current: 200, total: 200 }, progress: progressBar(200, 200), id },
    { status: 'Download complete', progressDetail: {}, id },
    { status: 'Pull complete', progressDetail: {}, id },
    { status: 'Already exists', progressDetail: {}, id: 'e'.repeat(12) },
  ]);
  assert.equal(progressBar(100, 200), `[${'='.repeat(25)}>${' '.repeat(25)}]     100B/200B`);
  assert.equal(progressBar(200, 200), `[${'='.repeat(50)}>]     200B/200B`);
});

async function drain(source: AsyncIterable<Uint8Array | string>): Promise<string> {
  let text = '';
  for await (const c of source) text += String(c);
  return text;
}

test('message stream: a failure before the first message is a plain error; after it, the stream\'s last line', async () => {
  await assert.rejects(messageStream(() => Promise.reject(notFound('image_not_found', 'image "x": not in the store'))), (err) => isBerthError(err, 'image_not_found'));
  const reply = await messageStream(async (emit) => {
    emit({ status: 'one' });
    await new Promise((r) => setImmediate(r));
    emit({ status: 'two' });
    throw notFound('blob_not_found', 'layer gone');
  });
  assert.equal(reply.type, 'stream');
  if (reply.type !== 'stream') return;
  assert.equal(await drain(reply.source), '{"status":"one"}\n{"status":"two"}\n{"errorDetail":{"message":"layer gone"},"error":"layer gone"}\n');
});

test('build: options the builder has no equivalent for are refused by name; the legacy CLI\'s empty values pass', () => {
  const q = (s: string): Query => new Query(new URLSearchParams(s));
  refuseUnsupported(q('rm=1&memory=0&cpushares=0&networkmode=default&ulimits=null&cachefrom=%5B%5D&version=1&shmsize=0'));
  assert.throws(() => refuseUnsupported(q('memory=1000000')), /query parameter "memory"="1000000" is not supported/);
  assert.throws(() => refuseUnsupported(q('rm=0')), /"rm"="0".*intermediate containers/);
  assert.throws(() => refuseUnsupported(q('version=2')), /BuildKit/);
  assert.throws(() => refuseUnsupported(q('remote=https%3A%2F%2Fx%2Fctx.tar')), /"remote"/);
});

test('inspect and summary follow the client\'s API version: VirtualSize before 1.44, Container and ContainerConfig before 1.45', () => {
  const config: ImageConfig = { architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: [] }, config: { Cmd: ['sh'] } };
  const old = imageInspect(img(), config, {}, '1.43');
  assert.equal(old['VirtualSize'], 420);
  assert.ok('ContainerConfig' in old);
  const v144 = imageInspect(img(), config, {}, '1.44');
  assert.equal('VirtualSize' in v144, false);
  assert.ok('Container' in v144);
  const newest = imageInspect(img(), config, {}, undefined);
  assert.equal('Container' in newest, false);
  assert.deepEqual((newest['Config'] as Record<string, unknown>)['Cmd'], ['sh']);
  assert.deepEqual(newest['RepoTags'], ['app:v1']);
  assert.equal(imageSummary(img(), config, {}, '1.41')['VirtualSize'], 420);
  assert.equal('VirtualSize' in imageSummary(img(), config, {}, '1.47'), false);
});
