/**
 * What a new engine finds after the old one vanished without cleaning up
 * (its process died: here its watchers are dropped and a second Engine is
 * opened on the same roots, as a restarted berthd does): running containers
 * re-adopted, exits missed in between recorded, half-made containers and
 * orphaned snapshots undone, and restart policies applied as docker does.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { setTimeout as delay } from 'node:timers/promises';
import { snapshots } from '../../../src/engine/rootfs.ts';
import { containerDir, runDir, runtimeRoot, snapshotKey } from '../../../src/engine/paths.ts';
import { parseRunOptions, type RunFlags } from '../../../src/engine/spec/options.ts';
import { testEngine, type TestEngine } from '../../helpers/engine.ts';
import type { Engine } from '../../../src/engine/engine.ts';

let te: TestEngine;
before(async () => {
  te = await testEngine();
});
after(async () => {
  await te?.cleanup();
});

async function running(engine: Engine, name: string, script: string, flags: RunFlags = {}): Promise<string> {
  const c = await engine.create({ image: 'busybox', args: ['sh', '-c', script], options: parseRunOptions({ network: 'none', name, ...flags }) });
  await engine.start(c.id);
  return c.id;
}

async function until(what: string, check: () => boolean, ms = 20_000): Promise<void> {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await delay(25);
  }
}

test('a running container is re-adopted: stop works and its exit code is recorded', async () => {
  const old = await te.reopen();
  const id = await running(old, 'rec-run', 'trap "exit 42" TERM; while :; do sleep 0.1; done');
  old.close();
  const fresh = await te.reopen();
  const report = await fresh.recover();
  assert.ok(report.adopted.includes(id), JSON.stringify(report));
  assert.equal(fresh.view(id).record.state, 'running');
  const stopped = await fresh.stop(id, { timeout: 10 });
  assert.equal(stopped.exitCode, 42);
  await fresh.remove(id);
  fresh.close();
});

test('an exit while no engine ran is recorded at recovery', async () => {
  const old = await te.reopen();
  const id = await running(old, 'rec-exit', 'sleep 0.3; exit 7');
  old.close();
  await until('the exit file', () => existsSync(join(runDir(te.engine.paths, id), 'exit')));
  const fresh = await te.reopen();
  const report = await fresh.recover();
  assert.ok(report.exited.includes(id));
  const r = fresh.view(id).record;
  assert.equal(r.state, 'exited');
  assert.equal(r.exitCode, 7);
  await fresh.remove(id);
  fresh.close();
});

test('a runtime directory a crash left without its state (a delete cut off between the two) is removed at recovery', async () => {
  const old = await te.reopen();
  const id = await running(old, 'rec-bare', 'exit 0');
  await until('the exit recorded', () => old.containers.get(id)?.state === 'exited');
  await delay(200);
  old.close();
  // What a kill -9 between the state file's unlink and the directory's removal leaves: the directory and its lock.
  const dir = join(runtimeRoot(te.engine.paths), id);
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'lock'), '');
  const fresh = await te.reopen();
  await fresh.recover();
  assert.equal(existsSync(dir), false, 'the bare runtime directory is gone');
  assert.equal(fresh.view(id).record.state, 'exited');
  await fresh.remove(id);
  fresh.close();
});

test('a half-made container and an orphaned snapshot are undone, nothing of them left', async () => {
  const engine = await te.reopen();
  const half = engine.containers.beginCreate({ name: 'rec-half', imageRef: 'busybox', imageId: 'sha256:x', options: {} });
  const snap = await snapshots(te.root);
  const top = snap.list().find((s) => s.kind === 'committed')!.key;
  await snap.prepare(snapshotKey(half.id), top);
  mkdirSync(containerDir(engine.paths, half.id), { recursive: true });
  const orphan = 'f'.repeat(64);
  await snap.prepare(snapshotKey(orphan), top);
  engine.close();
  const fresh = await te.reopen();
  const report = await fresh.recover();
  assert.ok(report.cleaned.includes(half.id) && report.cleaned.includes(orphan), JSON.stringify(report));
  assert.equal(fresh.containers.get(half.id), undefined);
  assert.equal(snap.stat(snapshotKey(half.id)), undefined);
  assert.equal(snap.stat(snapshotKey(orphan)), undefined);
  assert.equal(existsSync(containerDir(fresh.paths, half.id)), false);
  fresh.close();
});

test('restart policies: on-failure retries up to its count, always restarts, a user stop is remembered', async () => {
  const engine = await te.reopen();
  const flaky = await running(engine, 'rec-onfail', 'exit 3', { restart: 'on-failure:2' });
  await until('two restarts', () => engine.view(flaky).record.restartCount === 2 && engine.view(flaky).record.state === 'exited' && !engine.view(flaky).restarting);
  await delay(500);
  assert.equal(engine.view(flaky).record.restartCount, 2);
  const always = await running(engine, 'rec-always', 'sleep 0.2', { restart: 'always' });
  await until('a restart', () => engine.view(always).record.restartCount >= 1);
  await engine.stop(always, { timeout: 1 });
  const unless = await running(engine, 'rec-unless', 'sleep 600', { restart: 'unless-stopped' });
  await engine.stop(unless, { timeout: 1 });
  engine.close();
  // At an engine start, docker restarts `always` even after a user's stop, never a stopped `unless-stopped`.
  const fresh = await te.reopen();
  const report = await fresh.recover();
  assert.ok(report.restarted.includes(always));
  assert.ok(!report.restarted.includes(unless));
  assert.equal(fresh.view(unless).record.state, 'exited');
  for (const id of [flaky, always, unless]) await fresh.remove(id, { force: true });
  fresh.close();
});

test('volumes: a named volume outlives its container, an anonymous one goes with rm -v, image files are copied up', async () => {
  const engine = await te.reopen();
  const id = await running(engine, 'rec-vol', 'echo data > /named/f; ls /anon > /named/listing', { volume: ['recvol:/named', '/etc'] });
  await engine.wait(id);
  const vols = engine.volumes.usedBy(id);
  const anon = vols.find((v) => v.anonymous)!;
  assert.ok(existsSync(join(anon.mountpoint, 'passwd')), 'the image\'s /etc was copied into the new volume');
  await engine.remove(id, { volumes: true });
  assert.throws(() => engine.volumes.inspect(anon.name), /not found/);
  const named = engine.volumes.inspect('recvol');
  assert.ok(existsSync(join(named.mountpoint, 'f')));
  engine.volumes.remove('recvol');
  engine.close();
});
