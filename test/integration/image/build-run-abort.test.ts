/**
 * A build's RUN container and cancellation (src/image/build/exec/
 * run-container.ts): an abort that lands while the container is being
 * created (berthd cancels a build when its client goes away, at any moment)
 * must stop it before its command runs. The abort listener used to be
 * added only once create had returned, so such an abort was missed and the
 * command ran to its end. The container's createRuntime hook holds create
 * open until the test has aborted. As root.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { runContainer, runSpec } from '../../../src/image/build/exec/run-container.ts';
import { makeRootfs, tempDir, waitFor } from '../../helpers/runtime.ts';

test('an abort while the RUN container is being created stops it before its command runs', async (t) => {
  const dir = tempDir(t, 'berth-run-abort-');
  const rootfs = makeRootfs(dir);
  const bundleDir = join(dir, 'step');
  const runtimeRoot = join(dir, 'runtime');
  const gate = join(dir, 'gate');
  for (const d of [bundleDir, runtimeRoot, gate]) mkdirSync(d);
  writeFileSync(join(gate, 'hold'), '');
  const spec = runSpec({ args: ['sh', '-c', 'touch /marker'], env: ['PATH=/bin'], cwd: '/', user: { uid: 0, gid: 0, additionalGids: [], home: '/root' }, rootfs });
  // createRuntime hooks run on the host while create is under way: this one waits for the test.
  spec.hooks = { createRuntime: [{ path: '/bin/sh', args: ['sh', '-c', `touch ${gate}/in-create; while [ -e ${gate}/hold ]; do sleep 0.01; done`] }] };
  const abort = new AbortController();
  const run = runContainer({ runtimeRoot, bundleDir, spec, signal: abort.signal });
  run.catch(() => undefined);
  await waitFor('create to reach its hook', () => (existsSync(join(gate, 'in-create')) ? true : undefined));
  abort.abort();
  rmSync(join(gate, 'hold'));
  await assert.rejects(run, (err: unknown) => err instanceof Error && err.name === 'AbortError');
  assert.equal(existsSync(join(rootfs, 'marker')), false, 'the RUN command never ran');
  assert.deepEqual(readdirSync(runtimeRoot).filter((n) => n.startsWith('build-')), [], 'the container is deleted');
});
