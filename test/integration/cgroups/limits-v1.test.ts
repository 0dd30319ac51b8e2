/**
 * Root only, on a cgroup v1 or hybrid host: the limits hold for real
 * processes. Each test owns cgroups named berth-test-<pid>-<n>-<tag>, kills
 * what it started and removes the cgroups also when it fails.
 */
import { describe, test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { setTimeout as delay } from 'node:timers/promises';
import { openCgroup, watchOom, type Cgroup } from '../../../src/runtime/cgroups/index.ts';
import type { LinuxResources } from '../../../src/oci/runtime-spec.ts';
import { isBerthError } from '../../../src/errors.ts';
import { blkioWeightFile, kernelOffers } from '../../helpers/cgroup-probe.ts';
import { emptyCgroup, hostMode, isRoot, killGroup, uniqueName, until, waitingShell, type Waiting } from './helpers.ts';

const skip = !isRoot ? 'needs root' : hostMode() !== 'v1-or-hybrid' ? 'needs a cgroup v1 or hybrid host' : false;

async function cgroup(t: TestContext, tag: string, resources?: LinuxResources): Promise<Cgroup> {
  const cg = openCgroup({ cgroupsPath: `/${uniqueName(tag)}`, id: tag, resources });
  t.after(async () => {
    for (const dir of new Set(Object.values(cg.paths.dirs))) await emptyCgroup(dir);
    await cg.destroy();
  });
  await cg.create();
  return cg;
}

/** A shell placed in the cgroup before it runs `script`. */
async function inCgroup(t: TestContext, cg: Cgroup, script: string): Promise<Waiting> {
  const w = waitingShell(script);
  t.after(() => killGroup(w));
  await cg.addProcess(w.pid);
  w.go();
  return w;
}

const read = (dir: string | undefined, file: string): string => readFileSync(`${dir}/${file}`, 'utf8').trim();

describe('cgroup v1 limits (root)', { skip }, () => {
  test('the kernel holds the values create() wrote', async (t) => {
    // Only what this kernel offers is asked for; the refusal of the rest is the next test's.
    const weightFile = blkioWeightFile();
    const swap = kernelOffers('memory', 'memory.memsw.limit_in_bytes');
    const rt = kernelOffers('cpu', 'cpu.rt_runtime_us');
    const hugetlb = kernelOffers('hugetlb', 'hugetlb.2MB.limit_in_bytes');
    const classid = kernelOffers('net_cls', 'net_cls.classid');
    const prio = kernelOffers('net_prio', 'net_prio.ifpriomap');
    const cg = await cgroup(t, 'values', {
      memory: { limit: 268435456, ...(swap ? { swap: 536870912 } : {}), reservation: 134217728, swappiness: 10 },
      cpu: { shares: 512, quota: 50000, period: 100000, cpus: '0', mems: '0', ...(rt ? { realtimePeriod: 1000000, realtimeRuntime: 10000 } : {}) },
      pids: { limit: 64 },
      ...(weightFile !== undefined ? { blockIO: { weight: 300 } } : {}),
      ...(hugetlb ? { hugepageLimits: [{ pageSize: '2MB', limit: 4194304 }] } : {}),
      network: { ...(classid ? { classID: 0x100001 } : {}), ...(prio ? { priorities: [{ name: 'lo', priority: 5 }] } : {}) },
      devices: [{ allow: false, access: 'rwm' }, { allow: true, type: 'c', major: 1, minor: 3, access: 'rwm' }, { allow: true, type: 'c', major: 136, access: 'rw' }],
    });
    t.diagnostic(`this kernel: blkio weight ${weightFile ?? 'none'}, swap accounting ${swap}, realtime groups ${rt}, hugetlb ${hugetlb}, net_cls ${classid}, net_prio ${prio}`);
    const d = cg.paths.dirs;
    assert.equal(read(d['memory'], 'memory.limit_in_bytes'), '268435456');
    if (swap) assert.equal(read(d['memory'], 'memory.memsw.limit_in_bytes'), '536870912');
    assert.equal(read(d['memory'], 'memory.soft_limit_in_bytes'), '134217728');
    assert.equal(read(d['memory'], 'memory.swappiness'), '10');
    assert.equal(read(d['cpu'], 'cpu.shares'), '512');
    assert.equal(read(d['cpu'], 'cpu.cfs_quota_us'), '50000');
    assert.equal(read(d['cpuset'], 'cpuset.cpus'), '0');
    if (rt) assert.equal(read(d['cpu'], 'cpu.rt_runtime_us'), '10000');
    assert.equal(read(d['pids'], 'pids.max'), '64');
    if (weightFile !== undefined) assert.match(read(d['blkio'], weightFile), /^(default )?300$/);
    if (hugetlb) assert.equal(read(d['hugetlb'], 'hugetlb.2MB.limit_in_bytes'), '4194304');
    if (classid) assert.equal(read(d['net_cls'], 'net_cls.classid'), '1048577');
    if (prio) assert.match(read(d['net_prio'], 'net_prio.ifpriomap'), /^lo 5$/m);
    assert.deepEqual(read(d['devices'], 'devices.list').split('\n'), ['c 1:3 rwm', 'c 136:* rw']);
    // update() lowers the memory limit below the current one: memory before memory+swap.
    await cg.update({ memory: { limit: 67108864, ...(swap ? { swap: 134217728 } : {}) } });
    assert.equal(read(d['memory'], 'memory.limit_in_bytes'), '67108864');
    if (swap) assert.equal(read(d['memory'], 'memory.memsw.limit_in_bytes'), '134217728');
  });

  // Each limit whose file this kernel lacks: berth refuses it naming the file, and leaves no cgroup.
  // Where the kernel has them all, test/unit/cgroups/kernel-files.test.ts proves the same on a fake cgroupfs.
  const lacking: { what: string; lacks: () => boolean; resources: LinuxResources; message: RegExp }[] = [
    { what: 'blkio weight (no CFQ or BFQ scheduler)', lacks: () => blkioWeightFile() === undefined, resources: { blockIO: { weight: 300 } }, message: /write "300" to \S+\/blkio\.weight: ENOENT/ },
    { what: 'realtime cpu time (no RT_GROUP_SCHED)', lacks: () => !kernelOffers('cpu', 'cpu.rt_runtime_us'), resources: { cpu: { realtimeRuntime: 10000 } }, message: /write "10000" to \S+\/cpu\.rt_runtime_us: ENOENT/ },
    { what: 'memory+swap (swap accounting off)', lacks: () => !kernelOffers('memory', 'memory.memsw.limit_in_bytes'), resources: { memory: { limit: 1 << 26, swap: 1 << 27 } }, message: /swap accounting is off in this kernel/ },
    { what: 'kernel TCP memory (no kmem accounting)', lacks: () => !kernelOffers('memory', 'memory.kmem.tcp.limit_in_bytes'), resources: { memory: { kernelTCP: 1 << 24 } }, message: /memory\.kmem\.tcp\.limit_in_bytes: ENOENT/ },
    {
      what: 'hugepages (hugetlb not mounted, or no 2MB pages)',
      lacks: () => !kernelOffers('hugetlb', 'hugetlb.2MB.limit_in_bytes'),
      resources: { hugepageLimits: [{ pageSize: '2MB', limit: 1 << 21 }] },
      message: /hugepageLimits needs the hugetlb controller, which is not mounted|hugetlb\.2MB\.limit_in_bytes: ENOENT/,
    },
    { what: 'network class (net_cls not mounted)', lacks: () => !kernelOffers('net_cls', 'net_cls.classid'), resources: { network: { classID: 1 } }, message: /network\.classID needs the net_cls controller/ },
    { what: 'network priorities (net_prio not mounted)', lacks: () => !kernelOffers('net_prio', 'net_prio.ifpriomap'), resources: { network: { priorities: [{ name: 'lo', priority: 1 }] } }, message: /network\.priorities needs the net_prio controller/ },
  ];
  for (const { what, lacks, resources, message } of lacking) {
    const offered = skip === false && !lacks() ? 'this kernel offers it (test/unit/cgroups/kernel-files.test.ts proves the refusal)' : false;
    test(`${what}: refused with an error naming the file or controller, no cgroup left`, { skip: offered }, async () => {
      const cg = openCgroup({ cgroupsPath: `/${uniqueName('lacks')}`, id: 'lacks', resources });
      await assert.rejects(cg.create(), (err: unknown) => isBerthError(err) && message.test(err.message));
      for (const dir of Object.values(cg.paths.dirs)) assert.equal(existsSync(dir), false, `${dir} left behind`);
    });
  }

  test('cpu.shares the kernel clamps is reported, not silently kept', async (t) => {
    const cg = await cgroup(t, 'shares');
    await assert.rejects(cg.update({ cpu: { shares: 1 } }), (err: unknown) => isBerthError(err, 'cgroup_cpu_shares_clamped') && /the kernel set 2/.test(err.message));
  });

  test('a process above memory.limit_in_bytes is OOM-killed and watchOom reports it', async (t) => {
    const swap = kernelOffers('memory', 'memory.memsw.limit_in_bytes') ? { swap: 33554432 } : {};
    const cg = await cgroup(t, 'oom', { memory: { limit: 33554432, ...swap } });
    const kills: number[] = [];
    const watch = watchOom(cg.paths, (n) => kills.push(n), { intervalMs: 20 });
    t.after(() => watch[Symbol.dispose]());
    // dd touches its whole 128 MiB buffer.
    const w = await inCgroup(t, cg, 'exec dd if=/dev/zero of=/dev/null bs=128M count=1');
    const result = await w.done;
    assert.equal(result.signal, 'SIGKILL', `dd was not killed: ${result.stderr}`);
    await until('watchOom to fire', 5000, () => (kills.length > 0 ? true : undefined));
    assert.ok(kills.reduce((a, b) => a + b, 0) >= 1);
    assert.match(read(cg.paths.dirs['memory'], 'memory.oom_control'), /oom_kill [1-9]/);
    const stats = await cg.stats();
    assert.equal(stats.memory.usage.limit, 33554432);
    assert.ok((stats.memory.usage.max ?? 0) > 33554432 * 0.9, `peak usage ${stats.memory.usage.max} reached the limit`);
  });

  test('a bounded fork bomb stops at pids.max', async (t) => {
    const cg = await cgroup(t, 'pids', { pids: { limit: 20 } });
    // Up to 100 background sleeps; the shell itself is one task, so at most 19 get through.
    const w = await inCgroup(t, cg, 'i=0; while [ $i -lt 100 ]; do sleep 60 </dev/null >/dev/null 2>&1 & i=$((i+1)); done; echo all forked');
    const result = await w.done;
    assert.doesNotMatch(result.stdout, /all forked/);
    assert.match(result.stderr, /fork|Resource temporarily unavailable/i);
    const dir = cg.paths.dirs['pids'];
    assert.match(read(dir, 'pids.events'), /max [1-9]/);
    const left = await cg.pids();
    assert.ok(left.length <= 20 && left.length >= 10, `${left.length} processes in the cgroup`);
    assert.equal((await cg.stats()).pids.limit, 20);
    await emptyCgroup(dir ?? '');
  });

  test('a busy loop under a 20% cpu quota gets about 20% of a CPU (observation: 10%-35%)', async (t) => {
    const cg = await cgroup(t, 'quota', { cpu: { quota: 20000, period: 100000 } });
    await inCgroup(t, cg, 'while :; do :; done');
    const usage = (): number => Number(read(cg.paths.dirs['cpuacct'], 'cpuacct.usage'));
    const u0 = usage();
    const t0 = process.hrtime.bigint();
    await delay(1500); // the measurement window
    const share = (usage() - u0) / Number(process.hrtime.bigint() - t0);
    assert.ok(share > 0.1 && share < 0.35, `cpu share ${share.toFixed(3)}`);
    const stats = await cg.stats();
    assert.ok((stats.cpu.throttling.throttledPeriods ?? 0) > 0, 'throttled periods counted');
  });

  test('freeze stops the processes (no cpu progress), thaw lets them go on', async (t) => {
    const cg = await cgroup(t, 'freeze');
    await inCgroup(t, cg, 'while :; do :; done');
    const usage = (): number => Number(read(cg.paths.dirs['cpuacct'], 'cpuacct.usage'));
    await until('the loop to run', 2000, () => (usage() > 0 ? true : undefined));
    await cg.freeze();
    assert.equal(read(cg.paths.dirs['freezer'], 'freezer.state'), 'FROZEN');
    assert.equal(await cg.state(), 'frozen');
    const frozenAt = usage();
    await delay(300); // a frozen task must not run in this window
    assert.equal(usage(), frozenAt, 'cpu time advanced while frozen');
    await cg.thaw();
    assert.equal(await cg.state(), 'thawed');
    await until('cpu time to advance again', 2000, () => (usage() > frozenAt ? true : undefined));
  });

  test('pids() lists the shell and its children; stats() counts them and their cpu time', async (t) => {
    const cg = await cgroup(t, 'nested');
    const w = await inCgroup(t, cg, 'sleep 60 & sleep 60 & wait');
    const pids = await until('three processes', 3000, async () => {
      const p = await cg.pids();
      return p.length === 3 ? p : undefined;
    });
    assert.ok(pids.includes(w.pid));
    const stats = await cg.stats();
    assert.equal(stats.pids.current, 3);
    assert.ok((stats.cpu.usage.total ?? 0) > 0);
  });
});
