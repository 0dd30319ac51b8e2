import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { openCgroup } from '../../../src/runtime/cgroups/index.ts';
import type { LinuxResources } from '../../../src/oci/runtime-spec.ts';
import { isBerthError } from '../../../src/errors.ts';
import { fakeHost, type FakeHost } from './fake-host.ts';

const M = '/sys/fs/cgroup/memory/c';
const CPU = '/sys/fs/cgroup/cpu,cpuacct/c';

async function created(t: Parameters<typeof fakeHost>[0], resources: LinuxResources, mode: 'v1' | 'hybrid' = 'v1'): Promise<FakeHost> {
  const host = fakeHost(t, mode);
  await openCgroup({ cgroupsPath: '/c', id: 'c', resources }, { fsRoot: host.root }).create();
  return host;
}

/** The writes to files of one directory, as "file=value", subtree/cpuset set-up left out. */
function writesIn(host: FakeHost, dir: string): string[] {
  return host.writes().filter(([p]) => p.startsWith(`${dir}/`)).map(([p, v]) => `${p.slice(dir.length + 1)}=${v}`);
}

test('v1 memory: limit, swap, reservation, swappiness, OOM killer, kernelTCP go to their files', async (t) => {
  const host = await created(t, {
    memory: { limit: 268435456, swap: 536870912, reservation: 134217728, swappiness: 10, disableOOMKiller: true, kernelTCP: 1048576 },
  });
  // memsw first: the fresh cgroup's limit is below the new memory+swap.
  assert.deepEqual(writesIn(host, M), [
    'memory.memsw.limit_in_bytes=536870912',
    'memory.limit_in_bytes=268435456',
    'memory.soft_limit_in_bytes=134217728',
    'memory.kmem.tcp.limit_in_bytes=1048576',
    'memory.oom_control=1',
    'memory.swappiness=10',
  ]);
});

test('v1 memory: lowering below the current limit writes memory before memory+swap; -1 means unlimited for both', async (t) => {
  const host = fakeHost(t, 'v1');
  const cg = openCgroup({ cgroupsPath: '/c', id: 'c' }, { fsRoot: host.root });
  await cg.create();
  host.write(`${M}/memory.limit_in_bytes`, '1073741824\n');
  host.clearWrites();
  await cg.update({ memory: { limit: 104857600, swap: 209715200 } });
  assert.deepEqual(writesIn(host, M), ['memory.limit_in_bytes=104857600', 'memory.memsw.limit_in_bytes=209715200']);
  host.clearWrites();
  await cg.update({ memory: { limit: -1 } });
  assert.deepEqual(writesIn(host, M), ['memory.memsw.limit_in_bytes=-1', 'memory.limit_in_bytes=-1']);
});

test('v1 cpu: shares, period before quota, burst, realtime, idle; cpus and mems to cpuset', async (t) => {
  const host = await created(t, {
    cpu: { shares: 512, quota: 20000, period: 100000, burst: 5000, realtimePeriod: 1000000, realtimeRuntime: 950000, idle: 0, cpus: '0-1', mems: '0' },
  });
  assert.deepEqual(writesIn(host, CPU), [
    'cpu.shares=512',
    'cpu.cfs_period_us=100000',
    'cpu.cfs_quota_us=20000',
    'cpu.cfs_burst_us=5000',
    'cpu.rt_period_us=1000000',
    'cpu.rt_runtime_us=950000',
    'cpu.idle=0',
  ]);
  // The fresh cpuset got the parent's cpus and mems first (an empty cpuset takes no tasks).
  assert.deepEqual(writesIn(host, '/sys/fs/cgroup/cpuset/c'), ['cpuset.cpus=0-1', 'cpuset.mems=0', 'cpuset.cpus=0-1', 'cpuset.mems=0']);
  host.clearWrites();
  // Unlimited quota.
  await openCgroup({ cgroupsPath: '/c', id: 'c', resources: { cpu: { quota: -1 } } }, { fsRoot: host.root }).update({ cpu: { quota: -1 } });
  assert.deepEqual(writesIn(host, CPU), ['cpu.cfs_quota_us=-1']);
});

test('v1 pids: a positive limit is written, zero or negative means "max"', async (t) => {
  const host = await created(t, { pids: { limit: 20 } });
  assert.deepEqual(writesIn(host, '/sys/fs/cgroup/pids/c'), ['pids.max=20']);
  host.clearWrites();
  await openCgroup({ cgroupsPath: '/c', id: 'c' }, { fsRoot: host.root }).update({ pids: { limit: -1 } });
  assert.deepEqual(writesIn(host, '/sys/fs/cgroup/pids/c'), ['pids.max=max']);
});

test('v1 blkio: BFQ weight files when CFQ\'s are absent, one write per device throttle', async (t) => {
  const host = await created(t, {
    blockIO: {
      weight: 500,
      weightDevice: [{ major: 8, minor: 0, weight: 300 }],
      throttleReadBpsDevice: [{ major: 8, minor: 0, rate: 1048576 }, { major: 8, minor: 16, rate: 2097152 }],
      throttleWriteBpsDevice: [{ major: 8, minor: 0, rate: 4096 }],
      throttleReadIOPSDevice: [{ major: 8, minor: 0, rate: 100 }],
      throttleWriteIOPSDevice: [{ major: 8, minor: 0, rate: 50 }],
    },
  });
  assert.deepEqual(writesIn(host, '/sys/fs/cgroup/blkio/c'), [
    'blkio.bfq.weight=500',
    'blkio.bfq.weight_device=8:0 300',
    'blkio.throttle.read_bps_device=8:0 1048576',
    'blkio.throttle.read_bps_device=8:16 2097152',
    'blkio.throttle.write_bps_device=8:0 4096',
    'blkio.throttle.read_iops_device=8:0 100',
    'blkio.throttle.write_iops_device=8:0 50',
  ]);
});

test('v1 hugetlb and network class/priority', async (t) => {
  const host = await created(t, {
    hugepageLimits: [{ pageSize: '2MB', limit: 209715200 }, { pageSize: '1GB', limit: 0 }],
    network: { classID: 0x100001, priorities: [{ name: 'eth0', priority: 5 }, { name: 'lo', priority: 1 }] },
  });
  assert.deepEqual(writesIn(host, '/sys/fs/cgroup/hugetlb/c'), ['hugetlb.2MB.limit_in_bytes=209715200', 'hugetlb.1GB.limit_in_bytes=0']);
  assert.deepEqual(writesIn(host, '/sys/fs/cgroup/net_cls,net_prio/c'), ['net_cls.classid=1048577', 'net_prio.ifpriomap=eth0 5', 'net_prio.ifpriomap=lo 1']);
});

test('v1 devices: deny all first, then the allowed devices (runc\'s transition from the inherited allow-all)', async (t) => {
  const host = await created(t, {
    devices: [
      { allow: false, access: 'rwm' },
      { allow: true, type: 'c', major: 1, minor: 3, access: 'rwm' },
      { allow: true, type: 'c', major: 136, access: 'rw' },
      { allow: true, type: 'b', major: 8, minor: 0, access: 'r' },
      { allow: false, type: 'c', major: 1, minor: 3, access: 'm' },
    ],
  });
  assert.deepEqual(writesIn(host, '/sys/fs/cgroup/devices/c'), [
    'devices.deny=a *:* rwm',
    'devices.allow=c 1:3 rw',
    'devices.allow=b 8:0 r',
    'devices.allow=c 136:* rw',
  ]);
});

test('v1: a resource whose controller is not mounted fails naming it, before anything is written', async (t) => {
  const host = fakeHost(t, 'hybrid');
  const cg = openCgroup({ cgroupsPath: '/c', id: 'c', resources: { memory: { limit: 1 << 24 }, network: { classID: 1 } } }, { fsRoot: host.root });
  await assert.rejects(cg.create(), (err: unknown) => isBerthError(err, 'cgroup_controller_missing') && /network.classID needs the net_cls controller/.test(err.message));
  assert.deepEqual(host.writes().filter(([p]) => p.includes('memory.limit')), []);
  // The directories it made are gone again.
  assert.equal(existsSync(host.path('/sys/fs/cgroup/memory/c')), false);
  await assert.rejects(
    openCgroup({ cgroupsPath: '/c', id: 'c', resources: { hugepageLimits: [{ pageSize: '2MB', limit: 1 }] } }, { fsRoot: host.root }).create(),
    /hugepageLimits needs the hugetlb controller/,
  );
});

test('v1: unified keys are refused with a clear error', async (t) => {
  const host = fakeHost(t, 'v1');
  await assert.rejects(
    openCgroup({ cgroupsPath: '/c', id: 'c', resources: { unified: { 'memory.high': '1G' } } }, { fsRoot: host.root }).create(),
    (err: unknown) => isBerthError(err, 'cgroup_unified_on_v1') && /memory.high.*needs cgroup v2/.test(err.message),
  );
});

test('bad values are refused naming the field, before any directory is made', (t) => {
  const host = fakeHost(t, 'v1');
  const cases: [LinuxResources, RegExp][] = [
    [{ memory: { swappiness: 101 } }, /memory.swappiness 101: must be between 0 and 100/],
    [{ memory: { limit: 2048, swap: 1024 } }, /memory.swap 1024: memory\+swap must be at least/],
    [{ cpu: { shares: 1.5 } }, /cpu.shares 1.5: must be an integer/],
    [{ cpu: { cpus: '0-1; rm' } }, /cpu.cpus/],
    [{ hugepageLimits: [{ pageSize: '../../x', limit: 1 }] }, /hugepageLimits\[0\].pageSize/],
    [{ network: { priorities: [{ name: 'eth0 9\nlo', priority: 1 }] } }, /network.priorities\[0\].name/],
    [{ unified: { '../memory.max': '1' } }, /unified\["..\/memory.max"\]/],
    [{ devices: [{ allow: true, type: 'x' }] }, /devices\[0\].type/],
    [{ devices: [{ allow: true, access: 'rwx' }] }, /devices\[0\].access/],
    [{ blockIO: { weight: 5 } }, /blockIO.weight 5: must be between 10 and 1000/],
    [{ rdma: { 'mlx 0\nx': { hcaHandles: 1 } } }, /rdma\[/],
  ];
  for (const [resources, text] of cases) {
    assert.throws(() => openCgroup({ cgroupsPath: '/c', id: 'c', resources }, { fsRoot: host.root }), (err: unknown) => isBerthError(err, 'cgroup_resource_invalid') && text.test(err.message), text.source);
  }
  assert.equal(existsSync(host.path('/sys/fs/cgroup/memory/c')), false);
});

test('a write the kernel refuses names the file and the value', async (t) => {
  const host = fakeHost(t, 'v1');
  const cg = openCgroup({ cgroupsPath: '/c', id: 'c' }, { fsRoot: host.root });
  await cg.create();
  // A control file that is not there (an older kernel): ENOENT with the path.
  const { rmSync } = await import('node:fs');
  rmSync(host.path(`${CPU}/cpu.cfs_burst_us`));
  await assert.rejects(cg.update({ cpu: { burst: 1000 } }), (err: unknown) =>
    isBerthError(err, 'cgroup_io_unsupported') && err.message.includes(`write "1000" to ${CPU}/cpu.cfs_burst_us: ENOENT`));
});
