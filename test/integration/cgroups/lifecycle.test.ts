/**
 * Root only: cgroups come and go without leaving directories behind, also
 * when the container made cgroups of its own or the runtime crashed.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readdirSync } from 'node:fs';
import { cgroupFromPaths, findLeftovers, openCgroup } from '../../../src/runtime/cgroups/index.ts';
import { emptyCgroup, hostMode, isRoot, killGroup, uniqueName, waitingShell } from './helpers.ts';

const skip = !isRoot ? 'needs root' : hostMode() === 'none' ? 'no cgroups mounted' : false;

/** Every cgroup directory under the hierarchy mount points whose name starts with prefix. */
function dirsNamed(prefix: string): string[] {
  const found: string[] = [];
  for (const mount of readdirSync('/sys/fs/cgroup', { withFileTypes: true })) {
    if (!mount.isDirectory()) continue;
    const top = `/sys/fs/cgroup/${mount.name}`;
    for (const e of readdirSync(top, { withFileTypes: true })) if (e.isDirectory() && e.name.startsWith(prefix)) found.push(`${top}/${e.name}`);
  }
  for (const e of readdirSync('/sys/fs/cgroup', { withFileTypes: true })) if (e.isDirectory() && e.name.startsWith(prefix)) found.push(`/sys/fs/cgroup/${e.name}`);
  return found;
}

async function removeAll(prefix: string): Promise<void> {
  for (const dir of dirsNamed(prefix)) {
    await emptyCgroup(dir);
    await cgroupFromPaths({ mode: 'v1', dirs: { x: dir } }).destroy();
  }
}

describe('cgroup lifecycle (root)', { skip }, () => {
  test('1,000 cycles of create, addProcess of a short-lived process, destroy leave no directory', { timeout: 300_000 }, async (t) => {
    const prefix = uniqueName('cycle');
    t.after(() => removeAll(prefix));
    for (let i = 0; i < 1000; i++) {
      const cg = openCgroup({ cgroupsPath: `/${prefix}-${i}`, id: String(i), resources: { pids: { limit: 10 } } });
      await cg.create();
      const w = waitingShell('exit 0');
      try {
        await cg.addProcess(w.pid);
        w.go();
        await w.done;
      } finally {
        await killGroup(w);
      }
      // The reaped process may leave the cgroup a moment later: destroy waits for that.
      await cg.destroy();
    }
    assert.deepEqual(dirsNamed(prefix), []);
  });

  test('destroy removes cgroups the container made inside its own, deepest first; missing dirs are fine', async (t) => {
    const name = uniqueName('nest');
    t.after(() => removeAll(name));
    const cg = openCgroup({ cgroupsPath: `/${name}`, id: name });
    await cg.create();
    for (const dir of new Set(Object.values(cg.paths.dirs))) mkdirSync(`${dir}/sub/deeper`, { recursive: true });
    await cg.destroy();
    assert.deepEqual(dirsNamed(name), []);
    await cg.destroy();
  });

  test('destroy waits briefly for exiting processes and fails naming the directory when one stays', async (t) => {
    const name = uniqueName('busy');
    t.after(() => removeAll(name));
    const cg = openCgroup({ cgroupsPath: `/${name}`, id: name });
    await cg.create();
    const w = waitingShell('sleep 60');
    t.after(() => killGroup(w));
    await cg.addProcess(w.pid);
    w.go();
    await assert.rejects(cg.destroy(), /cgroup: remove \/sys\/fs\/cgroup\/.*EBUSY: processes are still in the cgroup/);
    assert.ok(dirsNamed(name).length > 0, 'nothing killed, the cgroup stays');
  });

  test('findLeftovers lists the cgroups of containers that are gone, under a parent', async (t) => {
    const parent = uniqueName('left');
    t.after(() => removeAll(parent));
    for (const id of ['alive', 'gone1', 'gone2']) await openCgroup({ cgroupsPath: `/${parent}/${id}`, id }).create();
    const left = await findLeftovers(`/${parent}`, { keep: ['alive'] });
    assert.deepEqual(left.map((l) => l.name), ['gone1', 'gone2']);
    for (const l of left) {
      assert.ok(Object.values(l.paths.dirs).every((d) => d.endsWith(`/${parent}/${l.name}`)));
      await cgroupFromPaths(l.paths).destroy();
    }
    assert.deepEqual((await findLeftovers(`/${parent}`, { keep: ['alive'] })).length, 0);
    assert.ok(Object.values(openCgroup({ cgroupsPath: `/${parent}/alive`, id: 'alive' }).paths.dirs).every((d) => existsSync(d)));
  });
});
