/**
 * Root only: `top` and `stats` on a real process in a real cgroup. The
 * runtime's cgroup library makes a cgroup of a temporary name in every
 * hierarchy of this host (v1, v2 or hybrid: each v1 controller and the
 * unified one), a shell joins it and becomes `sleep` (or a busy loop); the
 * cleanup kills what is in it and removes it, also when a test fails.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { describe, test, type TestContext } from 'node:test';
import { openCgroup, type Cgroup } from '../../../../src/runtime/cgroups/index.ts';
import { cgroupPids, top } from '../../../../src/engine/ops/top.ts';
import { cpuPercent, memoryUsage, parseNetDev, readStats } from '../../../../src/engine/ops/stats.ts';
import { onCleanup } from '../../../helpers/cleanup.ts';
import { emptyCgroup, hostMode, isRoot, killGroup, uniqueName, until, waitingShell } from '../../cgroups/helpers.ts';

const skip = !isRoot ? 'needs root' : hostMode() === 'none' ? 'no cgroups mounted' : false;
const MEMORY_LIMIT = 64 * 1024 * 1024;

interface Running {
  cg: Cgroup;
  pid: number;
}

/** A cgroup with a memory and pids limit, and `script` running in it (exec'd by the shell that joined it). */
async function inCgroup(t: TestContext, script: string, comm: string): Promise<Running> {
  const id = uniqueName('ops');
  const cg = openCgroup({ cgroupsPath: `/${id}`, id, resources: { memory: { limit: MEMORY_LIMIT }, pids: { limit: 50 } } });
  onCleanup(t, async () => {
    for (const dir of new Set(Object.values(cg.paths.dirs))) await emptyCgroup(dir);
    await cg.destroy();
  });
  await cg.create();
  const w = waitingShell(script);
  onCleanup(t, () => killGroup(w));
  await cg.addProcess(w.pid);
  w.go();
  await until(`${comm} to run`, 10_000, () => (readFileSync(`/proc/${w.pid}/comm`, 'utf8').trim() === comm ? true : undefined));
  return { cg, pid: w.pid };
}

describe('top and stats on a real cgroup (root)', { skip }, () => {
  test('cgroupPids finds the process from the pids hierarchy, from any one v1 controller, and from the unified one', async (t) => {
    const { cg, pid } = await inCgroup(t, 'exec sleep 1000', 'sleep');
    assert.deepEqual(await cgroupPids(cg.paths), [pid]);
    const dirs = cg.paths.dirs;
    for (const controller of ['memory', 'freezer', 'unified']) {
      const dir = dirs[controller];
      if (dir === undefined) continue;
      assert.deepEqual(await cgroupPids({ mode: cg.paths.mode === 'v2' ? 'v2' : 'v1', dirs: { [controller]: dir } }), [pid], controller);
    }
  });

  test("top shows the cgroup's process, and only it, as ps -ef and ps aux show it", async (t) => {
    const { cg, pid } = await inCgroup(t, 'exec sleep 1000', 'sleep');
    const pids = await cgroupPids(cg.paths);
    const ef = await top(pids);
    assert.deepEqual(ef.Processes.map((p) => [p[1], p.at(-1)]), [[String(pid), 'sleep 1000']]);
    const aux = await top(pids, 'aux');
    assert.equal(aux.Processes.length, 1);
    assert.equal(aux.Processes[0]?.[aux.Titles.indexOf('PID')], String(pid));
  });

  test("stats: the cgroup's limits, usage and pids; the host's CPU time; the process's network namespace", async (t) => {
    const { cg, pid } = await inCgroup(t, 'exec sleep 1000', 'sleep');
    const s = await readStats(cg.paths, pid);
    assert.equal(s.memory_stats.limit, MEMORY_LIMIT);
    assert.ok((s.memory_stats.usage ?? 0) > 0, 'memory in use');
    assert.ok(memoryUsage(s).used > 0 && memoryUsage(s).used <= (s.memory_stats.usage ?? 0));
    assert.deepEqual(s.pids_stats, { current: 1, limit: 50 });
    assert.ok(s.cpu_stats.cpu_usage.total_usage > 0, 'the shell ran in the cgroup');
    assert.ok((s.cpu_stats.system_cpu_usage ?? 0) > 0);
    const online = readFileSync('/proc/stat', 'utf8').split('\n').filter((l) => /^cpu[0-9]+ /.test(l)).length;
    assert.equal(s.cpu_stats.online_cpus, online);
    // This process shares the host's network namespace: its interfaces but lo.
    assert.deepEqual(Object.keys(s.networks ?? {}).sort(), Object.keys(parseNetDev(readFileSync('/proc/net/dev', 'latin1'))).sort());
  });

  test('stats of a process in a network namespace of its own (--network none) show no networks', { skip: existsSync('/usr/bin/unshare') ? false : 'no unshare' }, async (t) => {
    const { cg } = await inCgroup(t, 'exec sleep 1000', 'sleep');
    const alone = spawn('unshare', ['--net', 'sleep', '1000'], { stdio: 'ignore' });
    onCleanup(t, () => {
      alone.kill('SIGKILL');
    });
    const pid = alone.pid ?? 0;
    await until('sleep in its own netns', 10_000, () => (readFileSync(`/proc/${pid}/comm`, 'utf8').trim() === 'sleep' ? true : undefined));
    const s = await readStats(cg.paths, pid);
    assert.equal(s.networks, undefined);
  });

  test("a busy process: two samples give the CLI's CPU % above 0", async (t) => {
    const { cg, pid } = await inCgroup(t, 'exec busybox sh -c "while :; do :; done"', 'busybox');
    const first = await readStats(cg.paths, pid);
    const second = await until('CPU time to pass', 10_000, async () => {
      const s = await readStats(cg.paths, pid, { previous: first });
      return (s.cpu_stats.system_cpu_usage ?? 0) > (first.cpu_stats.system_cpu_usage ?? 0) && s.cpu_stats.cpu_usage.total_usage > first.cpu_stats.cpu_usage.total_usage ? s : undefined;
    });
    assert.equal(second.preread, first.read);
    const percent = cpuPercent(second);
    assert.ok(percent > 0 && percent <= 100 * (second.cpu_stats.online_cpus ?? 1) + 1, `cpu ${percent}%`);
  });
});
