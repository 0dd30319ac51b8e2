import { test } from 'node:test';
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { openCgroup, watchOom } from '../../../src/runtime/cgroups/index.ts';
import { fakeHost } from './fake-host.ts';

async function until(what: string, check: () => boolean): Promise<void> {
  const deadline = Date.now() + 5000;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

test('v2: watchOom reports new oom_kill counts from memory.events, not the ones before it started', async (t) => {
  const host = fakeHost(t, 'v2');
  const cg = openCgroup({ cgroupsPath: '/c', id: 'c' }, { fsRoot: host.root });
  await cg.create();
  host.write('/sys/fs/cgroup/c/memory.events', 'oom 2\noom_kill 2\n');
  const kills: number[] = [];
  const w = watchOom(cg.paths, (n) => kills.push(n), { fsRoot: host.root, intervalMs: 10 });
  t.after(() => w[Symbol.dispose]());
  host.write('/sys/fs/cgroup/c/memory.events', 'oom 3\noom_kill 3\n');
  await until('one kill', () => kills.length === 1);
  host.write('/sys/fs/cgroup/c/memory.events', 'oom 5\noom_kill 5\n');
  await until('two more kills', () => kills.reduce((a, b) => a + b, 0) === 3);
  assert.deepEqual(kills, [1, 2]);
});

test('v1: watchOom polls memory.oom_control and stops when the cgroup goes away', async (t) => {
  const host = fakeHost(t, 'v1');
  const cg = openCgroup({ cgroupsPath: '/c', id: 'c' }, { fsRoot: host.root });
  await cg.create();
  host.write('/sys/fs/cgroup/memory/c/memory.oom_control', 'oom_kill_disable 0\nunder_oom 0\noom_kill 0\n');
  const kills: number[] = [];
  let gone = false;
  const w = watchOom(cg.paths, (n) => kills.push(n), { fsRoot: host.root, intervalMs: 10, onGone: () => (gone = true) });
  t.after(() => w[Symbol.dispose]());
  host.write('/sys/fs/cgroup/memory/c/memory.oom_control', 'oom_kill_disable 0\nunder_oom 0\noom_kill 1\n');
  await until('the kill', () => kills.length === 1);
  rmSync(host.path('/sys/fs/cgroup/memory/c'), { recursive: true });
  await until('onGone', () => gone);
});
