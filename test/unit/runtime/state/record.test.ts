import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isBerthError } from '../../../../src/errors.ts';
import { parseRecord } from '../../../../src/runtime/state/record.ts';

const FILE = '/run/berth-runtime/web/state.json';

const good = {
  ociVersion: '1.2.0',
  id: 'web',
  status: 'running',
  pid: 4242,
  bundle: '/srv/bundles/web',
  rootfs: '/srv/bundles/web/rootfs',
  created: '2026-12-06T21:00:00.000Z',
  owner: 'root',
  pidStartTime: '123456',
  config: { ociVersion: '1.2.0', process: { args: ['sh'] } },
  cgroup: { mode: 'v2', dirs: { unified: '/sys/fs/cgroup/berth/web' } },
  namespaces: { pid: '', network: '/proc/1234/ns/net' },
  annotations: { 'org.example.team': 'blue' },
};

function refused(record: unknown, field: string | undefined, message: RegExp): void {
  assert.throws(
    () => parseRecord(JSON.stringify(record), FILE, 'web'),
    (err: unknown) => {
      assert.ok(isBerthError(err, 'state_corrupt'), String(err));
      assert.ok(err.message.startsWith(`container "web": ${FILE}: `), err.message);
      assert.match(err.message, message);
      assert.equal(err.details['file'], FILE);
      assert.equal(err.details['field'], field);
      return true;
    },
  );
}

test('a sound record is read back as written', () => {
  assert.deepEqual(parseRecord(JSON.stringify(good), FILE, 'web'), good);
  const { cgroup: _c, annotations: _a, pidStartTime: _p, ...bare } = good;
  assert.deepEqual(parseRecord(JSON.stringify({ ...bare, status: 'creating', pid: 0 }), FILE, 'web'), { ...bare, status: 'creating', pid: 0 });
});

test('a file cut short is not valid JSON, naming the file', () => {
  assert.throws(() => parseRecord('{"ociVersion": "1.2', FILE, 'web'), (err: unknown) => isBerthError(err, 'state_corrupt') && err.message === `container "web": ${FILE} is not valid JSON`);
});

test('pids that would signal a stranger are refused: init, process groups, beyond pid_max', () => {
  refused({ ...good, pid: 1 }, 'pid', /pid: want 0 or a process id from 2 to 4194304, found number 1/);
  refused({ ...good, pid: -1 }, 'pid', /found number -1/);
  refused({ ...good, pid: 2.5 }, 'pid', /found number 2.5/);
  refused({ ...good, pid: 4_194_305 }, 'pid', /found number 4194305/);
  refused({ ...good, pid: '4242' }, 'pid', /found "4242"/);
});

test('a record for another id is refused', () => {
  refused({ ...good, id: 'db' }, 'id', /id: "db" is not the container's id "web"/);
});

test('cgroup directories outside an absolute path without ".." are refused', () => {
  refused({ ...good, cgroup: { mode: 'v2', dirs: { unified: '/sys/fs/cgroup/../../etc' } } }, 'cgroup.dirs.unified', /cgroup\.dirs\.unified: "\/sys\/fs\/cgroup\/..\/..\/etc" is not an absolute path without ".."/);
  refused({ ...good, cgroup: { mode: 'v2', dirs: { unified: 'berth/web' } } }, 'cgroup.dirs.unified', /is not an absolute path/);
  refused({ ...good, cgroup: { mode: 'v3', dirs: {} } }, 'cgroup.mode', /cgroup\.mode: want "v1", "v2" or "hybrid", found "v3"/);
  refused({ ...good, cgroup: [] }, 'cgroup', /cgroup: want an object, found an array/);
});

test('each field has its type', () => {
  refused({ ...good, status: 'paused' }, 'status', /status: want one of creating, created, running, stopped, found "paused"/);
  refused({ ...good, bundle: 'relative/dir' }, 'bundle', /bundle: "relative\/dir" is not an absolute path/);
  refused({ ...good, rootfs: null }, 'rootfs', /rootfs: want a string, found null/);
  refused({ ...good, config: 'x' }, 'config', /config: want an object, found "x"/);
  refused({ ...good, pidStartTime: 12 }, 'pidStartTime', /pidStartTime: want a start time in clock ticks, found number 12/);
  refused({ ...good, namespaces: { pid: 'ns' } }, 'namespaces.pid', /namespaces\.pid: "ns" is neither "" nor an absolute path/);
  refused({ ...good, annotations: { a: 1 } }, 'annotations.a', /annotations\.a: want a string, found number 1/);
  const { owner: _o, ...noOwner } = good;
  refused(noOwner, 'owner', /owner: want a string, found nothing/);
  refused([good], undefined, /want an object, found an array/);
});
