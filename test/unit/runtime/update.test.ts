/**
 * `update` without root: runc's flag forms (sizes as go-units reads them),
 * the --resources document's shape, the merge into the stored resources,
 * and the whole command over a stand-in container whose cgroup is a temp
 * dir of control files: what is written, what state.json keeps, and that a
 * refusal half-way leaves both as they were.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test, type TestContext } from 'node:test';
import { ramInBytes, resourcesFromFlags } from '../../../src/cli/berth-runtime/commands/update.ts';
import { isBerthError } from '../../../src/errors.ts';
import { defaultSpec } from '../../../src/oci/default-spec.ts';
import type { LinuxResources } from '../../../src/oci/runtime-spec.ts';
import { runtimeContext } from '../../../src/runtime/lifecycle/context.ts';
import { mergeResources, parseResources, update } from '../../../src/runtime/lifecycle/update.ts';
import { readProcStat } from '../../../src/runtime/state/proc.ts';

describe('update: flags', () => {
  test('sizes as go-units RAMInBytes reads them', () => {
    const cases: [string, number][] = [
      ['4096', 4096], ['64m', 64 * 2 ** 20], ['64M', 64 * 2 ** 20], ['64mb', 64 * 2 ** 20], ['64MiB', 64 * 2 ** 20], ['64 MB', 64 * 2 ** 20],
      ['512k', 512 * 1024], ['1.5g', 1.5 * 2 ** 30], ['2t', 2 * 2 ** 40], ['10b', 10], ['1.5', 1],
    ];
    for (const [text, bytes] of cases) assert.equal(ramInBytes(text), bytes, text);
    for (const bad of ['', 'abc', '-5m', '64x', '1.2.3m', 'm', '64  m', '64mm']) assert.throws(() => ramInBytes(bad), /invalid size/, bad);
  });

  test('flags become linux.resources; bad values and refused flags name the flag', () => {
    assert.deepEqual(
      resourcesFromFlags({
        memory: '64m', 'memory-swap': '-1', 'memory-reservation': '32m', 'cpu-share': '512', 'cpu-quota': '-1', 'cpu-period': '100000',
        'cpu-rt-runtime': '0', 'cpuset-cpus': '0-1', 'cpuset-mems': '0', 'blkio-weight': '300', 'pids-limit': '-1', 'cpu-idle': '1',
      }),
      {
        memory: { limit: 64 * 2 ** 20, swap: -1, reservation: 32 * 2 ** 20 },
        cpu: { shares: 512, quota: -1, period: 100000, realtimeRuntime: 0, idle: 1, cpus: '0-1', mems: '0' },
        blockIO: { weight: 300 },
        pids: { limit: -1 },
      },
    );
    assert.deepEqual(resourcesFromFlags({ 'cpu-shares': '2' }), { cpu: { shares: 2 } });
    assert.deepEqual(resourcesFromFlags({}), {});
    assert.throws(() => resourcesFromFlags({ 'cpu-period': '-5' }), (e) => isBerthError(e, 'invalid_flag') && e.message.includes('--cpu-period: "-5"'));
    assert.throws(() => resourcesFromFlags({ memory: '64q' }), (e) => isBerthError(e, 'invalid_flag') && e.message.includes("--memory: \"64q\": invalid size: '64q'"));
    assert.throws(() => resourcesFromFlags({ 'pids-limit': 'lots' }), /--pids-limit: "lots": not an integer/);
    assert.throws(() => resourcesFromFlags({ 'kernel-memory': '64m' }), (e) => isBerthError(e, 'update_flag_unsupported') && /--kernel-memory: kernel memory limits are deprecated/.test(e.message));
    assert.throws(() => resourcesFromFlags({ 'l3-cache-schema': 'L3:0=f' }), /Intel RDT is not supported/);
  });
});

describe('update: --resources document', () => {
  test('the shape is checked, naming the field', () => {
    const ok = { memory: { limit: 1, checkBeforeUpdate: true }, cpu: { cpus: '0' }, pids: { limit: 5 }, unified: { 'memory.high': '1' }, rdma: { mlx: { hcaHandles: 1 } }, hugepageLimits: [{ pageSize: '2MB', limit: 0 }] };
    assert.deepEqual(parseResources(ok, 'f'), ok);
    const refused: [unknown, RegExp][] = [
      [[], /f: must be a JSON object/],
      [null, /f: must be a JSON object/],
      [{ memroy: {} }, /f: memroy: not a linux.resources field/],
      [{ memory: 5 }, /f: memory: must be an object/],
      [{ memory: { limt: 1 } }, /f: memory.limt: not a field of linux.resources.memory/],
      [{ memory: { limit: '64m' } }, /f: memory.limit: "64m" is not an integer/],
      [{ memory: { limit: 1.5 } }, /f: memory.limit: 1.5 is not an integer/],
      [{ cpu: { cpus: 3 } }, /f: cpu.cpus: 3 is not a string/],
      [{ memory: { disableOOMKiller: 'yes' } }, /disableOOMKiller: "yes" is not true or false/],
      [{ devices: {} }, /f: devices: \{\} is not a list of objects/],
      [{ hugepageLimits: ['2MB'] }, /hugepageLimits: \["2MB"\] is not a list of objects/],
      [{ rdma: { mlx: 1 } }, /f: rdma.mlx: must be an object/],
    ];
    for (const [doc, message] of refused) {
      assert.throws(() => parseResources(doc, 'f'), (e) => isBerthError(e, 'update_resources_invalid') && message.test(e.message), JSON.stringify(doc));
    }
  });
});

describe('update: merge', () => {
  const stored: LinuxResources = {
    memory: { limit: 100, swap: 200, reservation: 50 },
    cpu: { shares: 1024, quota: 20000, period: 100000, cpus: '0-1' },
    pids: { limit: 64 },
    blockIO: { weight: 500, throttleReadBpsDevice: [{ major: 8, minor: 0, rate: 1 }] },
    hugepageLimits: [{ pageSize: '2MB', limit: 0 }],
    devices: [{ allow: false, access: 'rwm' }],
  };

  test('given values replace stored ones; 0 and "" keep them (runc\'s template)', () => {
    const { merged, changed, warnings } = mergeResources(stored, {
      memory: { limit: 150, swap: 0, reservation: 0 },
      cpu: { quota: 50000, period: 0, cpus: '' },
      pids: { limit: 0 },
    });
    assert.deepEqual(merged.memory, { limit: 150, swap: 200, reservation: 50 });
    assert.deepEqual(merged.cpu, { shares: 1024, quota: 50000, period: 100000, cpus: '0-1' });
    assert.deepEqual(merged.pids, { limit: 64 });
    assert.deepEqual(Object.keys(changed), ['memory', 'cpu']);
    assert.deepEqual(changed.cpu, merged.cpu, 'the whole section goes to the cgroup: quota and period together');
    assert.deepEqual(warnings, []);
    assert.deepEqual(stored.memory, { limit: 100, swap: 200, reservation: 50 }, 'the stored resources are not modified');
  });

  test('nothing changes when the request repeats the stored values', () => {
    const { changed } = mergeResources(stored, { memory: { limit: 100 }, pids: { limit: 64 }, devices: [{ allow: false, access: 'rwm' }], hugepageLimits: [{ pageSize: '2MB', limit: 0 }] });
    assert.deepEqual(changed, {});
  });

  test('unlimited memory without a word on swap makes swap unlimited too (runc)', () => {
    assert.deepEqual(mergeResources(stored, { memory: { limit: -1 } }).merged.memory, { limit: -1, swap: -1, reservation: 50 });
    assert.deepEqual(mergeResources(stored, { memory: { limit: -1, swap: 300 } }).merged.memory, { limit: -1, swap: 300, reservation: 50 });
    assert.deepEqual(mergeResources({}, { memory: { limit: -1 } }).merged.memory, { limit: -1 });
  });

  test('lists merge by key: devices by major:minor, hugepages by size; unified and rdma by name', () => {
    const { merged, changed } = mergeResources(stored, {
      blockIO: { throttleReadBpsDevice: [{ major: 8, minor: 0, rate: 9 }, { major: 8, minor: 16, rate: 2 }] },
      hugepageLimits: [{ pageSize: '1GB', limit: 1 }],
      unified: { 'memory.high': '10' },
    });
    assert.deepEqual(merged.blockIO, { weight: 500, throttleReadBpsDevice: [{ major: 8, minor: 0, rate: 9 }, { major: 8, minor: 16, rate: 2 }] });
    assert.deepEqual(merged.hugepageLimits, [{ pageSize: '2MB', limit: 0 }, { pageSize: '1GB', limit: 1 }]);
    assert.deepEqual(Object.keys(changed), ['blockIO', 'hugepageLimits', 'unified']);
    const rdma = mergeResources({ rdma: { a: { hcaHandles: 1, hcaObjects: 2 } } }, { rdma: { a: { hcaHandles: 5 }, b: { hcaObjects: 1 } } }).merged.rdma;
    assert.deepEqual(rdma, { a: { hcaHandles: 5, hcaObjects: 2 }, b: { hcaObjects: 1 } });
  });

  test('devices are not updated (as runc) and say so; kernel memory is refused', () => {
    const { changed, warnings } = mergeResources(stored, { devices: [{ allow: true, access: 'rwm' }] });
    assert.deepEqual(changed, {});
    assert.match(warnings[0] ?? '', /linux.resources.devices are not changed by update/);
    assert.throws(() => mergeResources(stored, { memory: { kernel: 1 << 20 } }), (e) => isBerthError(e, 'update_kernel_memory') && /memory.kernel: kernel memory limits are deprecated/.test(e.message));
  });
});

/** A stand-in container: a live child process and v1 control files in a temp dir. */
async function standIn(t: TestContext, resources: LinuxResources) {
  const root = mkdtempSync(join(tmpdir(), 'berth-update-'));
  t.after(() => rmSync(root, { recursive: true, force: true }));
  // Plain files are not truncated by a write as control files are: the ones a test writes start empty.
  const files: Record<string, Record<string, string>> = {
    memory: { 'memory.limit_in_bytes': '', 'memory.memsw.limit_in_bytes': '', 'memory.soft_limit_in_bytes': '' },
    cpu: { 'cpu.shares': '1024\n', 'cpu.cfs_quota_us': '20000\n', 'cpu.cfs_period_us': '100000\n' },
    cpuset: { 'cpuset.cpus': '', 'cpuset.mems': '0\n' },
    pids: { 'pids.max': '' },
  };
  const dirs: Record<string, string> = {};
  for (const [controller, entries] of Object.entries(files)) {
    const dir = join(root, 'cgroup', controller);
    mkdirSync(dir, { recursive: true });
    for (const [name, text] of Object.entries(entries)) writeFileSync(join(dir, name), text);
    dirs[controller] = dir;
  }
  const child = spawn('sleep', ['1000'], { stdio: 'ignore' });
  t.after(() => child.kill('SIGKILL'));
  const pid = child.pid ?? 0;
  const ctx = runtimeContext(join(root, 'state'));
  const config = defaultSpec();
  config.linux = { ...config.linux, resources };
  await ctx.store.claim('c1');
  await ctx.store.write({
    ociVersion: '1.2.0', id: 'c1', status: 'running', pid, bundle: root, rootfs: join(root, 'rootfs'), created: new Date().toISOString(), owner: 'root',
    pidStartTime: readProcStat(pid)?.startTime ?? '', config, cgroup: { mode: 'v1', dirs }, namespaces: {},
  });
  const file = (controller: string, name: string): string => readFileSync(join(dirs[controller] ?? '', name), 'utf8').trim();
  return { ctx, dirs, file, child };
}

describe('update: a stand-in container', () => {
  test('writes what changed and keeps it in state.json', async (t) => {
    const { ctx, file } = await standIn(t, { pids: { limit: 64 }, cpu: { quota: 20000, period: 100000 } });
    const r = await update(ctx, 'c1', { pids: { limit: 5 }, memory: { limit: 64 * 2 ** 20 }, cpu: { cpus: '1' } });
    assert.deepEqual(r.changed.sort(), ['cpu', 'memory', 'pids']);
    assert.equal(file('pids', 'pids.max'), '5');
    assert.equal(file('memory', 'memory.limit_in_bytes'), String(64 * 2 ** 20));
    assert.equal(file('cpuset', 'cpuset.cpus'), '1');
    const stored = (await ctx.store.read('c1')).config.linux?.resources;
    assert.deepEqual(stored, { pids: { limit: 5 }, cpu: { quota: 20000, period: 100000, cpus: '1' }, memory: { limit: 64 * 2 ** 20 } });

    assert.deepEqual((await update(ctx, 'c1', { pids: { limit: 5 } })).changed, [], 'the same value again changes nothing');
    await update(ctx, 'c1', { pids: { limit: -1 } });
    assert.equal(file('pids', 'pids.max'), 'max');
  });

  test('a refusal half-way writes the stored values back and leaves state.json as it was', async (t) => {
    const { ctx, dirs, file } = await standIn(t, { cpu: { quota: 20000, period: 100000, cpus: '0-1' } });
    // cpuset.cpus that cannot be written: the quota goes first, then the write fails.
    rmSync(join(dirs['cpuset'] ?? '', 'cpuset.cpus'));
    mkdirSync(join(dirs['cpuset'] ?? '', 'cpuset.cpus'));
    const before = readFileSync(join(ctx.store.dir('c1'), 'state.json'), 'utf8');
    await assert.rejects(update(ctx, 'c1', { cpu: { quota: 50000, cpus: '1' } }), (e) => isBerthError(e, 'cgroup_io_failed') && e.message.includes('cpuset.cpus'));
    assert.equal(file('cpu', 'cpu.cfs_quota_us'), '20000', 'the stored quota is back');
    assert.equal(readFileSync(join(ctx.store.dir('c1'), 'state.json'), 'utf8'), before);
  });

  test('values the library refuses before writing leave everything alone', async (t) => {
    const { ctx, file } = await standIn(t, { memory: { limit: 100 << 20, swap: 200 << 20 } });
    const before = readFileSync(join(ctx.store.dir('c1'), 'state.json'), 'utf8');
    await assert.rejects(update(ctx, 'c1', { memory: { limit: 300 << 20 } }), (e) => isBerthError(e, 'cgroup_resource_invalid') && /memory.swap .*must be at least memory.limit/.test(e.message));
    await assert.rejects(update(ctx, 'c1', { pids: { limit: 1.5 } }), (e) => isBerthError(e, 'cgroup_resource_invalid') && /pids.limit/.test(e.message));
    await assert.rejects(update(ctx, 'c1', { unified: { 'memory.high': '1' } }), (e) => isBerthError(e, 'cgroup_unified_on_v1'));
    await assert.rejects(update(ctx, 'c1', { hugepageLimits: [{ pageSize: '2MB', limit: 0 }] }), (e) => isBerthError(e, 'cgroup_controller_missing') && /hugetlb controller/.test(e.message));
    assert.equal(readFileSync(join(ctx.store.dir('c1'), 'state.json'), 'utf8'), before);
    assert.equal(file('memory', 'memory.limit_in_bytes'), '');
  });

  test('a stopped container and a missing one are refused', async (t) => {
    const { ctx, child } = await standIn(t, {});
    child.kill('SIGKILL');
    await new Promise((r) => child.once('exit', r));
    await assert.rejects(update(ctx, 'c1', { pids: { limit: 5 } }), (e) => isBerthError(e, 'not_running') && e.message === 'container "c1": not running');
    await assert.rejects(update(ctx, 'nope', { pids: { limit: 5 } }), (e) => isBerthError(e, 'container_not_found') && /container "nope": does not exist/.test(e.message));
  });
});
