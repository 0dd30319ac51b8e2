import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import { isBerthError } from '../../../../src/errors.ts';
import { type ContainerRecord, StateStore } from '../../../../src/runtime/state/store.ts';

function store(t: TestContext): StateStore {
  const root = mkdtempSync(join(tmpdir(), 'berth-state-'));
  t.after(() => rmSync(root, { recursive: true, force: true }));
  return new StateStore(root, { lockFile: () => Promise.reject(new Error('no locks in this test')) });
}

const record: ContainerRecord = {
  ociVersion: '1.2.0',
  id: 'web',
  status: 'created',
  pid: 4242,
  bundle: '/srv/web',
  rootfs: '/srv/web/rootfs',
  created: '2026-12-06T21:00:00.000Z',
  owner: 'root',
  config: { ociVersion: '1.2.0' },
  namespaces: { pid: '' },
};

test('a record written is read back; a missing one is not found', async (t) => {
  const s = store(t);
  await s.claim('web');
  await s.write(record);
  assert.deepEqual(await s.read('web'), record);
  await assert.rejects(s.read('db'), (err: unknown) => isBerthError(err, 'container_not_found'));
});

test('a state.json that fails validation is refused naming the file and the field', async (t) => {
  const s = store(t);
  await s.claim('web');
  writeFileSync(join(s.dir('web'), 'state.json'), JSON.stringify({ ...record, id: 'db' }));
  await assert.rejects(s.read('web'), (err: unknown) =>
    isBerthError(err, 'state_corrupt') && err.message === `container "web": ${join(s.dir('web'), 'state.json')}: id: "db" is not the container's id "web"`);
});

test('a write that fails leaves no temporary file behind and the state as it was', async (t) => {
  const s = store(t);
  await s.claim('web');
  // state.json as a non-empty directory: the rename over it fails.
  mkdirSync(join(s.dir('web'), 'state.json', 'x'), { recursive: true });
  await assert.rejects(s.write(record), (err: unknown) => typeof err === 'object' && err !== null && 'code' in err && err.code === 'EISDIR');
  const left = readdirSync(s.dir('web'));
  assert.ok(left.includes('state.json'));
  assert.deepEqual(left.filter((n) => n.includes('.state.json.')), [], 'no temporary file');
});

test('a claimed state directory is 0711 whatever the umask (berth-monitor runs the runtime with 077)', async (t) => {
  const s = store(t);
  const old = process.umask(0o077);
  try {
    await s.claim('web');
  } finally {
    process.umask(old);
  }
  assert.equal(statSync(s.dir('web')).mode & 0o777, 0o711);
});
