/**
 * `berth-runtime update` on running containers (root, cgroup v1): the new
 * limits are in the cgroup files and in state.json, and they hold inside
 * the container (forks fail under a lowered pids.max, a process above a
 * lowered memory limit is OOM-killed); refusals change nothing.
 */
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test, type TestContext } from 'node:test';
import type { LinuxResources, Spec } from '../../../src/oci/runtime-spec.ts';
import { blkioWeightFile, CPU_NO_KERNEL_HAS, hostCpus, kernelOffers } from '../../helpers/cgroup-probe.ts';
import { berthOnly, byRuntime, cgroupDirOf, makeBundle, OTHER_RUNTIME, RuntimeFixture, tempDir, uniqueId, waitFor } from '../../helpers/runtime.ts';

interface StoredState {
  config: { linux?: { resources?: LinuxResources } };
}

const stateOf = (rt: RuntimeFixture, id: string): StoredState => JSON.parse(readFileSync(join(rt.root, id, 'state.json'), 'utf8')) as StoredState;
const stateText = (rt: RuntimeFixture, id: string): string => readFileSync(join(rt.root, id, 'state.json'), 'utf8');

/**
 * What berth-runtime keeps in its state.json (the limits the next update
 * merges into); other runtimes keep records of their own, so these checks
 * are berth-runtime's alone.
 */
function inBerthState(check: () => void): void {
  if (OTHER_RUNTIME === undefined) check();
}

async function file(rt: RuntimeFixture, id: string, controller: string, name: string): Promise<string> {
  return readFileSync(join(await cgroupDirOf(rt, id, controller), name), 'utf8').trim();
}

async function detached(t: TestContext, rt: RuntimeFixture, args: string[], edit: (spec: Spec) => void = () => undefined): Promise<string> {
  const bundle = makeBundle(t, { args, edit });
  const id = rt.track(uniqueId());
  const r = await rt.run(['run', '--detach', '--bundle', bundle.dir, id]);
  assert.equal(r.code, 0, r.stderr);
  return id;
}

const MiB = 2 ** 20;

describe('berth-runtime update (root, cgroup v1)', () => {
  test('--pids-limit lowered on a running container: further forks fail', async (t) => {
    const rt = new RuntimeFixture(t);
    const id = await detached(t, rt, ['sleep', '1000'], (spec) => (spec.linux!.resources = { ...spec.linux!.resources, pids: { limit: 100 } }));
    const fork = ['exec', id, 'sh', '-c', 'sleep 0 & wait; echo forked'];
    const before = await rt.run(fork);
    assert.equal(before.code, 0, before.stderr);
    assert.equal(before.stdout, 'forked\n');

    // The container's one process is all the new limit allows.
    const r = await rt.run(['update', '--pids-limit', '1', id]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(await file(rt, id, 'pids', 'pids.max'), '1');
    inBerthState(() => assert.deepEqual(stateOf(rt, id).config.linux?.resources?.pids, { limit: 1 }));
    const after = await rt.run(fork);
    assert.notEqual(after.code, 0);
    // Under runc its own init (Go) joins the cgroup first and may be the one that cannot start a thread.
    assert.match(after.stderr, byRuntime(/can't fork: Resource temporarily unavailable/, /(can't fork|pthread_create failed): Resource temporarily unavailable/));
    assert.equal(after.stdout, '');

    assert.equal((await rt.run(['update', '--pids-limit', '-1', id])).code, 0);
    assert.equal(await file(rt, id, 'pids', 'pids.max'), 'max');
    assert.equal((await rt.run(fork)).stdout, 'forked\n');
  });

  test('--memory lowered on a running container: memory.limit_in_bytes changes and a process above it is OOM-killed', async (t) => {
    const rt = new RuntimeFixture(t);
    const id = await detached(t, rt, ['sleep', '1000']);
    const dd = ['exec', id, 'dd', 'if=/dev/zero', 'of=/dev/null', 'bs=64M', 'count=1'];
    const fits = await rt.run(dd);
    assert.equal(fits.code, 0, fits.stderr);

    // Without swap accounting the kernel has no memory+swap limit to set: berth refuses it by name.
    const swap = kernelOffers('memory', 'memory.memsw.limit_in_bytes');
    if (!swap) {
      const refused = await rt.run(['update', '--memory', '32m', '--memory-swap', '32m', id]);
      assert.equal(refused.code, 1);
      assert.match(refused.stderr, /swap accounting is off in this kernel/);
    }
    const r = await rt.run(['update', '--memory', '32m', ...(swap ? ['--memory-swap', '32m'] : []), id]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(await file(rt, id, 'memory', 'memory.limit_in_bytes'), String(32 * MiB));
    if (swap) assert.equal(await file(rt, id, 'memory', 'memory.memsw.limit_in_bytes'), String(32 * MiB));
    inBerthState(() => assert.deepEqual(stateOf(rt, id).config.linux?.resources?.memory, { limit: 32 * MiB, ...(swap ? { swap: 32 * MiB } : {}) }));
    const killed = await rt.run(dd);
    assert.equal(killed.code, 137, `dd should be OOM-killed: ${killed.stderr}`);
    assert.match(await file(rt, id, 'memory', 'memory.oom_control'), /^oom_kill 1$/m);
    assert.equal((await rt.state(id)).status, 'running', 'only the exec was killed');

    // -1 lifts both limits again (runc: unlimited memory means unlimited memory+swap).
    assert.equal((await rt.run(['update', '--memory', '-1', id])).code, 0);
    assert.ok(Number(await file(rt, id, 'memory', 'memory.limit_in_bytes')) > 2 ** 60);
    if (swap) assert.ok(Number(await file(rt, id, 'memory', 'memory.memsw.limit_in_bytes')) > 2 ** 60);
    assert.equal((await rt.run(dd)).code, 0);
  });

  test('the other flags land in their cgroup files', async (t) => {
    const rt = new RuntimeFixture(t);
    const id = await detached(t, rt, ['sleep', '1000']);
    const { last } = hostCpus();
    const r = await rt.run([
      'update', '--memory-reservation', '16M', '--cpu-share', '512', '--cpu-quota', '30000', '--cpu-period', '200000',
      '--cpuset-cpus', last, '--cpuset-mems', '0', id,
    ]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(await file(rt, id, 'memory', 'memory.soft_limit_in_bytes'), String(16 * MiB));
    assert.equal(await file(rt, id, 'cpu', 'cpu.shares'), '512');
    assert.equal(await file(rt, id, 'cpu', 'cpu.cfs_quota_us'), '30000');
    assert.equal(await file(rt, id, 'cpu', 'cpu.cfs_period_us'), '200000');
    assert.equal(await file(rt, id, 'cpuset', 'cpuset.cpus'), last);
    const inside = await rt.run(['exec', id, 'grep', 'Cpus_allowed_list', '/proc/self/status']);
    assert.match(inside.stdout, new RegExp(`^Cpus_allowed_list:\\s+${last}$`, 'm'));
    inBerthState(() => assert.deepEqual(stateOf(rt, id).config.linux?.resources?.cpu, { shares: 512, quota: 30000, period: 200000, cpus: last, mems: '0' }));

    // Only the quota: the period stays (runc keeps the other of the pair).
    assert.equal((await rt.run(['update', '--cpu-quota', '50000', id])).code, 0);
    assert.equal(await file(rt, id, 'cpu', 'cpu.cfs_quota_us'), '50000');
    assert.equal(await file(rt, id, 'cpu', 'cpu.cfs_period_us'), '200000');
  });

  test('--blkio-weight lands in the weight file where the kernel has one, else is refused naming it and changes nothing', async (t) => {
    const rt = new RuntimeFixture(t);
    const id = await detached(t, rt, ['sleep', '1000']);
    const weightFile = blkioWeightFile();
    const before = OTHER_RUNTIME === undefined ? stateText(rt, id) : '';
    const r = await rt.run(['update', '--blkio-weight', '300', id]);
    if (weightFile === undefined) {
      t.diagnostic('this kernel has no blkio weight file (no CFQ or BFQ scheduler)');
      assert.equal(r.code, 1);
      // runc 1.1 falls back to BFQ's file and names that one.
      assert.match(r.stderr, byRuntime(/write "300" to \S+\/blkio\.weight: ENOENT/, /\/blkio\.bfq\.weight: no such file or directory/));
      inBerthState(() => assert.equal(stateText(rt, id), before));
      return;
    }
    assert.equal(r.code, 0, r.stderr);
    assert.match(await file(rt, id, 'blkio', weightFile), /^(default )?300$/);
    inBerthState(() => assert.deepEqual(stateOf(rt, id).config.linux?.resources?.blockIO, { weight: 300 }));
  });

  test('--resources from a file and from standard input', async (t) => {
    const rt = new RuntimeFixture(t);
    const id = await detached(t, rt, ['sleep', '1000'], (spec) => (spec.linux!.resources = { ...spec.linux!.resources, pids: { limit: 100 } }));
    const doc = join(tempDir(t), 'resources.json');
    writeFileSync(doc, JSON.stringify({ memory: { limit: 48 * MiB, reservation: 0 }, cpu: { quota: 25000, period: 100000 }, pids: { limit: 0 } }));
    const fromFile = await rt.run(['update', '-r', doc, id]);
    assert.equal(fromFile.code, 0, fromFile.stderr);
    assert.equal(await file(rt, id, 'memory', 'memory.limit_in_bytes'), String(48 * MiB));
    assert.equal(await file(rt, id, 'cpu', 'cpu.cfs_quota_us'), '25000');
    assert.equal(await file(rt, id, 'pids', 'pids.max'), '100', 'pids.limit 0 keeps the stored limit');

    const fromStdin = await rt.run(['update', '--resources', '-', id], { input: JSON.stringify({ pids: { limit: 7 } }) });
    assert.equal(fromStdin.code, 0, fromStdin.stderr);
    assert.equal(await file(rt, id, 'pids', 'pids.max'), '7');
    inBerthState(() => {
      const stored = stateOf(rt, id).config.linux?.resources;
      assert.deepEqual(stored?.pids, { limit: 7 });
      assert.deepEqual(stored?.memory, { limit: 48 * MiB });
    });
  });

  test('refusals leave the cgroup and state.json as they were', { skip: berthOnly('berth-runtime\'s words and exit statuses, and its state.json') }, async (t) => {
    const rt = new RuntimeFixture(t);
    // A shell holding 40 MiB of anonymous memory, which a 16 MiB limit cannot reclaim (no swap);
    // the echo after sleep keeps the shell (and $x) from being replaced by sleep.
    const id = await detached(t, rt, ['sh', '-c', 'x=$(head -c 41943040 /dev/zero | tr "\\0" a); echo held > /dev/shm/held; sleep 1000; echo ${#x}'], (spec) => {
      spec.linux!.resources = { ...spec.linux!.resources, memory: { limit: 128 * MiB } };
    });
    await waitFor('the memory to be held', async () => ((await rt.run(['exec', id, 'cat', '/dev/shm/held'])).stdout === 'held\n' ? true : undefined), 30_000);
    const before = stateText(rt, id);
    const limitBefore = await file(rt, id, 'memory', 'memory.limit_in_bytes');
    const refusals: [string[], RegExp, number][] = [
      [['--memory', '16m'], /memory\.limit_in_bytes.*EBUSY/, 1],
      [['--kernel-memory', '64m'], /--kernel-memory: kernel memory limits are deprecated/, 1],
      [['--memory', 'lots'], /invalid value for --memory: "lots": invalid size: 'lots'/, 2],
      [['--cpu-period', '-1'], /invalid value for --cpu-period: "-1"/, 2],
      [['--blkio-weight', '5'], /linux\.resources\.blockIO\.weight 5: must be between 10 and 1000/, 2],
      [['--cpuset-cpus', CPU_NO_KERNEL_HAS], /cpuset\.cpus: ERANGE: the value is out of range/, 2],
      [['-r', '-', '--memory', '1g'], /--resources cannot be combined with --memory/, 2],
      [['-r', '/no/such/file'], /--resources \/no\/such\/file: no such file/, 1],
    ];
    for (const [args, message, code] of refusals) {
      const r = await rt.run(['update', ...args, id], { input: '{}' });
      assert.equal(r.code, code, `${args.join(' ')}: ${r.stderr}`);
      assert.match(r.stderr, message, args.join(' '));
      assert.equal(stateText(rt, id), before, `${args.join(' ')} changed state.json`);
    }
    assert.equal(await file(rt, id, 'memory', 'memory.limit_in_bytes'), limitBefore);
    assert.equal(await file(rt, id, 'cpuset', 'cpuset.cpus'), hostCpus().all);
    const badJson = await rt.run(['update', '-r', '-', id], { input: '{"memory": {"limit": "64m"}}' });
    assert.equal(badJson.code, 2);
    assert.match(badJson.stderr, /--resources \(standard input\): memory\.limit: "64m" is not an integer/);
  });

  test('a stopped container and a missing one are refused', async (t) => {
    const rt = new RuntimeFixture(t);
    const id = await detached(t, rt, ['true']);
    await waitFor('the container to stop', async () => ((await rt.state(id)).status === 'stopped' ? true : undefined));
    const stopped = await rt.run(['update', '--pids-limit', '5', id]);
    assert.equal(stopped.code, 1);
    assert.match(stopped.stderr, byRuntime(new RegExp(`container "${id}": not running`), /container not running/));
    const missing = await rt.run(['update', '--pids-limit', '5', 'no-such-container']);
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, byRuntime(/container "no-such-container": does not exist/, /container does not exist/));
  });

  test('a paused container can be updated and keeps the new limit when resumed', async (t) => {
    const rt = new RuntimeFixture(t);
    const id = await detached(t, rt, ['sleep', '1000']);
    assert.equal((await rt.run(['pause', id])).code, 0);
    const r = await rt.run(['update', '--pids-limit', '3', id]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal((await rt.state(id)).status, 'paused');
    assert.equal((await rt.run(['resume', id])).code, 0);
    assert.equal(await file(rt, id, 'pids', 'pids.max'), '3');
  });
});
