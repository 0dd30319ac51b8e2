/**
 * linux.resources on cgroup v1: which controller file gets which value,
 * as runc's cgroupfs driver writes them.
 */
import type { LinuxBlockIO, LinuxCPU, LinuxMemory, LinuxResources } from '../../oci/runtime-spec.ts';
import { BerthError, ErrorKind, failedPrecondition } from '../../errors.ts';
import type { ErrorCode } from '../../error-codes.ts';

const permissionDenied = (code: ErrorCode, message: string): BerthError => new BerthError(ErrorKind.PermissionDenied, code, message);
import { DeviceEmulator, ruleString, rulesFromSpec } from './devices/emulator.ts';
import type { CgroupFs } from './fs.ts';
import { num } from './validate.ts';
import { readControl, writeControl } from './write.ts';

export interface ApplyContext {
  fs: CgroupFs;
  dirs: Record<string, string>;
  warnings: string[];
  /** Hierarchies a rootless create() could not write. */
  skipped?: ReadonlySet<string>;
}

function dirOf(ctx: ApplyContext, controller: string, what: string): string {
  const dir = ctx.dirs[controller];
  if (dir === undefined && ctx.skipped?.has(controller) === true) {
    throw permissionDenied('cgroup_rootless_unwritable', `cgroup: ${what} needs the ${controller} hierarchy, which this user cannot write (rootless)`);
  }
  if (dir === undefined) {
    throw failedPrecondition('cgroup_controller_missing', `cgroup: ${what} needs the ${controller} controller, which is not mounted on this host`);
  }
  return dir;
}

async function setMemory(ctx: ApplyContext, m: LinuxMemory): Promise<void> {
  const dir = dirOf(ctx, 'memory', 'linux.resources.memory');
  const { fs } = ctx;
  let limit = m.limit ?? 0;
  let swap = m.swap ?? 0;
  const hasSwapFile = await fs.exists(`${dir}/memory.memsw.limit_in_bytes`);
  // Unlimited memory with swap unset means unlimited memory+swap too.
  if (limit === -1 && swap === 0 && hasSwapFile) swap = -1;
  if (swap !== 0 && !hasSwapFile) {
    throw failedPrecondition('cgroup_swap_unsupported', `cgroup: linux.resources.memory.swap ${swap}: swap accounting is off in this kernel (no memory.memsw.limit_in_bytes)`);
  }
  const writeLimit = async (): Promise<void> => {
    if (limit !== 0) await writeControl(fs, dir, 'memory.limit_in_bytes', num(limit));
  };
  const writeSwap = async (): Promise<void> => {
    if (swap !== 0) await writeControl(fs, dir, 'memory.memsw.limit_in_bytes', num(swap));
  };
  // The kernel keeps memory <= memory+swap at every step, so the order depends on the current limit.
  if (limit !== 0 && swap !== 0) {
    const current = Number((await readControl(fs, dir, 'memory.limit_in_bytes')).trim());
    if (swap === -1 || current < swap) {
      await writeSwap();
      await writeLimit();
      limit = 0;
      swap = 0;
    }
  }
  await writeLimit();
  await writeSwap();
  if (m.reservation !== undefined && m.reservation !== 0) await writeControl(fs, dir, 'memory.soft_limit_in_bytes', num(m.reservation));
  if (m.kernel !== undefined && m.kernel !== 0) ctx.warnings.push('linux.resources.memory.kernel is ignored (kernel memory limits are deprecated by the kernel)');
  if (m.kernelTCP !== undefined && m.kernelTCP !== 0) await writeControl(fs, dir, 'memory.kmem.tcp.limit_in_bytes', num(m.kernelTCP));
  if (m.disableOOMKiller === true) await writeControl(fs, dir, 'memory.oom_control', '1');
  if (m.swappiness !== undefined && m.swappiness !== -1) await writeControl(fs, dir, 'memory.swappiness', num(m.swappiness));
  if (m.useHierarchy === true) await writeControl(fs, dir, 'memory.use_hierarchy', '1');
}

async function setCpu(ctx: ApplyContext, c: LinuxCPU): Promise<void> {
  const { fs } = ctx;
  const cpuDir = (): string => dirOf(ctx, 'cpu', 'linux.resources.cpu');
  if (c.shares !== undefined && c.shares !== 0) {
    const dir = cpuDir();
    await writeControl(fs, dir, 'cpu.shares', num(c.shares));
    // The kernel clamps silently; runc reports the clamp, so do we.
    const got = Number((await readControl(fs, dir, 'cpu.shares')).trim());
    if (got !== c.shares) {
      throw failedPrecondition('cgroup_cpu_shares_clamped', `cgroup: linux.resources.cpu.shares ${c.shares}: the kernel set ${got} (allowed range is 2 to 262144)`);
    }
  }
  const period = c.period ?? 0;
  const quota = c.quota ?? 0;
  if (period !== 0 || quota !== 0) {
    const dir = cpuDir();
    // A new period can be refused while the old quota is larger than it: then quota first.
    try {
      if (period !== 0) await writeControl(fs, dir, 'cpu.cfs_period_us', num(period));
      if (quota !== 0) await writeControl(fs, dir, 'cpu.cfs_quota_us', num(quota));
    } catch (err) {
      if (period === 0 || quota === 0) throw err;
      await writeControl(fs, dir, 'cpu.cfs_quota_us', num(quota));
      await writeControl(fs, dir, 'cpu.cfs_period_us', num(period));
    }
  }
  if (c.burst !== undefined) await writeControl(fs, cpuDir(), 'cpu.cfs_burst_us', num(c.burst));
  if (c.realtimePeriod !== undefined && c.realtimePeriod !== 0) await writeControl(fs, cpuDir(), 'cpu.rt_period_us', num(c.realtimePeriod));
  if (c.realtimeRuntime !== undefined && c.realtimeRuntime !== 0) await writeControl(fs, cpuDir(), 'cpu.rt_runtime_us', num(c.realtimeRuntime));
  if (c.idle !== undefined) await writeControl(fs, cpuDir(), 'cpu.idle', num(c.idle));
  if (c.cpus !== undefined && c.cpus !== '') await writeControl(fs, dirOf(ctx, 'cpuset', 'linux.resources.cpu.cpus'), 'cpuset.cpus', c.cpus);
  if (c.mems !== undefined && c.mems !== '') await writeControl(fs, dirOf(ctx, 'cpuset', 'linux.resources.cpu.mems'), 'cpuset.mems', c.mems);
}

async function setBlkio(ctx: ApplyContext, b: LinuxBlockIO): Promise<void> {
  const dir = dirOf(ctx, 'blkio', 'linux.resources.blockIO');
  const { fs } = ctx;
  // Without CFQ the weights live in the BFQ files.
  const bfq = !(await fs.exists(`${dir}/blkio.weight`)) && (await fs.exists(`${dir}/blkio.bfq.weight`));
  const weightFile = bfq ? 'blkio.bfq.weight' : 'blkio.weight';
  if (b.weight !== undefined && b.weight !== 0) await writeControl(fs, dir, weightFile, num(b.weight));
  if (b.leafWeight !== undefined && b.leafWeight !== 0) await writeControl(fs, dir, 'blkio.leaf_weight', num(b.leafWeight));
  for (const d of b.weightDevice ?? []) {
    if (d.weight !== undefined && d.weight !== 0) await writeControl(fs, dir, `${weightFile}_device`, `${d.major}:${d.minor} ${d.weight}`);
    if (d.leafWeight !== undefined && d.leafWeight !== 0) await writeControl(fs, dir, 'blkio.leaf_weight_device', `${d.major}:${d.minor} ${d.leafWeight}`);
  }
  const throttles = [
    ['throttleReadBpsDevice', 'blkio.throttle.read_bps_device'],
    ['throttleWriteBpsDevice', 'blkio.throttle.write_bps_device'],
    ['throttleReadIOPSDevice', 'blkio.throttle.read_iops_device'],
    ['throttleWriteIOPSDevice', 'blkio.throttle.write_iops_device'],
  ] as const;
  for (const [key, file] of throttles) {
    for (const d of b[key] ?? []) await writeControl(fs, dir, file, `${d.major}:${d.minor} ${num(d.rate)}`);
  }
}

async function setDevices(ctx: ApplyContext, devices: NonNullable<LinuxResources['devices']>): Promise<void> {
  const dir = dirOf(ctx, 'devices', 'linux.resources.devices');
  const { fs } = ctx;
  // A new cgroup inherits its parent's list; the target always starts from "deny all".
  const target = DeviceEmulator.from([{ type: 'a', major: -1, minor: -1, access: 'rwm', allow: false }, ...rulesFromSpec(devices)]);
  const current = DeviceEmulator.fromList(await readControl(fs, dir, 'devices.list'));
  for (const rule of current.transition(target)) {
    await writeControl(fs, dir, rule.allow ? 'devices.allow' : 'devices.deny', ruleString(rule));
  }
  // As runc: check what the kernel ended up with; a device rule set is a security boundary.
  const after = DeviceEmulator.fromList(await readControl(fs, dir, 'devices.list'));
  if (target.defaultAllow ? !after.defaultAllow : !after.equals(target)) {
    throw failedPrecondition('cgroup_devices_mismatch', `cgroup: ${dir}/devices.list does not match the requested linux.resources.devices after writing them`);
  }
}

export async function applyV1(ctx: ApplyContext, r: LinuxResources): Promise<void> {
  const { fs } = ctx;
  if (r.unified !== undefined && Object.keys(r.unified).length > 0) {
    throw failedPrecondition('cgroup_unified_on_v1', `cgroup: linux.resources.unified (${Object.keys(r.unified).join(', ')}) needs cgroup v2; this host runs cgroup v1`);
  }
  for (const [controller, what] of v1Needs(r)) dirOf(ctx, controller, what);
  if (r.devices !== undefined) await setDevices(ctx, r.devices);
  if (r.memory !== undefined) await setMemory(ctx, r.memory);
  if (r.cpu !== undefined) await setCpu(ctx, r.cpu);
  if (r.pids !== undefined) {
    await writeControl(fs, dirOf(ctx, 'pids', 'linux.resources.pids'), 'pids.max', r.pids.limit > 0 ? num(r.pids.limit) : 'max');
  }
  if (r.blockIO !== undefined) await setBlkio(ctx, r.blockIO);
  for (const h of r.hugepageLimits ?? []) {
    await writeControl(fs, dirOf(ctx, 'hugetlb', 'linux.resources.hugepageLimits'), `hugetlb.${h.pageSize}.limit_in_bytes`, num(h.limit));
  }
  if (r.network?.classID !== undefined) {
    await writeControl(fs, dirOf(ctx, 'net_cls', 'linux.resources.network.classID'), 'net_cls.classid', num(r.network.classID));
  }
  for (const p of r.network?.priorities ?? []) {
    await writeControl(fs, dirOf(ctx, 'net_prio', 'linux.resources.network.priorities'), 'net_prio.ifpriomap', `${p.name} ${p.priority}`);
  }
  if (r.rdma !== undefined && Object.keys(r.rdma).length > 0) {
    const dir = dirOf(ctx, 'rdma', 'linux.resources.rdma');
    for (const [dev, lim] of Object.entries(r.rdma)) {
      const parts = [lim.hcaHandles !== undefined ? `hca_handle=${lim.hcaHandles}` : '', lim.hcaObjects !== undefined ? `hca_object=${lim.hcaObjects}` : ''].filter(Boolean);
      if (parts.length > 0) await writeControl(fs, dir, 'rdma.max', `${dev} ${parts.join(' ')}`);
    }
  }
}

/** The controllers a request needs, checked before anything is written. */
function v1Needs(r: LinuxResources): [string, string][] {
  const needs: [string, string][] = [];
  const c = r.cpu;
  if (r.devices !== undefined) needs.push(['devices', 'linux.resources.devices']);
  if (r.memory !== undefined) needs.push(['memory', 'linux.resources.memory']);
  if (c !== undefined && [c.shares, c.quota, c.period, c.burst, c.realtimePeriod, c.realtimeRuntime, c.idle].some((v) => v !== undefined && v !== 0)) {
    needs.push(['cpu', 'linux.resources.cpu']);
  }
  if ((c?.cpus ?? '') !== '' || (c?.mems ?? '') !== '') needs.push(['cpuset', 'linux.resources.cpu.cpus/mems']);
  if (r.pids !== undefined) needs.push(['pids', 'linux.resources.pids']);
  if (r.blockIO !== undefined) needs.push(['blkio', 'linux.resources.blockIO']);
  if ((r.hugepageLimits ?? []).length > 0) needs.push(['hugetlb', 'linux.resources.hugepageLimits']);
  if (r.network?.classID !== undefined) needs.push(['net_cls', 'linux.resources.network.classID']);
  if ((r.network?.priorities ?? []).length > 0) needs.push(['net_prio', 'linux.resources.network.priorities']);
  if (r.rdma !== undefined && Object.keys(r.rdma).length > 0) needs.push(['rdma', 'linux.resources.rdma']);
  return needs;
}
