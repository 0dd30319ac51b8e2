/**
 * `run --pull missing|always|never` against a registry on loopback (Debian's
 * docker-registry, started by the test): an image not in the store is
 * pulled by berthd; `always` takes the registry's newer image under the
 * same tag where `missing` keeps the stored one; `never` refuses by name.
 */
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { show, startDaemon, type TestDaemon } from '../../helpers/daemon.ts';
import { startRegistry, type RegistryServer } from '../../helpers/registry.ts';
import { makeRootfs } from '../../helpers/runtime.ts';

let d: TestDaemon;
let registry: RegistryServer;
before(async () => {
  registry = await startRegistry();
  d = await startDaemon();
});
after(async () => {
  await d?.stop();
  await registry?.stop();
});

test('an image not in the store is pulled; --pull always takes the newer one, missing keeps the stored one, never refuses', async () => {
  const ref = `${registry.host}/test/busybox:v1`;
  await d.ok(['push', 'busybox:latest', `docker://${ref}`]);
  const first = await d.berth(['run', '--rm', ref, 'sh', '-c', 'ls /marker 2>/dev/null || echo no-marker']);
  assert.equal(first.code, 0, show(first));
  assert.equal(first.stdout, 'no-marker\n', show(first));
  assert.match(await d.ok(['images']), /test\/busybox/);

  // A newer image under the same tag, in the registry only.
  const rootfs = makeRootfs(join(d.scratch, 'newer'));
  writeFileSync(join(rootfs, 'marker'), 'v2\n');
  await d.ok(['import', '--change', 'CMD ["sh"]', rootfs, 'newer:v2']);
  await d.ok(['push', 'newer:v2', `docker://${ref}`]);
  await d.ok(['rmi', 'newer:v2']);

  const missing = await d.berth(['run', '--rm', '--pull', 'missing', ref, 'sh', '-c', 'cat /marker 2>/dev/null || echo no-marker']);
  assert.equal(missing.stdout, 'no-marker\n', show(missing));
  const always = await d.berth(['run', '--rm', '--pull', 'always', ref, 'cat', '/marker']);
  assert.equal(always.code, 0, show(always));
  assert.equal(always.stdout, 'v2\n', show(always));

  const never = await d.berth(['run', '--rm', '--pull', 'never', `${registry.host}/test/absent:v1`, 'true']);
  assert.equal(never.code, 125, show(never));
  assert.match(never.stderr, /test\/absent/, show(never));
});
