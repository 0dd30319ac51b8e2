/**
 * Where the kernel has CFQ's blkio.weight, the weight goes there (the
 * fixtures are of a BFQ kernel). A kernel without a controller file (no CFQ/BFQ blkio weight, no
 * RT_GROUP_SCHED, swap or kmem accounting off, no 2MB hugepages): the limit
 * is refused with an error naming the file, and no cgroup is left. The
 * root-only twin (test/integration/cgroups/limits-v1.test.ts) proves this
 * on the machine for the files its kernel lacks; this proves it for all.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, rmSync } from 'node:fs';
import { openCgroup } from '../../../src/runtime/cgroups/index.ts';
import type { LinuxResources } from '../../../src/oci/runtime-spec.ts';
import { isBerthError } from '../../../src/errors.ts';
import { fakeHost } from './fake-host.ts';

const cases: { files: string[]; resources: LinuxResources; message: RegExp }[] = [
  { files: ['blkio/blkio.weight', 'blkio/blkio.bfq.weight'], resources: { blockIO: { weight: 300 } }, message: /write "300" to \/sys\/fs\/cgroup\/blkio\/c\/blkio\.weight: ENOENT/ },
  { files: ['cpu,cpuacct/cpu.rt_runtime_us'], resources: { cpu: { realtimeRuntime: 10000 } }, message: /cpu,cpuacct\/c\/cpu\.rt_runtime_us: ENOENT/ },
  { files: ['memory/memory.memsw.limit_in_bytes'], resources: { memory: { limit: 1 << 26, swap: 1 << 27 } }, message: /swap accounting is off in this kernel \(no memory\.memsw\.limit_in_bytes\)/ },
  { files: ['memory/memory.kmem.tcp.limit_in_bytes'], resources: { memory: { kernelTCP: 1 << 24 } }, message: /memory\/c\/memory\.kmem\.tcp\.limit_in_bytes: ENOENT/ },
  { files: ['hugetlb/hugetlb.2MB.limit_in_bytes'], resources: { hugepageLimits: [{ pageSize: '2MB', limit: 1 << 21 }] }, message: /hugetlb\/c\/hugetlb\.2MB\.limit_in_bytes: ENOENT/ },
  { files: ['cpuset/cpuset.mems'], resources: { cpu: { mems: '0' } }, message: /cpuset\/c\/cpuset\.mems: ENOENT/ },
];

for (const { files, resources, message } of cases) {
  test(`v1 without ${files.join(' or ')}: refused naming the file, no cgroup left`, async (t) => {
    const host = fakeHost(t, 'v1');
    // A new cgroup gets its parent's files: without them at the top, the container's has none either.
    for (const f of files) rmSync(host.path(`/sys/fs/cgroup/${f}`), { force: true });
    const cg = openCgroup({ cgroupsPath: '/c', id: 'c', resources }, { fsRoot: host.root });
    await assert.rejects(cg.create(), (err: unknown) => isBerthError(err) && message.test(err.message));
    for (const dir of Object.values(cg.paths.dirs)) assert.equal(existsSync(host.path(dir)), false, `${dir} left behind`);
  });
}

test('v1 with CFQ\'s blkio.weight: the weights go to its files, not to BFQ\'s', async (t) => {
  const host = fakeHost(t, 'v1');
  for (const f of ['blkio.weight', 'blkio.weight_device']) host.write(`/sys/fs/cgroup/blkio/${f}`, '');
  await openCgroup({ cgroupsPath: '/c', id: 'c', resources: { blockIO: { weight: 300, weightDevice: [{ major: 8, minor: 0, weight: 200 }] } } }, { fsRoot: host.root }).create();
  assert.deepEqual(host.writes().filter(([p]) => p.startsWith('/sys/fs/cgroup/blkio/c/')), [
    ['/sys/fs/cgroup/blkio/c/blkio.weight', '300'],
    ['/sys/fs/cgroup/blkio/c/blkio.weight_device', '8:0 200'],
  ]);
});
