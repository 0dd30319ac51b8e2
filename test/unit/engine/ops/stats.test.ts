/**
 * Docker's stats JSON from a fake cgroupfs tree (v1, v2, hybrid) and fake
 * /proc files, and the docker CLI's figures computed from it.
 */
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import { openCgroup } from '../../../../src/runtime/cgroups/index.ts';
import { blockIO, cpuPercent, memoryUsage, networkIO, parseNetDev, parseProcStat, readStats, ZERO_TIME, type DockerStats } from '../../../../src/engine/ops/stats.ts';
import { isBerthError } from '../../../../src/errors.ts';
import { tempDir } from '../../../helpers/cleanup.ts';
import { fakeHost, type FakeHost } from '../../cgroups/fake-host.ts';

const PROC_STAT = `cpu  100 5 50 1000 10 1 2 0 0 0
cpu0 50 2 25 500 5 1 1 0 0 0
cpu1 50 3 25 500 5 0 1 0 0 0
intr 123
`;
const NET_DEV = `Inter-|   Receive                                                |  Transmit
 face |bytes    packets errs drop fifo frame compressed multicast|bytes    packets errs drop fifo colls carrier compressed
    lo:     100       1    0    0    0     0          0         0      100       1    0    0    0     0       0          0
  eth0:    2000      20    1    2    0     0          0         0     3000      30    3    4    0     0       0          0
`;

function fakeProc(t: TestContext, pid: number, netDev?: string): string {
  const proc = tempDir(t, 'berth-proc-');
  writeFileSync(join(proc, 'stat'), PROC_STAT);
  if (netDev !== undefined) {
    mkdirSync(join(proc, String(pid), 'net'), { recursive: true });
    writeFileSync(join(proc, String(pid), 'net', 'dev'), netDev);
  }
  return proc;
}

test('/proc/stat: host CPU time in ns over user..softirq, online CPUs counted', () => {
  assert.deepEqual(parseProcStat(PROC_STAT), { systemUsage: (100 + 5 + 50 + 1000 + 10 + 1 + 2) * 1e7, onlineCpus: 2 });
  assert.throws(() => parseProcStat('intr 1\n'), (e: unknown) => isBerthError(e, 'stats_proc_stat'));
});

test('/proc/PID/net/dev: per interface, lo left out', () => {
  assert.deepEqual(parseNetDev(NET_DEV), {
    eth0: { rx_bytes: 2000, rx_packets: 20, rx_errors: 1, rx_dropped: 2, tx_bytes: 3000, tx_packets: 30, tx_errors: 3, tx_dropped: 4 },
  });
});

async function v1Stats(t: TestContext, host: FakeHost, hostMemory: number): Promise<DockerStats> {
  const cg = openCgroup({ cgroupsPath: '/c', id: 'c' }, { fsRoot: host.root });
  await cg.create();
  const cpu = host.mode === 'hybrid' ? '/sys/fs/cgroup/cpuacct/c' : '/sys/fs/cgroup/cpu,cpuacct/c';
  host.write(`${cpu}/cpuacct.usage`, '5000000000\n');
  host.write(`${cpu}/cpuacct.usage_percpu`, '3000000000 2000000000\n');
  host.write(`${cpu}/cpuacct.stat`, 'user 300\nsystem 150\n');
  host.write(`${host.mode === 'hybrid' ? '/sys/fs/cgroup/cpu/c' : cpu}/cpu.stat`, 'nr_periods 10\nnr_throttled 4\nthrottled_time 123456\n');
  const mem = '/sys/fs/cgroup/memory/c';
  host.write(`${mem}/memory.limit_in_bytes`, '9223372036854771712\n');
  host.write(`${mem}/memory.usage_in_bytes`, '10000\n');
  host.write(`${mem}/memory.max_usage_in_bytes`, '20000\n');
  host.write(`${mem}/memory.stat`, 'cache 4096\ntotal_inactive_file 3000\n');
  host.write('/sys/fs/cgroup/pids/c/pids.current', '3\n');
  host.write('/sys/fs/cgroup/pids/c/pids.max', '100\n');
  host.write('/sys/fs/cgroup/blkio/c/blkio.throttle.io_service_bytes_recursive', '8:0 Read 4096\n8:0 Write 512\n8:0 Total 4608\nTotal 4608\n');
  const proc = fakeProc(t, 77, NET_DEV);
  return readStats(cg.paths, 77, { fsRoot: host.root, procRoot: proc, hostMemory, now: new Date('2026-01-02T03:04:05.678Z') });
}

for (const mode of ['v1', 'hybrid'] as const) {
  test(`${mode}: cpu, memory (limit capped at the host's), pids, blkio and networks in Docker's words`, async (t) => {
    const s = await v1Stats(t, fakeHost(t, mode), 1 << 30);
    assert.equal(s.read, '2026-01-02T03:04:05.678Z');
    assert.equal(s.preread, ZERO_TIME);
    assert.deepEqual(s.cpu_stats, {
      cpu_usage: { total_usage: 5e9, usage_in_kernelmode: 1.5e9, usage_in_usermode: 3e9, percpu_usage: [3e9, 2e9] },
      throttling_data: { periods: 10, throttled_periods: 4, throttled_time: 123456 },
      system_cpu_usage: 1168e7,
      online_cpus: 2,
    });
    assert.deepEqual(s.precpu_stats.cpu_usage, { total_usage: 0, usage_in_kernelmode: 0, usage_in_usermode: 0 });
    assert.equal(s.memory_stats.usage, 10000);
    assert.equal(s.memory_stats.max_usage, 20000);
    assert.equal(s.memory_stats.limit, 1 << 30, 'the unlimited cgroup shows the host memory');
    assert.equal(s.memory_stats.stats?.['cache'], 4096);
    assert.deepEqual(s.pids_stats, { current: 3, limit: 100 });
    assert.deepEqual(s.blkio_stats.io_service_bytes_recursive, [
      { major: 8, minor: 0, op: 'Read', value: 4096 },
      { major: 8, minor: 0, op: 'Write', value: 512 },
      { major: 8, minor: 0, op: 'Total', value: 4608 },
    ]);
    assert.equal(s.blkio_stats.io_serviced_recursive, null);
    assert.deepEqual(Object.keys(s.networks ?? {}), ['eth0']);
    // The CLI's figures: usage less total_inactive_file; block I/O read/write.
    assert.deepEqual(memoryUsage(s), { used: 7000, limit: 1 << 30, percent: (7000 / (1 << 30)) * 100 });
    assert.deepEqual(blockIO(s), { read: 4096, write: 512 });
    assert.deepEqual(networkIO(s), { rx: 2000, tx: 3000 });
  });
}

test('v2: usage_usec in ns, no percpu, io.stat as lower-case read/write, inactive_file subtracted', async (t) => {
  const host = fakeHost(t, 'v2');
  const cg = openCgroup({ cgroupsPath: '/c', id: 'c' }, { fsRoot: host.root });
  await cg.create();
  const dir = '/sys/fs/cgroup/c';
  host.write(`${dir}/cpu.stat`, 'usage_usec 2000\nuser_usec 1500\nsystem_usec 500\nnr_periods 0\nnr_throttled 0\nthrottled_usec 0\n');
  host.write(`${dir}/memory.current`, '8192\n');
  host.write(`${dir}/memory.max`, '4096000\n');
  host.write(`${dir}/memory.stat`, 'anon 4096\nfile 4096\ninactive_file 1024\n');
  host.write(`${dir}/pids.current`, '1\n');
  host.write(`${dir}/pids.max`, 'max\n');
  host.write(`${dir}/io.stat`, '8:16 rbytes=100 wbytes=200 rios=1 wios=2 dbytes=0 dios=0\n');
  const proc = fakeProc(t, 5, 'h1\nh2\n    lo: 1 1 0 0 0 0 0 0 1 1 0 0 0 0 0 0\n');
  const s = await readStats(cg.paths, 5, { fsRoot: host.root, procRoot: proc, hostMemory: 1 << 30 });
  assert.deepEqual(s.cpu_stats.cpu_usage, { total_usage: 2e6, usage_in_kernelmode: 5e5, usage_in_usermode: 1.5e6 });
  assert.equal(s.memory_stats.limit, 4096000);
  assert.equal(s.memory_stats.max_usage, undefined);
  assert.deepEqual(s.pids_stats, { current: 1 });
  assert.deepEqual(s.blkio_stats.io_service_bytes_recursive, [
    { major: 8, minor: 16, op: 'read', value: 100 },
    { major: 8, minor: 16, op: 'write', value: 200 },
  ]);
  assert.equal(s.networks, undefined, 'only lo: --network none shows no networks');
  assert.equal(memoryUsage(s).used, 8192 - 1024);
  // A second sample: precpu is the first's, and the CLI's CPU % follows.
  const next = await readStats(cg.paths, undefined, { fsRoot: host.root, procRoot: proc, previous: s });
  assert.equal(next.preread, s.read);
  assert.deepEqual(next.precpu_stats, s.cpu_stats);
  assert.equal(next.networks, undefined);
});

test("cpuPercent is the docker CLI's: container delta over host delta times online CPUs; 0 without a sample before", () => {
  const base = { total_usage: 0, usage_in_kernelmode: 0, usage_in_usermode: 0 };
  const throttling_data = { periods: 0, throttled_periods: 0, throttled_time: 0 };
  const s = {
    cpu_stats: { cpu_usage: { ...base, total_usage: 3e9, percpu_usage: [1, 2, 3, 4] }, system_cpu_usage: 20e9, throttling_data },
    precpu_stats: { cpu_usage: { ...base, total_usage: 1e9 }, system_cpu_usage: 10e9, throttling_data },
  } as DockerStats;
  assert.equal(cpuPercent(s), (2e9 / 10e9) * 4 * 100, 'online_cpus missing: the per-CPU list counts');
  s.cpu_stats.online_cpus = 2;
  assert.equal(cpuPercent(s), 40);
  delete s.precpu_stats.system_cpu_usage;
  s.precpu_stats.cpu_usage.total_usage = 5e9;
  assert.equal(cpuPercent(s), 0);
});
