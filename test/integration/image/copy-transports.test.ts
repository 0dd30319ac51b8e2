import assert from 'node:assert/strict';
import { existsSync, linkSync, mkdirSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import { MediaType } from '../../../src/oci/image-spec.ts';
import { copyImage } from '../../../src/image/copy/copy.ts';
import { importImage } from '../../../src/image/copy/import.ts';
import type { ProgressEvent } from '../../../src/image/progress/events.ts';
import { ImageStore } from '../../../src/image/store/store.ts';
import { openDestination, openSource, repoDigestsFor, type TransportContext } from '../../../src/image/transport/open.ts';
import { parseTransport } from '../../../src/image/transport/parse.ts';
import { withRegistry } from '../../helpers/registry.ts';
import { tempDir } from '../../helpers/registry-tmp.ts';

async function storeAt(t: TestContext, root: string): Promise<ImageStore> {
  const s = await ImageStore.open({ root });
  t.after(() => s.close());
  return s;
}

function makeTree(dir: string): void {
  mkdirSync(join(dir, 'etc'), { recursive: true });
  mkdirSync(join(dir, 'bin'));
  writeFileSync(join(dir, 'etc', 'hello.txt'), 'hello from a berth image\n');
  writeFileSync(join(dir, 'bin', 'tool'), Buffer.alloc(300_000, 1), { mode: 0o755 });
  linkSync(join(dir, 'bin', 'tool'), join(dir, 'bin', 'tool-link'));
  symlinkSync('tool', join(dir, 'bin', 'sym'));
  writeFileSync(join(dir, 'etc', `${'long-name-'.repeat(15)}.txt`), 'long');
}

async function copy(from: string, to: string, ctx: TransportContext, events?: ProgressEvent[]): Promise<Awaited<ReturnType<typeof copyImage>>> {
  const src = await openSource(parseTransport(from), ctx);
  const ft = parseTransport(to);
  const repoDigests = repoDigestsFor(parseTransport(from));
  const dst = await openDestination(ft, ctx, repoDigests === undefined ? {} : { repoDigests });
  try {
    return await copyImage(src, dst, events === undefined ? {} : { progress: (e) => events.push(e) });
  } finally {
    await dst.close();
    await src.close();
  }
}

test('an imported image travels store → registry → store and through every transport unchanged', async (t) => {
  const work = tempDir(t);
  const reg = await withRegistry(t);
  const tree = join(work, 'tree');
  makeTree(tree);
  const a = await storeAt(t, join(work, 'a'));
  const b = await storeAt(t, join(work, 'b'));
  const ctxA: TransportContext = { store: () => Promise.resolve(a) };
  const ctxB: TransportContext = { store: () => Promise.resolve(b) };

  const imported = await importImage(a, tree, { names: ['app:v1'], config: { Cmd: ['/bin/tool'] } });
  assert.deepEqual(imported.names, ['localhost/app:v1']);
  assert.equal(imported.layers.length, 1);

  const pushEvents: ProgressEvent[] = [];
  const pushed = await copy('berth:app:v1', `docker://${reg.host}/team/app:v1`, ctxA, pushEvents);
  assert.equal(pushed.manifestDigest, imported.manifestDigest, 'pushing keeps the manifest bytes');
  assert.ok(pushEvents.some((e) => e.type === 'blob-done' && e.kind === 'layer'));

  // Pushing again uploads nothing: every blob is found with HEAD.
  const again: ProgressEvent[] = [];
  await copy('berth:app:v1', `docker://${reg.host}/team/app:v1`, ctxA, again);
  assert.deepEqual(again.filter((e) => e.type === 'blob-start'), []);
  // A second repository on the same registry gets the layer by cross-repository mount.
  const mounted: ProgressEvent[] = [];
  const fromReg = `docker://${reg.host}/team/app:v1`;
  await copy(fromReg, `docker://${reg.host}/other/app:v1`, ctxA, mounted);
  assert.ok(mounted.some((e) => e.type === 'blob-skip' && e.reason === 'mounted' && e.kind === 'layer'));

  const pulled = await copy(fromReg, `berth:${reg.host}/team/app:v1`, ctxB);
  const inB = b.resolve(`${reg.host}/team/app:v1`);
  assert.equal(inB.id, imported.id);
  assert.equal(inB.manifestDigest, imported.manifestDigest);
  assert.deepEqual(inB.repoDigests, [`${reg.host}/team/app@${pulled.sourceManifestDigest}`]);
  assert.deepEqual(inB.layers.map((l) => l.diffId), imported.layers.map((l) => l.diffId));

  // oci:, oci-archive: and docker-archive: round trips land on the same image ID.
  const layout = join(work, 'layout');
  await copy('berth:app:v1', `oci:${layout}:v1`, ctxA);
  const index = JSON.parse(readFileSync(join(layout, 'index.json'), 'utf8')) as { manifests: { annotations: Record<string, string> }[] };
  assert.equal(index.manifests[0]?.annotations['org.opencontainers.image.ref.name'], 'v1');
  assert.ok(existsSync(join(layout, 'oci-layout')));
  await copy(`oci:${layout}:v1`, 'berth:from-oci', ctxB);
  assert.equal(b.resolve('from-oci').id, imported.id);

  const ociArchive = join(work, 'app.oci.tar');
  await copy('berth:app:v1', `oci-archive:${ociArchive}:v1`, ctxA);
  await copy(`oci-archive:${ociArchive}:v1`, 'berth:from-oci-archive', ctxB);
  assert.equal(b.resolve('from-oci-archive').id, imported.id);

  const dockerArchive = join(work, 'app.docker.tar');
  await copy('berth:app:v1', `docker-archive:${dockerArchive}:app:v1`, ctxA);
  const viaDocker = await copy(`docker-archive:${dockerArchive}`, 'berth:from-docker-archive', ctxB);
  assert.equal(b.resolve('from-docker-archive').id, imported.id, 'config bytes survive docker-archive');
  assert.equal(viaDocker.layers[0]?.mediaType, MediaType.OciLayer, 'docker-archive layers are stored uncompressed');
  assert.equal(viaDocker.layers[0]?.digest, imported.layers[0]?.diffId);
  assert.deepEqual(readdirNames(work).filter((n) => n.includes('.berth-') || n.includes('.tmp-')), [], 'no scratch left behind');
});

function readdirNames(dir: string): string[] {
  return existsSync(dir) ? readdirSync(dir) : [];
}
