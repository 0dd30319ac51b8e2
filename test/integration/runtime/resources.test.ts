/**
 * linux.resources enforced on real containers (root, cgroup v1 hybrid
 * host): a fork bomb held at pids.max, a CPU quota seen in the cgroup's
 * CPU time, cpuset read back (and seen from inside), blkio weight and
 * hugepage limits written where the kernel has their files (else refused),
 * requests this host cannot honour refused with nothing left behind, the
 * device rules' order, and pause/resume stopping and restarting a process.
 */
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test, type TestContext } from 'node:test';
import type { Spec } from '../../../src/oci/runtime-spec.ts';
import { blkioWeightFile, hostCpus, kernelOffers } from '../../helpers/cgroup-probe.ts';
import { byRuntime, cgroupDirOf, cgroupLeftovers, makeBundle, RuntimeFixture, tempDir, uniqueId, waitFor } from '../../helpers/runtime.ts';

const read = (dir: string, file: string): string => readFileSync(join(dir, file), 'utf8').trim();

/** A detached container; force-deleted after the test. */
async function detached(t: TestContext, rt: RuntimeFixture, args: string[], edit: (spec: Spec) => void): Promise<string> {
  const bundle = makeBundle(t, { args, edit });
  const id = rt.track(uniqueId());
  const r = await rt.run(['run', '--detach', '--bundle', bundle.dir, id]);
  assert.equal(r.code, 0, r.stderr);
  return id;
}

/** Runs a container in the foreground and returns its output (stdout+stderr) and exit code. */
async function foreground(t: TestContext, rt: RuntimeFixture, script: string, edit: (spec: Spec) => void): Promise<{ code: number | null; out: string; id: string }> {
  const r = await rt.runBundle(makeBundle(t, { args: ['sh', '-c', script], edit }));
  return { code: r.code, out: r.stdout + r.stderr, id: r.id };
}

const resources = (spec: Spec): NonNullable<NonNullable<Spec['linux']>['resources']> => (spec.linux!.resources ??= {});

describe('berth-runtime resources (root, cgroup v1)', () => {
  test('pids.limit: a fork bomb is held at pids.max', async (t) => {
    const rt = new RuntimeFixture(t);
    const limit = 24;
    // The first process execs sleep once the bomb is lit, so the container lives on.
    const id = await detached(t, rt, ['sh', '-c', 'bomb() { bomb | bomb & }; bomb; exec sleep 1000'], (spec) => {
      resources(spec).pids = { limit };
      resources(spec).cpu = { quota: 50_000, period: 100_000 };
    });
    const pids = await cgroupDirOf(rt, id, 'pids');
    assert.equal(read(pids, 'pids.max'), String(limit));
    // The bomb fills the cgroup up to the limit, then its forks fail (and it stalls, waiting on pipes).
    // A refused fork is the kernel saying the limit was reached (the bomb's processes come and go,
    // so pids.current itself need not sit at the limit when it is read).
    const refused = await waitFor('the bomb to hit the limit', () => {
      const n = Number(/max (\d+)/.exec(read(pids, 'pids.events'))?.[1] ?? 0);
      return n > 0 ? n : undefined;
    }, 30_000);
    t.diagnostic(`forks refused at pids.max ${limit}: ${refused}`);
    // The kernel's own high-water mark (kernels since 6.1 keep one): never above the limit.
    if (kernelOffers('pids', 'pids.peak')) {
      const peak = Number(read(pids, 'pids.peak'));
      assert.ok(peak <= limit, `pids.peak ${peak} > ${limit}`);
      assert.ok(peak >= limit - 1, `pids.peak ${peak}: the bomb never came near the limit`);
    }
    assert.ok(Number(read(pids, 'pids.current')) <= limit);
    assert.equal((await rt.state(id)).status, 'running');
    const del = await rt.run(['delete', '--force', id]);
    assert.equal(del.code, 0, del.stderr);
    assert.deepEqual(cgroupLeftovers(id), []);
  });

  test('cpu quota: a busy loop with 20% of a CPU gets about that', async (t) => {
    const rt = new RuntimeFixture(t);
    const id = await detached(t, rt, ['sh', '-c', 'while :; do :; done'], (spec) => {
      resources(spec).cpu = { quota: 20_000, period: 100_000 };
    });
    const cpu = await cgroupDirOf(rt, id, 'cpu');
    const acct = await cgroupDirOf(rt, id, 'cpuacct');
    assert.equal(read(cpu, 'cpu.cfs_quota_us'), '20000');
    assert.equal(read(cpu, 'cpu.cfs_period_us'), '100000');
    const usage = (): number => Number(read(acct, 'cpuacct.usage'));
    const startNs = usage();
    const startAt = process.hrtime.bigint();
    // An observation window of a second, not a timing claim.
    await waitFor('a second of CPU accounting', () => (process.hrtime.bigint() - startAt >= 1_000_000_000n ? true : undefined));
    const share = (usage() - startNs) / Number(process.hrtime.bigint() - startAt);
    t.diagnostic(`busy loop with a 20% quota used ${(share * 100).toFixed(1)}% of a CPU`);
    assert.ok(share > 0.10 && share < 0.35, `share ${share}`);
    const throttled = Number(/nr_throttled (\d+)/.exec(read(cpu, 'cpu.stat'))?.[1]);
    assert.ok(throttled > 0, 'the kernel throttled the cgroup');
  });

  test('cpuset is written; the container sees its CPUs', async (t) => {
    const rt = new RuntimeFixture(t);
    const { last } = hostCpus();
    const id = await detached(t, rt, ['sleep', '1000'], (spec) => (resources(spec).cpu = { cpus: last, mems: '0' }));
    const cpuset = await cgroupDirOf(rt, id, 'cpuset');
    assert.equal(read(cpuset, 'cpuset.cpus'), last);
    assert.equal(read(cpuset, 'cpuset.mems'), '0');
    const inside = await rt.run(['exec', id, 'grep', 'Cpus_allowed_list', '/proc/self/status']);
    assert.equal(inside.code, 0, inside.stderr);
    assert.match(inside.stdout, new RegExp(`^Cpus_allowed_list:\\s+${last}$`, 'm'));
  });

  // Where the kernel lacks a limit's file, the container is refused naming it, and nothing is left.
  const limits: { what: string; file: () => string | undefined; edit: (spec: Spec) => void; refusal: RegExp }[] = [
    // runc 1.1 falls back to BFQ's file and names that one.
    { what: 'blkio weight', file: () => blkioWeightFile(), edit: (spec) => (resources(spec).blockIO = { weight: 300 }), refusal: byRuntime(/write "300" to \S+\/blkio\.weight: ENOENT/, /\/blkio\.bfq\.weight: no such file or directory/) },
    {
      what: 'hugepage limits',
      file: () => (kernelOffers('hugetlb', 'hugetlb.2MB.limit_in_bytes') ? 'hugetlb.2MB.limit_in_bytes' : undefined),
      edit: (spec) => (resources(spec).hugepageLimits = [{ pageSize: '2MB', limit: 2 * 2 ** 20 }]),
      refusal: byRuntime(/linux\.resources\.hugepageLimits needs the hugetlb controller, which is not mounted on this host|hugetlb\.2MB\.limit_in_bytes: ENOENT/, /cannot set hugetlb limit/),
    },
  ];
  for (const { what, file, edit, refusal } of limits) {
    test(`${what}: written where the kernel has the file, else refused naming it with nothing left behind`, async (t) => {
      const rt = new RuntimeFixture(t);
      const name = file();
      const bundle = makeBundle(t, { args: ['sleep', '1000'], edit });
      const id = rt.track(uniqueId());
      const r = await rt.run(['run', '--detach', '--bundle', bundle.dir, id]);
      if (name === undefined) {
        t.diagnostic(`this kernel has no file for ${what}`);
        assert.notEqual(r.code, 0);
        assert.match(r.stderr, refusal);
        assert.deepEqual(cgroupLeftovers(id), []);
        assert.deepEqual(rt.leftovers(), []);
        return;
      }
      assert.equal(r.code, 0, r.stderr);
      const controller = name.split('.')[0] ?? '';
      assert.match(read(await cgroupDirOf(rt, id, controller), name), name.startsWith('blkio') ? /^(default )?300$/ : /^2097152$/);
    });
  }

  test('linux.resources.unified is refused on cgroup v1, nothing left behind', async (t) => {
    const rt = new RuntimeFixture(t);
    const bundle = makeBundle(t, { args: ['true'], edit: (spec) => (resources(spec).unified = { 'memory.high': '64M' }) });
    const id = rt.track(uniqueId());
    const r = await rt.run(['create', '--bundle', bundle.dir, id]);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, byRuntime(/linux\.resources\.unified \(memory\.high\) needs cgroup v2; this host runs cgroup v1/, /cannot use unified on cgroup v1/));
    assert.deepEqual(cgroupLeftovers(id), []);
    assert.deepEqual(rt.leftovers(), []);
  });

  test('device rules: the last matching rule decides; runc\'s defaults (/dev/null) come after the spec\'s', async (t) => {
    const rt = new RuntimeFixture(t);
    // 42:0 is outside the defaults and has no driver: an open the cgroup lets through fails with
    // ENXIO ("No such device or address"), one it refuses with EPERM. mknod of any node is allowed.
    const script = 'mknod /scratch/d42 c 42 0 && head -c 0 /scratch/d42 2>&1; echo x > /dev/null && echo null-ok';
    const rules = (devices: NonNullable<ReturnType<typeof resources>['devices']>) => (spec: Spec): void => {
      const caps = ['CAP_MKNOD'];
      spec.process!.capabilities = { bounding: caps, effective: caps, permitted: caps };
      spec.mounts!.push({ destination: '/scratch', type: 'tmpfs', source: 'tmpfs', options: ['size=1m'] });
      resources(spec).devices = [{ allow: false, access: 'rwm' }, ...devices];
    };
    const denied = await foreground(t, rt, script, rules([{ allow: true, type: 'c', major: 42, minor: 0, access: 'r' }, { allow: false, type: 'c', major: 42, minor: 0, access: 'r' }]));
    assert.match(denied.out, /d42: Operation not permitted/);
    const allowed = await foreground(t, rt, script, rules([{ allow: false, type: 'c', major: 42, minor: 0, access: 'r' }, { allow: true, type: 'c', major: 42, minor: 0, access: 'r' }]));
    assert.match(allowed.out, /d42: No such device or address/);
    // A spec that denies 1:3 still gets /dev/null, as with runc, which appends its defaults after the spec's rules.
    const nullDenied = await foreground(t, rt, script, rules([{ allow: false, type: 'c', major: 1, minor: 3, access: 'rwm' }]));
    assert.match(nullDenied.out, /null-ok/);
  });

  test('the device rules are in the cgroup\'s devices.list', async (t) => {
    const rt = new RuntimeFixture(t);
    const id = await detached(t, rt, ['sleep', '1000'], (spec) => {
      resources(spec).devices = [{ allow: false, access: 'rwm' }, { allow: true, type: 'c', major: 42, minor: 0, access: 'r' }];
    });
    const list = read(await cgroupDirOf(rt, id, 'devices'), 'devices.list').split('\n');
    assert.ok(list.includes('c 42:0 r'), list.join(', '));
    assert.ok(list.includes('c 1:3 rwm'), list.join(', '));
    assert.ok(!list.includes('a *:* rwm'), 'not everything is allowed');
  });

  test('pause stops the container\'s processes, resume lets them go on', async (t) => {
    const rt = new RuntimeFixture(t);
    const shared = tempDir(t, 'berth-pause-');
    mkdirSync(join(shared, 'w'));
    const id = await detached(t, rt, ['sh', '-c', 'i=0; while :; do i=$((i+1)); echo $i > /w/count; sleep 0.01; done'], (spec) => {
      spec.mounts!.push({ destination: '/w', type: 'bind', source: join(shared, 'w'), options: ['rbind', 'rw'] });
    });
    const count = (): number => Number(readFileSync(join(shared, 'w', 'count'), 'utf8').trim() || '0');
    await waitFor('the counter to run', () => (count() >= 5 ? true : undefined));

    const paused = await rt.run(['pause', id]);
    assert.equal(paused.code, 0, paused.stderr);
    assert.equal((await rt.state(id)).status, 'paused');
    assert.equal(read(await cgroupDirOf(rt, id, 'freezer'), 'freezer.state'), 'FROZEN');
    const frozenAt = count();
    // Watch the counter over half a second: a running loop advances it about fifty times.
    const since = Date.now();
    await waitFor('an observation window', () => {
      assert.equal(count(), frozenAt, 'the counter moved while paused');
      return Date.now() - since >= 500 ? true : undefined;
    });
    const again = await rt.run(['pause', id]);
    assert.notEqual(again.code, 0);
    assert.match(again.stderr, byRuntime(/cannot pause a container that is paused/, /container not running/));

    const resumed = await rt.run(['resume', id]);
    assert.equal(resumed.code, 0, resumed.stderr);
    assert.equal((await rt.state(id)).status, 'running');
    await waitFor('the counter to go on', () => (count() >= frozenAt + 5 ? true : undefined));
    const twice = await rt.run(['resume', id]);
    assert.notEqual(twice.code, 0);
    assert.match(twice.stderr, byRuntime(/cannot resume a container that is running/, /container not paused/));
  });
});
