/** The daemon's own answers: the version berth reports is package.json's, in Docker's shapes and names. */
import assert from 'node:assert/strict';
import { readFileSync, statfsSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { daemonPaths } from '../../../src/api/paths.ts';
import { BERTH_VERSION, cgroupVersion, daemonId, goArch, infoBody, versionBody } from '../../../src/api/system-routes.ts';
import { tempDir } from '../../helpers/cleanup.ts';

test('the version berthd reports is package.json\'s', () => {
  const pkg = JSON.parse(readFileSync(join(import.meta.dirname, '../../../package.json'), 'utf8')) as { version: string };
  assert.equal(BERTH_VERSION, pkg.version);
  const v = versionBody();
  assert.equal(v['Version'], pkg.version);
  assert.equal(v['ApiVersion'], '1.50', 'docker CLI 28 asks for 1.50: a lower maximum makes it negotiate down');
  assert.equal(v['MinAPIVersion'], '1.24');
});

test('architectures by Go\'s names, as Docker clients expect them', () => {
  assert.equal(goArch('x64'), 'amd64');
  assert.equal(goArch('arm64'), 'arm64');
  assert.equal(goArch('ia32'), '386');
});

test('the cgroup version is the file system type of /sys/fs/cgroup (hybrid counts as 1)', () => {
  const unified = statfsSync('/sys/fs/cgroup').type === 0x63677270;
  assert.equal(cgroupVersion(), unified ? '2' : '1');
});

test('the daemon ID is made once and kept; info takes the engine\'s counts and driver from its hooks', async (t) => {
  const dir = tempDir(t);
  const paths = daemonPaths({ root: join(dir, 'root'), runRoot: join(dir, 'run') });
  const id = daemonId(paths.root);
  assert.match(id, /^[0-9a-f-]{36}$/);
  assert.equal(daemonId(paths.root), id);
  const info = await infoBody(paths, id, { counts: () => ({ Containers: 4, ContainersRunning: 1, ContainersPaused: 1, ContainersStopped: 2, Images: 7 }), driver: () => 'copy' });
  assert.equal(info['ID'], id);
  assert.equal(info['Containers'], 4);
  assert.equal(info['ContainersStopped'], 2);
  assert.equal(info['Images'], 7);
  assert.equal(info['Driver'], 'copy');
  assert.equal(info['DockerRootDir'], paths.root);
});
