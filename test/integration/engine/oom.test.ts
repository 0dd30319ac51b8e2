/**
 * A container that needs more memory than `--memory` allows is killed by
 * the kernel's OOM killer, and berthd says so as docker does (root only; a
 * real daemon, its own roots): inspect's State.OOMKilled is true and the
 * exit code 137, read from the container's memory cgroup before the
 * runtime removes it (src/engine/oom.ts: memory.events on cgroup v2,
 * memory.oom_control on v1, as on hybrid hosts). A container that stays
 * under its limit is not marked.
 */
import assert from 'node:assert/strict';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { createContainer, daemonFixture, inspect, until, waitExit, type DaemonFixture } from '../../helpers/berthd-process.ts';
import { assertNoLeaks } from '../../helpers/engine-leaks.ts';

let fx: DaemonFixture;
before(async () => {
  fx = await daemonFixture();
});
after(async () => {
  await fx?.cleanup();
});

test('--memory 16m and a 64 MiB allocation: OOM-killed, inspect says OOMKilled and exit code 137', async (t) => {
  const d = await fx.start();
  const ids = new Set<string>();
  // dd's block buffer is one allocation, filled from /dev/zero: 64 MiB resident at once.
  const hog = await createContainer(d.client, ['dd', 'if=/dev/zero', 'of=/dev/null', 'bs=64M', 'count=1'], { memory: '16m' });
  const modest = await createContainer(d.client, ['dd', 'if=/dev/zero', 'of=/dev/null', 'bs=1M', 'count=1'], { memory: '16m' });
  for (const id of [hog, modest]) {
    ids.add(id);
    const waiting = waitExit(d.client, id, 'next-exit');
    await d.client.json('POST', `/containers/${id}/start`);
    await waiting;
  }
  const hogState = (await inspect(d.client, hog)).State;
  assert.equal(hogState.ExitCode, 137);
  assert.equal(hogState.OOMKilled, true);
  const modestState = (await inspect(d.client, modest)).State;
  assert.equal(modestState.ExitCode, 0);
  assert.equal(modestState.OOMKilled, false);
  for (const id of ids) await d.client.json('DELETE', `/containers/${id}`);
  await assertNoLeaks(t, fx.root, fx.runRoot, ids);
  await d.stop();
});

test('an OOM kill while no berthd runs (killed with SIGKILL) is reported by the next one', async (t) => {
  const d = await fx.start();
  const id = await createContainer(d.client, ['sh', '-c', 'while [ ! -e /go ]; do sleep 0.05; done; exec dd if=/dev/zero of=/dev/null bs=64M count=1'], { memory: '16m' });
  await d.client.json('POST', `/containers/${id}/start`);
  await d.kill9();
  writeFileSync(join(fx.root, 'containers', id, 'rootfs', 'go'), '');
  await until('the monitor to record the exit', () => existsSync(join(fx.runRoot, 'containers', id, 'exit')));
  const next = await fx.start();
  assert.equal((await waitExit(next.client, id)).StatusCode, 137);
  const s = (await inspect(next.client, id)).State;
  assert.equal(s.OOMKilled, true);
  assert.equal(s.ExitCode, 137);
  await next.client.json('DELETE', `/containers/${id}`);
  await assertNoLeaks(t, fx.root, fx.runRoot, [id]);
  await next.stop();
});
