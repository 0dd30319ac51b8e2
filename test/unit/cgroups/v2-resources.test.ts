import { test } from 'node:test';
import assert from 'node:assert/strict';
import { blkioWeightToIoWeight, openCgroup, sharesToWeight } from '../../../src/runtime/cgroups/index.ts';
import { decodeBpf } from '../../../src/runtime/cgroups/devices/bpf.ts';
import type { LinuxResources } from '../../../src/oci/runtime-spec.ts';
import { isBerthError } from '../../../src/errors.ts';
import { fakeHost, type FakeHost } from './fake-host.ts';

const D = '/sys/fs/cgroup/c';

async function created(t: Parameters<typeof fakeHost>[0], resources: LinuxResources): Promise<FakeHost> {
  const host = fakeHost(t, 'v2');
  await openCgroup({ cgroupsPath: '/c', id: 'c', resources }, { fsRoot: host.root }).create();
  return host;
}

function writesIn(host: FakeHost, dir: string): string[] {
  return host.writes().filter(([p]) => p.startsWith(`${dir}/`)).map(([p, v]) => `${p.slice(dir.length + 1)}=${v}`);
}

test('runc\'s conversions: cpu.shares → cpu.weight and blkio weight → io.weight', () => {
  // 1 + ((shares - 2) * 9999) / 262142
  assert.equal(sharesToWeight(2), 1);
  assert.equal(sharesToWeight(1024), 39);
  assert.equal(sharesToWeight(512), 20);
  assert.equal(sharesToWeight(262144), 10000);
  assert.equal(sharesToWeight(0), 0);
  // 1 + (weight - 10) * 9999 / 990
  assert.equal(blkioWeightToIoWeight(10), 1);
  assert.equal(blkioWeightToIoWeight(500), 4950);
  assert.equal(blkioWeightToIoWeight(1000), 10000);
});

test('v2: create enables the controllers for the children of every level down to the cgroup', async (t) => {
  const host = fakeHost(t, 'v2');
  await openCgroup({ cgroupsPath: '/a/b/c', id: 'c' }, { fsRoot: host.root }).create();
  const all = 'cpuset cpu io memory hugetlb pids rdma';
  for (const level of ['/sys/fs/cgroup', '/sys/fs/cgroup/a', '/sys/fs/cgroup/a/b']) {
    assert.equal(host.read(`${level}/cgroup.subtree_control`), all, level);
  }
  assert.equal(host.read('/sys/fs/cgroup/a/b/c/cgroup.controllers'), all);
  // The leaf keeps no controllers for children: processes go there.
  assert.equal(host.read('/sys/fs/cgroup/a/b/c/cgroup.subtree_control'), '');
});

test('v2 memory: memory.max, memory.low, memory.swap.max = swap - limit; -1 → "max"', async (t) => {
  const host = await created(t, { memory: { limit: 268435456, swap: 536870912, reservation: 134217728 } });
  assert.deepEqual(writesIn(host, D), ['memory.swap.max=268435456', 'memory.max=268435456', 'memory.low=134217728']);
  const h2 = await created(t, { memory: { limit: -1 } });
  assert.deepEqual(writesIn(h2, D), ['memory.swap.max=max', 'memory.max=max']);
  // Memory and memory+swap equal: swap disabled.
  const h3 = await created(t, { memory: { limit: 1048576, swap: 1048576 } });
  assert.deepEqual(writesIn(h3, D), ['memory.swap.max=0', 'memory.max=1048576']);
  await assert.rejects(
    openCgroup({ cgroupsPath: '/c', id: 'c', resources: { memory: { swap: 1048576 } } }, { fsRoot: host.root }).create(),
    /swap limit needs a memory limit on cgroup v2/,
  );
});

test('v2 memory: settings v2 does not have become warnings', async (t) => {
  const host = fakeHost(t, 'v2');
  const cg = openCgroup({ cgroupsPath: '/c', id: 'c', resources: { memory: { limit: 1048576, swappiness: 10, disableOOMKiller: true } } }, { fsRoot: host.root });
  await cg.create();
  assert.equal(cg.warnings.length, 2);
  assert.match(cg.warnings.join('\n'), /swappiness is ignored on cgroup v2/);
  assert.match(cg.warnings.join('\n'), /disableOOMKiller is ignored on cgroup v2/);
});

test('v2 cpu: cpu.weight from shares, cpu.max "quota period", burst, idle, cpuset', async (t) => {
  const host = await created(t, { cpu: { shares: 1024, quota: 20000, period: 100000, burst: 1000, idle: 1, cpus: '1', mems: '0' } });
  assert.deepEqual(writesIn(host, D), ['cpu.idle=1', 'cpu.weight=39', 'cpu.max=20000 100000', 'cpu.max.burst=1000', 'cpuset.cpus=1', 'cpuset.mems=0']);
  const h2 = await created(t, { cpu: { quota: -1 } });
  assert.deepEqual(writesIn(h2, D), ['cpu.max=max']);
  const h3 = await created(t, { cpu: { period: 50000 } });
  assert.deepEqual(writesIn(h3, D), ['cpu.max=max 50000']);
  await assert.rejects(
    openCgroup({ cgroupsPath: '/c', id: 'c', resources: { cpu: { realtimeRuntime: 1000 } } }, { fsRoot: h3.root }).create(),
    (err: unknown) => isBerthError(err, 'cgroup_rt_unsupported'),
  );
});

test('v2 io: io.weight converted, io.max one line per device and limit; BFQ takes the v1 range', async (t) => {
  const host = await created(t, {
    blockIO: {
      weight: 500,
      weightDevice: [{ major: 8, minor: 0, weight: 100 }],
      throttleReadBpsDevice: [{ major: 8, minor: 0, rate: 1048576 }],
      throttleWriteIOPSDevice: [{ major: 8, minor: 0, rate: 10 }],
    },
  });
  assert.deepEqual(writesIn(host, D), ['io.weight=4950', 'io.weight=8:0 910', 'io.max=8:0 rbps=1048576', 'io.max=8:0 wiops=10']);
  const h2 = fakeHost(t, 'v2');
  h2.write('/sys/fs/cgroup/io.bfq.weight', '');
  await openCgroup({ cgroupsPath: '/c', id: 'c', resources: { blockIO: { weight: 500 } } }, { fsRoot: h2.root }).create();
  assert.deepEqual(writesIn(h2, D), ['io.bfq.weight=500']);
});

test('v2 pids, hugetlb (limit and reservation), rdma', async (t) => {
  const host = await created(t, {
    pids: { limit: 0 },
    hugepageLimits: [{ pageSize: '2MB', limit: 4194304 }],
    rdma: { mlx4_0: { hcaHandles: 2, hcaObjects: 2000 } },
  });
  assert.deepEqual(writesIn(host, D), [
    'pids.max=max',
    'hugetlb.2MB.max=4194304',
    'hugetlb.2MB.rsvd.max=4194304',
    'rdma.max=mlx4_0 hca_handle=2 hca_object=2000',
  ]);
});

test('v2 unified: written last so they win, missing files name the controller', async (t) => {
  const host = await created(t, { memory: { limit: 1048576 }, unified: { 'memory.max': '2097152', 'memory.high': '1048576', 'cgroup.max.descendants': '10' } });
  assert.deepEqual(writesIn(host, D), ['memory.max=1048576', 'memory.max=2097152', 'memory.high=1048576', 'cgroup.max.descendants=10']);
  assert.equal(host.read(`${D}/memory.max`), '2097152');
  await assert.rejects(
    openCgroup({ cgroupsPath: '/c', id: 'c', resources: { unified: { 'misc.max': 'x 1' } } }, { fsRoot: host.root }).update({ unified: { 'misc.max': 'x 1' } }),
    (err: unknown) => isBerthError(err, 'cgroup_unified_missing') && /is the misc controller enabled/.test(err.message),
  );
});

test('v2: net_cls/net_prio settings are refused; a controller that is not enabled is named', async (t) => {
  const host = fakeHost(t, 'v2');
  await assert.rejects(
    openCgroup({ cgroupsPath: '/c', id: 'c', resources: { network: { classID: 1 } } }, { fsRoot: host.root }).create(),
    (err: unknown) => isBerthError(err, 'cgroup_network_unsupported'),
  );
  const h2 = fakeHost(t, 'v2', { v2Controllers: 'cpu memory pids' });
  await assert.rejects(
    openCgroup({ cgroupsPath: '/c', id: 'c', resources: { pids: { limit: 5 }, blockIO: { weight: 100 } } }, { fsRoot: h2.root }).create(),
    (err: unknown) => isBerthError(err, 'cgroup_controller_missing') && /blockIO needs the io controller/.test(err.message),
  );
  assert.deepEqual(writesIn(h2, D), []);
});

test('v2 devices: the compiled program goes to the attacher with the cgroup directory', async (t) => {
  const host = fakeHost(t, 'v2');
  const calls: { dir: string; program: Uint8Array; license: string }[] = [];
  const cg = openCgroup(
    { cgroupsPath: '/c', id: 'c', resources: { devices: [{ allow: false, access: 'rwm' }, { allow: true, type: 'c', major: 1, minor: 3, access: 'rwm' }] } },
    { fsRoot: host.root, attachDevices: (dir, program, license) => { calls.push({ dir, program, license }); return Promise.resolve(); } },
  );
  await cg.create();
  assert.equal(calls.length, 1);
  assert.equal(calls[0]?.dir, D);
  assert.equal(calls[0]?.license, 'Apache');
  assert.equal(decodeBpf(calls[0]?.program ?? new Uint8Array()).length, 6 + 5 + 2);
  await assert.rejects(
    openCgroup({ cgroupsPath: '/d', id: 'd', resources: { devices: [] } }, { fsRoot: host.root }).create(),
    (err: unknown) => isBerthError(err, 'cgroup_devices_no_attacher'),
  );
});
