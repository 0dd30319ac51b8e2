import { test } from 'node:test';
import assert from 'node:assert/strict';
import { openCgroup } from '../../../src/runtime/cgroups/index.ts';
import { fakeHost } from './fake-host.ts';

test('v1 stats in runc\'s events --stats shape, zero fields left out as runc\'s omitempty does', async (t) => {
  const host = fakeHost(t, 'v1');
  const cg = openCgroup({ cgroupsPath: '/c', id: 'c' }, { fsRoot: host.root });
  await cg.create();
  const cpu = '/sys/fs/cgroup/cpu,cpuacct/c';
  const mem = '/sys/fs/cgroup/memory/c';
  host.write(`${cpu}/cpuacct.usage`, '5000000000\n');
  host.write(`${cpu}/cpuacct.usage_percpu`, '3000000000 2000000000 \n');
  host.write(`${cpu}/cpuacct.stat`, 'user 300\nsystem 150\n');
  host.write(`${cpu}/cpuacct.usage_all`, 'cpu user system\n0 2000 1000\n1 1500 500\n');
  host.write(`${cpu}/cpu.stat`, 'nr_periods 10\nnr_throttled 4\nthrottled_time 123456\n');
  host.write(`${mem}/memory.limit_in_bytes`, '268435456\n');
  host.write(`${mem}/memory.usage_in_bytes`, '1048576\n');
  host.write(`${mem}/memory.max_usage_in_bytes`, '2097152\n');
  host.write(`${mem}/memory.failcnt`, '3\n');
  host.write(`${mem}/memory.memsw.limit_in_bytes`, '536870912\n');
  host.write(`${mem}/memory.memsw.usage_in_bytes`, '1048576\n');
  host.write(`${mem}/memory.kmem.limit_in_bytes`, '9223372036854771712\n');
  host.write(`${mem}/memory.stat`, 'cache 4096\nrss 8192\n');
  host.write('/sys/fs/cgroup/pids/c/pids.current', '3\n');
  host.write('/sys/fs/cgroup/pids/c/pids.max', 'max\n');
  host.write('/sys/fs/cgroup/blkio/c/blkio.throttle.io_service_bytes_recursive', '8:0 Read 4096\n8:0 Write 0\n8:0 Total 4096\nTotal 4096\n');
  host.write('/sys/fs/cgroup/blkio/c/blkio.throttle.io_serviced_recursive', '8:0 Read 1\nTotal 1\n');
  host.write('/sys/fs/cgroup/hugetlb/c/hugetlb.2MB.usage_in_bytes', '2097152\n');
  host.write('/sys/fs/cgroup/hugetlb/c/hugetlb.2MB.failcnt', '1\n');
  const s = await cg.stats();
  assert.deepEqual(s.cpu, {
    usage: { kernel: 1500000000, user: 3000000000, total: 5000000000, percpu: [3000000000, 2000000000], percpu_kernel: [1000, 500], percpu_user: [2000, 1500] },
    throttling: { periods: 10, throttledPeriods: 4, throttledTime: 123456 },
  });
  assert.deepEqual(s.memory.usage, { limit: 268435456, failcnt: 3, usage: 1048576, max: 2097152 });
  assert.deepEqual(s.memory.swap, { limit: 536870912, failcnt: 0, usage: 1048576 });
  assert.equal(s.memory.kernel.limit, 9223372036854771712);
  assert.equal(s.memory.cache, 4096);
  assert.deepEqual(s.memory.raw, { cache: 4096, rss: 8192 });
  assert.deepEqual(s.pids, { current: 3 });
  assert.deepEqual(s.blkio, {
    ioServiceBytesRecursive: [{ major: 8, op: 'Read', value: 4096 }, { major: 8, op: 'Write' }, { major: 8, op: 'Total', value: 4096 }],
    ioServicedRecursive: [{ major: 8, op: 'Read', value: 1 }],
  });
  assert.deepEqual(s.hugetlb, { '2MB': { failcnt: 1, usage: 2097152 }, '1GB': { failcnt: 0 } });
  // JSON as runc prints it: no "usage":0 and friends.
  assert.doesNotMatch(JSON.stringify(s.memory.kernelTCP), /usage/);
});

test('v2 stats: cpu.stat in ns, swap reported as memory+swap like v1, io.stat per operation, "max" as 2^64-1', async (t) => {
  const host = fakeHost(t, 'v2');
  const cg = openCgroup({ cgroupsPath: '/c', id: 'c' }, { fsRoot: host.root });
  await cg.create();
  const d = '/sys/fs/cgroup/c';
  host.write(`${d}/cpu.stat`, 'usage_usec 2000\nuser_usec 1500\nsystem_usec 500\nnr_periods 7\nnr_throttled 2\nthrottled_usec 30\n');
  host.write(`${d}/memory.current`, '1048576\n');
  host.write(`${d}/memory.max`, '4194304\n');
  host.write(`${d}/memory.peak`, '2097152\n');
  host.write(`${d}/memory.events`, 'low 0\nhigh 0\nmax 5\noom 1\noom_kill 1\n');
  host.write(`${d}/memory.swap.current`, '4096\n');
  host.write(`${d}/memory.swap.max`, 'max\n');
  host.write(`${d}/memory.stat`, 'anon 1000\nfile 2000\n');
  host.write(`${d}/pids.current`, '2\n');
  host.write(`${d}/pids.max`, '20\n');
  host.write(`${d}/io.stat`, '8:16 rbytes=1024 wbytes=2048 rios=1 wios=2 dbytes=0 dios=0\n');
  host.write(`${d}/hugetlb.2MB.current`, '0\n');
  host.write(`${d}/hugetlb.2MB.events`, 'max 2\n');
  const s = await cg.stats();
  assert.deepEqual(s.cpu, { usage: { kernel: 500000, user: 1500000, total: 2000000 }, throttling: { periods: 7, throttledPeriods: 2, throttledTime: 30000 } });
  assert.deepEqual(s.memory.usage, { limit: 4194304, failcnt: 5, usage: 1048576, max: 2097152 });
  assert.deepEqual(s.memory.swap, { limit: 2 ** 64, failcnt: 0, usage: 1052672 });
  assert.equal(s.memory.cache, 2000);
  assert.deepEqual(s.pids, { current: 2, limit: 20 });
  assert.deepEqual(s.blkio.ioServiceBytesRecursive, [
    { major: 8, minor: 16, op: 'Read', value: 1024 },
    { major: 8, minor: 16, op: 'Write', value: 2048 },
    { major: 8, minor: 16, op: 'Discard' },
  ]);
  assert.deepEqual(s.blkio.ioServicedRecursive?.map((e) => e.value), [1, 2, undefined]);
  assert.deepEqual(s.hugetlb['2MB'], { failcnt: 2 });
  assert.match(JSON.stringify(s.memory.swap), /"limit":18446744073709552000/);
});
