import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readdirSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import { isBerthError } from '../../../../src/errors.ts';
import { ContainerStore } from '../../../../src/engine/store/containers.ts';
import { openEngineDatabase } from '../../../../src/engine/store/db.ts';
import { VolumeStore } from '../../../../src/engine/volumes/volumes.ts';
import { onCleanup, tempDir } from '../../../helpers/cleanup.ts';

interface Stores {
  root: string;
  volumes: VolumeStore;
  containers: ContainerStore;
}

function open(t: TestContext, root = tempDir(t)): Stores {
  const db = openEngineDatabase(join(root, 'berth.db'));
  onCleanup(t, () => db.close());
  return { root, volumes: new VolumeStore(db, root), containers: new ContainerStore(db) };
}

function container(s: Stores, name: string): string {
  const { id } = s.containers.beginCreate({ name, imageRef: 'busybox', imageId: 'sha256:' + 'b'.repeat(64), options: {} });
  s.containers.finishCreate(id);
  return id;
}

const mode = (path: string): number => statSync(path).mode & 0o7777;

function assertCode(fn: () => unknown, code: string, messagePart: string): void {
  assert.throws(fn, (err: unknown) => {
    assert.ok(isBerthError(err, code), `expected ${code}, got ${String(err)}`);
    assert.ok(err.message.includes(messagePart), `message ${JSON.stringify(err.message)} should name ${messagePart}`);
    return true;
  });
}

test("a named volume is made at volumes/<name>/_data with docker's modes, whatever the umask", (t) => {
  const old = process.umask(0o077);
  onCleanup(t, () => process.umask(old));
  const s = open(t);
  const v = s.volumes.create({ name: 'data', labels: { app: 'web' } });
  assert.deepEqual(
    { ...v, createdAt: typeof v.createdAt },
    { name: 'data', driver: 'local', mountpoint: join(s.root, 'volumes/data/_data'), labels: { app: 'web' }, anonymous: false, createdAt: 'string', usedBy: [] },
  );
  assert.equal(mode(join(s.root, 'volumes')), 0o700);
  assert.equal(mode(join(s.root, 'volumes/data')), 0o755);
  assert.equal(mode(v.mountpoint), 0o755);
  // Creating an existing name returns that volume, as docker does.
  writeFileSync(join(v.mountpoint, 'kept'), 'x');
  assert.deepEqual(s.volumes.create({ name: 'data' }), v);
  assert.ok(existsSync(join(v.mountpoint, 'kept')));
  assert.deepEqual(s.volumes.inspect('data'), v);
});

test('an anonymous volume gets a 64-hex name and is marked anonymous', (t) => {
  const s = open(t);
  const v = s.volumes.create();
  assert.match(v.name, /^[0-9a-f]{64}$/);
  assert.equal(v.anonymous, true);
  assert.ok(statSync(v.mountpoint).isDirectory());
});

test('only the local driver is accepted; unknown volumes are not found by name', (t) => {
  const s = open(t);
  assertCode(() => s.volumes.create({ name: 'nfs', driver: 'nfs' }), 'volume_driver_unsupported', 'volume driver "nfs"');
  assertCode(() => s.volumes.inspect('nope'), 'volume_not_found', 'volume "nope": not found');
  assertCode(() => s.volumes.remove('nope'), 'volume_not_found', 'volume "nope": not found');
  assert.deepEqual(readdirSync(join(s.root, 'volumes')), []);
});

test('path escape: hostile volume names create, inspect and remove nothing outside (or inside) the volumes directory', (t) => {
  const s = open(t);
  const before = readdirSync(s.root).sort();
  for (const name of ['..', '../../etc', '/etc', 'a/b', 'a\0b', '.trash-x', 'x'.repeat(256)]) {
    assertCode(() => s.volumes.create({ name }), 'invalid_volume_name', 'volume name "');
    assertCode(() => s.volumes.inspect(name), 'invalid_volume_name', 'volume name "');
    assertCode(() => s.volumes.remove(name, { force: true }), 'invalid_volume_name', 'volume name "');
  }
  assert.deepEqual(readdirSync(s.root).sort(), before);
  assert.deepEqual(readdirSync(join(s.root, 'volumes')), []);
  assert.deepEqual(s.volumes.list(), []);
});

test('path escape: a symlink planted where a volume directory goes is refused, not followed', (t) => {
  const s = open(t);
  const outside = tempDir(t);
  symlinkSync(outside, join(s.root, 'volumes/evil'));
  assertCode(() => s.volumes.create({ name: 'evil' }), 'volume_path_unsafe', 'a symlink');
  assert.deepEqual(readdirSync(outside), [], 'nothing was made through the link');
  assertCode(() => s.volumes.inspect('evil'), 'volume_not_found', '"evil"');

  mkdirSync(join(s.root, 'volumes/half'));
  symlinkSync(outside, join(s.root, 'volumes/half/_data'));
  assertCode(() => s.volumes.create({ name: 'half' }), 'volume_path_unsafe', '_data');
  assert.deepEqual(readdirSync(outside), []);
});

test('path escape: a volumes directory that is a symlink is refused when the store opens', (t) => {
  const root = tempDir(t);
  const outside = tempDir(t);
  symlinkSync(outside, join(root, 'volumes'));
  const db = openEngineDatabase(join(root, 'berth.db'));
  onCleanup(t, () => db.close());
  assertCode(() => new VolumeStore(db, root), 'volume_path_unsafe', join(root, 'volumes'));
});

test('a volume in use is not removed unless forced; the error names the containers', (t) => {
  const s = open(t);
  const v = s.volumes.create({ name: 'shared' });
  const web = container(s, 'web');
  const db = container(s, 'db');
  s.volumes.use(web, 'shared');
  s.volumes.use(db, 'shared');
  s.volumes.use(db, 'shared'); // twice is once
  assert.deepEqual(s.volumes.inspect('shared').usedBy, [web, db].sort());
  assertCode(() => s.volumes.remove('shared'), 'volume_in_use', `volume "shared": in use by containers `);
  assertCode(() => s.volumes.remove('shared'), 'volume_in_use', web.slice(0, 12));
  assert.ok(existsSync(v.mountpoint));
  s.volumes.remove('shared', { force: true });
  assert.equal(existsSync(join(s.root, 'volumes/shared')), false);
  assertCode(() => s.volumes.inspect('shared'), 'volume_not_found', '"shared"');
  assertCode(() => s.volumes.use(web, 'shared'), 'volume_not_found', '"shared"');
  s.volumes.create({ name: 'other' });
  assertCode(() => s.volumes.use('e'.repeat(64), 'other'), 'container_not_found', 'e'.repeat(64));
  assert.deepEqual(s.volumes.inspect('other').usedBy, []);
});

test("deleting a container's record frees its volumes", (t) => {
  const s = open(t);
  s.volumes.create({ name: 'data' });
  const id = container(s, 'app');
  s.volumes.use(id, 'data');
  const anon = s.volumes.create();
  s.volumes.use(id, anon.name);
  s.volumes.create({ name: 'unused' });
  assert.deepEqual(
    s.volumes.usedBy(id).map((v) => [v.name, v.anonymous]),
    [[anon.name, true], ['data', false]].sort(),
  );
  s.volumes.remove(anon.name, { force: true });
  assert.deepEqual(s.volumes.list({ dangling: true }).map((v) => v.name), ['unused']);
  s.containers.transition(id, 'removing');
  s.containers.remove(id);
  assert.deepEqual(s.volumes.usedBy(id), []);
  assert.deepEqual(
    s.volumes.list({ dangling: true }).map((v) => v.name),
    ['data', 'unused'],
  );
  s.volumes.remove('data');
});

test('list filters by name, label (key or key=value) and dangling', (t) => {
  const s = open(t);
  s.volumes.create({ name: 'web-data', labels: { app: 'web', tier: 'front' } });
  s.volumes.create({ name: 'web-logs', labels: { app: 'web' } });
  s.volumes.create({ name: 'db-data', labels: { app: 'db' } });
  s.volumes.use(container(s, 'c1'), 'db-data');
  const names = (f: Parameters<VolumeStore['list']>[0]) => s.volumes.list(f).map((v) => v.name);
  assert.deepEqual(names({}), ['db-data', 'web-data', 'web-logs']);
  assert.deepEqual(names({ name: ['web'] }), ['web-data', 'web-logs']);
  assert.deepEqual(names({ name: ['logs', 'db'] }), ['db-data', 'web-logs']);
  assert.deepEqual(names({ label: ['tier'] }), ['web-data']);
  assert.deepEqual(names({ label: ['app=web'] }), ['web-data', 'web-logs']);
  assert.deepEqual(names({ label: ['app=web', 'tier=front'] }), ['web-data']);
  assert.deepEqual(names({ label: ['app=we'] }), []);
  assert.deepEqual(names({ dangling: true }), ['web-data', 'web-logs']);
  assert.deepEqual(names({ dangling: false }), ['db-data']);
  assert.deepEqual(names({ dangling: true, name: ['data'] }), ['web-data']);
});

test('prune removes only unused volumes (anonymous ones unless all), saying which and the bytes reclaimed', (t) => {
  const s = open(t);
  const anonUnused = s.volumes.create();
  const anonUsed = s.volumes.create();
  const named = s.volumes.create({ name: 'named', labels: { keep: 'no' } });
  s.volumes.use(container(s, 'c1'), anonUsed.name);
  writeFileSync(join(anonUnused.mountpoint, 'f'), Buffer.alloc(3000));
  writeFileSync(join(anonUsed.mountpoint, 'f'), Buffer.alloc(5000));
  mkdirSync(join(named.mountpoint, 'd'));
  writeFileSync(join(named.mountpoint, 'd/g'), Buffer.alloc(700));

  assert.deepEqual(s.volumes.prune(), { removed: [anonUnused.name], spaceReclaimed: 3000 });
  assert.equal(existsSync(join(s.root, 'volumes', anonUnused.name)), false);
  assert.deepEqual(s.volumes.prune({ all: true, label: ['keep=yes'] }), { removed: [], spaceReclaimed: 0 });
  assert.deepEqual(s.volumes.prune({ all: true }), { removed: ['named'], spaceReclaimed: 700 });
  assert.deepEqual(
    s.volumes.list().map((v) => v.name),
    [anonUsed.name],
  );
  assert.ok(existsSync(join(anonUsed.mountpoint, 'f')));
  assert.deepEqual(s.volumes.prune({ all: true }), { removed: [], spaceReclaimed: 0 });
});

test('recover removes the trash of an interrupted remove and an anonymous volume directory whose record a crash lost, and adopts a named one', (t) => {
  const s = open(t);
  mkdirSync(join(s.root, 'volumes/.trash-0123/_data'), { recursive: true });
  writeFileSync(join(s.root, 'volumes/.trash-0123/_data/f'), 'x');
  mkdirSync(join(s.root, 'volumes/orphan/_data'), { recursive: true });
  writeFileSync(join(s.root, 'volumes/orphan/_data/kept'), 'data');
  const anon = 'c'.repeat(64);
  mkdirSync(join(s.root, 'volumes', anon, '_data'), { recursive: true });
  writeFileSync(join(s.root, 'volumes/stray-file'), '');
  s.volumes.create({ name: 'known' });

  const outside = tempDir(t);
  mkdirSync(join(s.root, 'volumes/planted'));
  symlinkSync(outside, join(s.root, 'volumes/planted/_data'));

  const recovered = s.volumes.recover();
  assert.deepEqual(recovered.adopted, ['orphan']);
  assert.deepEqual(recovered.removed, [anon]);
  assert.deepEqual(
    recovered.refused.map((r) => [r.name, r.error.code]),
    [['planted', 'volume_path_unsafe']],
  );
  assertCode(() => s.volumes.inspect('planted'), 'volume_not_found', '"planted"');
  assert.deepEqual(readdirSync(outside), []);
  assert.deepEqual(readdirSync(join(s.root, 'volumes')).sort(), ['known', 'orphan', 'planted', 'stray-file']);
  assert.equal(s.volumes.inspect('orphan').anonymous, false);
  assertCode(() => s.volumes.inspect(anon), 'volume_not_found', anon);
  assert.ok(existsSync(join(s.volumes.inspect('orphan').mountpoint, 'kept')));
  assert.deepEqual(s.volumes.recover().adopted, []);
});
