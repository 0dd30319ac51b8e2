/**
 * Root only: what cgroup v2 offers without any controller, for real, on a
 * cgroup2 mount (this host's /sys/fs/cgroup/unified in hybrid mode, or
 * /sys/fs/cgroup on a v2 host): the freezer (cgroup.freeze, cgroup.events),
 * cpu.stat, cgroup.procs of nested cgroups, and removal.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { setTimeout as delay } from 'node:timers/promises';
import { cgroupFromPaths } from '../../../src/runtime/cgroups/index.ts';
import { emptyCgroup, isRoot, killGroup, uniqueName, until, waitingShell } from './helpers.ts';

function v2Mount(): string | undefined {
  const line = readFileSync('/proc/self/mountinfo', 'utf8').split('\n').find((l) => / - cgroup2 /.test(l));
  return line?.split(' ')[4];
}

const mount = v2Mount();
const skip = !isRoot ? 'needs root' : mount === undefined ? 'no cgroup2 mount' : false;

describe('cgroup v2 core files (root)', { skip }, () => {
  test('freeze stops a busy loop (cgroup.events frozen 1, cpu.stat still), thaw resumes it; stats and pids read', async (t) => {
    // Made by hand: create() would enable controllers on the host's cgroup2 root.
    const dir = `${mount}/${uniqueName('v2')}`;
    mkdirSync(dir);
    const cg = cgroupFromPaths({ mode: 'v2', dirs: { unified: dir } });
    t.after(async () => {
      await emptyCgroup(dir);
      await cg.destroy();
    });
    const w = waitingShell('while :; do :; done');
    t.after(() => killGroup(w));
    await cg.addProcess(w.pid);
    w.go();
    const usage = async (): Promise<number> => (await cg.stats()).cpu.usage.total ?? 0;
    await until('cpu time', 2000, async () => ((await usage()) > 0 ? true : undefined));
    assert.deepEqual(await cg.pids(), [w.pid]);
    await cg.freeze();
    assert.match(readFileSync(`${dir}/cgroup.events`, 'utf8'), /frozen 1/);
    assert.equal(await cg.state(), 'frozen');
    const frozenAt = await usage();
    await delay(300); // a frozen task must not run in this window
    assert.equal(await usage(), frozenAt);
    await cg.thaw();
    assert.equal(await cg.state(), 'thawed');
    await until('cpu time to advance', 2000, async () => ((await usage()) > frozenAt ? true : undefined));
    await killGroup(w);
    await cg.destroy();
    assert.equal(existsSync(dir), false);
  });
});
