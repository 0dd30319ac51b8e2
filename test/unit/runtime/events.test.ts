/**
 * `events` without root: the event stream over a stand-in container (a
 * real child process and cgroup directories in a temp dir holding the
 * control files), runc's JSON shape and number encoding, and --interval's
 * Go durations.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test, type TestContext } from 'node:test';
import { parseGoDuration } from '../../../src/cli/berth-runtime/commands/events.ts';
import { isBerthError } from '../../../src/errors.ts';
import { defaultSpec } from '../../../src/oci/default-spec.ts';
import type { CgroupPaths } from '../../../src/runtime/cgroups/index.ts';
import { runtimeContext, type RuntimeContext } from '../../../src/runtime/lifecycle/context.ts';
import { cpusetStats, encodeEvent, parseCpuList, runcStats, type RuntimeEvent, statsEvent, watchEvents } from '../../../src/runtime/lifecycle/events.ts';
import { isAlive, readProcStat } from '../../../src/runtime/state/proc.ts';

function tempDir(t: TestContext): string {
  const dir = mkdtempSync(join(tmpdir(), 'berth-events-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** Control files as a v1 kernel shows them, one directory per controller. */
function fakeV1(root: string): CgroupPaths {
  const files: Record<string, Record<string, string>> = {
    cpuacct: {
      'cpuacct.usage': '3000000\n', 'cpuacct.stat': 'user 1\nsystem 2\n', 'cpuacct.usage_percpu': '1000000 2000000 \n',
      'cpuacct.usage_all': 'cpu user system\n0 600000 400000\n1 1500000 500000\n',
    },
    cpu: { 'cpu.stat': 'nr_periods 10\nnr_throttled 4\nthrottled_time 5000\n' },
    cpuset: {
      'cpuset.cpus': '0-2,5\n', 'cpuset.mems': '0\n', 'cpuset.cpu_exclusive': '0\n', 'cpuset.mem_hardwall': '0\n', 'cpuset.mem_exclusive': '1\n',
      'cpuset.memory_migrate': '0\n', 'cpuset.memory_spread_page': '0\n', 'cpuset.memory_spread_slab': '0\n', 'cpuset.memory_pressure': '0\n',
      'cpuset.sched_load_balance': '1\n', 'cpuset.sched_relax_domain_level': '-1\n',
    },
    memory: {
      'memory.limit_in_bytes': '33554432\n', 'memory.usage_in_bytes': '1048576\n', 'memory.max_usage_in_bytes': '2097152\n', 'memory.failcnt': '3\n',
      'memory.memsw.limit_in_bytes': '9223372036854771712\n', 'memory.memsw.usage_in_bytes': '1048576\n',
      'memory.stat': 'cache 4096\nrss 8192\n', 'memory.oom_control': 'oom_kill_disable 0\nunder_oom 0\noom_kill 0\n',
    },
    pids: { 'pids.current': '2\n', 'pids.max': '64\n' },
    freezer: { 'freezer.state': 'THAWED\n' },
  };
  const dirs: Record<string, string> = {};
  for (const [controller, entries] of Object.entries(files)) {
    const dir = join(root, controller, 'berth', 'c1');
    mkdirSync(dir, { recursive: true });
    for (const [name, text] of Object.entries(entries)) writeFileSync(join(dir, name), text);
    dirs[controller] = dir;
  }
  return { mode: 'v1', dirs };
}

/** A stand-in container: a sleeping child process and a state record pointing at the fake cgroup. */
async function standIn(t: TestContext): Promise<{ ctx: RuntimeContext; id: string; pid: number; paths: CgroupPaths; stop: () => void }> {
  const root = tempDir(t);
  const paths = fakeV1(join(root, 'cgroup'));
  const child = spawn('sleep', ['1000'], { stdio: 'ignore' });
  t.after(() => child.kill('SIGKILL'));
  const pid = child.pid ?? 0;
  const ctx = runtimeContext(join(root, 'state'));
  const id = 'c1';
  await ctx.store.claim(id);
  await ctx.store.write({
    ociVersion: '1.2.0', id, status: 'running', pid, bundle: root, rootfs: join(root, 'rootfs'), created: new Date().toISOString(), owner: 'root',
    pidStartTime: readProcStat(pid)?.startTime ?? '', config: defaultSpec(), cgroup: paths, namespaces: {},
  });
  return { ctx, id, pid, paths, stop: () => child.kill('SIGKILL') };
}

async function until(what: string, check: () => boolean): Promise<void> {
  const deadline = Date.now() + 5000;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

describe('events: stream', () => {
  test('stats every interval, an oom event per kill, and the end when the container stops', async (t) => {
    const { ctx, id, paths, stop } = await standIn(t);
    const seen: RuntimeEvent[] = [];
    const done = watchEvents(ctx, id, { intervalMs: 10, onEvent: (e) => seen.push(e) });
    await until('two stats events', () => seen.filter((e) => e.type === 'stats').length >= 2);
    const first = seen[0];
    assert.equal(first?.type, 'stats');
    assert.equal(first.id, id);
    assert.equal(first.data?.memory.usage.limit, 33554432);
    assert.equal(first.data?.pids.current, 2);
    assert.equal(first.data?.pids.limit, 64);
    assert.ok(!seen.some((e) => e.type === 'oom'));

    writeFileSync(join(paths.dirs['memory'] ?? '', 'memory.oom_control'), 'oom_kill_disable 0\nunder_oom 0\noom_kill 2\n');
    await until('two oom events', () => seen.filter((e) => e.type === 'oom').length === 2);
    assert.deepEqual(seen.filter((e) => e.type === 'oom'), [{ type: 'oom', id }, { type: 'oom', id }]);

    // A kill that ends the container is still reported before the stream ends.
    writeFileSync(join(paths.dirs['memory'] ?? '', 'memory.oom_control'), 'oom_kill_disable 0\nunder_oom 0\noom_kill 3\n');
    stop();
    await done;
    assert.equal(seen.filter((e) => e.type === 'oom').length, 3);
  });

  test('the stream ends when the cgroup is removed, or when the reader aborts', async (t) => {
    const a = await standIn(t);
    const ended = watchEvents(a.ctx, a.id, { intervalMs: 1000, onEvent: () => undefined });
    rmSync(a.paths.dirs['memory'] ?? '', { recursive: true });
    await ended;

    const b = await standIn(t);
    const abort = new AbortController();
    const stopped = watchEvents(b.ctx, b.id, { intervalMs: 1000, onEvent: () => undefined, signal: abort.signal });
    abort.abort();
    await stopped;
  });

  test('a stopped container and a missing one are refused, as runc words it', async (t) => {
    const { ctx, id, pid, stop } = await standIn(t);
    stop();
    await until('the stand-in to die', () => !isAlive(pid, undefined));
    await assert.rejects(statsEvent(ctx, id), (err) => isBerthError(err, 'not_running') && err.message === `container "${id}": not running`);
    await assert.rejects(watchEvents(ctx, id, { intervalMs: 10, onEvent: () => undefined }), (err) => isBerthError(err, 'not_running'));
    await assert.rejects(statsEvent(ctx, 'nope'), (err) => isBerthError(err, 'container_not_found') && /container "nope": does not exist/.test(err.message));
  });
});

describe('events: runc\'s JSON', () => {
  test('stats data has runc\'s sections, in runc\'s order, with real values', async (t) => {
    const paths = fakeV1(tempDir(t));
    const data = await runcStats(paths);
    assert.deepEqual(Object.keys(data), ['cpu', 'cpuset', 'memory', 'pids', 'blkio', 'hugetlb', 'intel_rdt', 'network_interfaces']);
    assert.deepEqual(Object.keys(data.cpu.usage), ['total', 'percpu', 'percpu_kernel', 'percpu_user', 'kernel', 'user']);
    assert.deepEqual(data.cpu.usage, {
      total: 3000000, percpu: [1000000, 2000000], percpu_kernel: [400000, 500000], percpu_user: [600000, 1500000], kernel: 20000000, user: 10000000,
    });
    assert.deepEqual(data.cpu.throttling, { periods: 10, throttledPeriods: 4, throttledTime: 5000 });
    assert.deepEqual(Object.keys(data.memory), ['cache', 'usage', 'swap', 'kernel', 'kernelTCP', 'raw']);
    assert.deepEqual(data.memory.usage, { limit: 33554432, usage: 1048576, max: 2097152, failcnt: 3 });
    assert.deepEqual(data.pids, { current: 2, limit: 64 });
    assert.equal(data.network_interfaces, null);
    assert.deepEqual(data.intel_rdt, {});
  });

  test('cpuset lists and flags', async (t) => {
    const paths = fakeV1(tempDir(t));
    const c = await cpusetStats(paths);
    assert.deepEqual(Object.keys(c).slice(0, 3), ['cpus', 'cpu_exclusive', 'mems']);
    assert.deepEqual(c.cpus, [0, 1, 2, 5]);
    assert.deepEqual(c.mems, [0]);
    assert.equal(c.mem_exclusive, 1);
    assert.equal(c.sched_relax_domain_level, -1);
    const none = await cpusetStats({ mode: 'v1', dirs: {} });
    assert.equal(none.cpus, undefined);
    assert.equal(none.cpu_exclusive, 0);
    assert.deepEqual(parseCpuList('0-1,3,7-8\n'), [0, 1, 3, 7, 8]);
    assert.deepEqual(parseCpuList(''), []);
  });

  test('uint64 counters are written as exact integers; 2^64 ("max") as 2^64-1', () => {
    const event: RuntimeEvent = { type: 'oom', id: 'x' };
    assert.equal(encodeEvent(event), '{"type":"oom","id":"x"}');
    const line = encodeEvent({ type: 'stats', id: 'x', data: { memory: { usage: { limit: 2 ** 64, failcnt: 0 }, kernel: { limit: 9223372036854771712, failcnt: 0 } } } as unknown as NonNullable<RuntimeEvent['data']> });
    assert.match(line, /"usage":\{"limit":18446744073709551615,"failcnt":0\}/);
    assert.match(line, /"kernel":\{"limit":9223372036854771712,"failcnt":0\}/);
    assert.ok(!line.includes('e+'));
  });
});

describe('events: --interval', () => {
  test('Go durations', () => {
    assert.equal(parseGoDuration('5s'), 5000);
    assert.equal(parseGoDuration('250ms'), 250);
    assert.equal(parseGoDuration('1m30s'), 90_000);
    assert.equal(parseGoDuration('1.5h'), 5_400_000);
    assert.equal(parseGoDuration('100us'), 0.1);
    assert.equal(parseGoDuration('0'), 0);
    assert.equal(parseGoDuration('-1s'), -1000);
    for (const bad of ['5', '', 's', '1x', '1.2.3s', '5 s', 'ms']) {
      assert.throws(() => parseGoDuration(bad), (err) => isBerthError(err, 'invalid_flag') && err.message.includes(`"${bad}" is not a duration`), bad);
    }
  });
});
