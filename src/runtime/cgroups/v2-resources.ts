/**
 * linux.resources on cgroup v2: which file of the unified hierarchy gets
 * which value, with runc's conversions (cpu.shares → cpu.weight, blkio
 * weight → io.weight, memory+swap → memory.swap.max, -1 → "max").
 */
import type { LinuxBlockIO, LinuxCPU, LinuxMemory, LinuxResources } from '../../oci/runtime-spec.ts';
import { failedPrecondition, invalidArgument, unsupported } from '../../errors.ts';
import { compileDeviceFilter, DEVICE_PROGRAM_LICENSE, encodeBpf } from './devices/bpf.ts';
import { rulesFromSpec } from './devices/emulator.ts';
import type { CgroupFs } from './fs.ts';
import type { DeviceProgramAttacher } from './types.ts';
import { num } from './validate.ts';
import { readOptional, writeControl } from './write.ts';

export interface V2Context {
  fs: CgroupFs;
  dir: string;
  warnings: string[];
  attachDevices: DeviceProgramAttacher | undefined;
}

/** 0 is "not set" (nothing written), -1 is "max". */
const v2num = (v: number | undefined): string => (v === undefined || v === 0 ? '' : v === -1 ? 'max' : num(v));

/** runc: cpu.weight = 1 + ((shares - 2) * 9999) / 262142, in integers. */
export function sharesToWeight(shares: number): number {
  if (shares === 0) return 0;
  return 1 + Math.floor(((shares - 2) * 9999) / 262142);
}

/** runc: io.weight = 1 + (weight - 10) * 9999 / 990, in integers. */
export function blkioWeightToIoWeight(weight: number): number {
  if (weight === 0) return 0;
  return 1 + Math.floor(((weight - 10) * 9999) / 990);
}

/** v1's memory+swap as v2's swap alone (memory.swap.max), as runc converts it. */
export function swapToV2(swap: number, limit: number): number {
  if (limit === -1 && swap === 0) return -1;
  if (swap === -1 || swap === 0) return swap;
  if (limit === 0 || limit === -1) {
    throw invalidArgument('cgroup_resource_invalid', `linux.resources.memory.swap ${swap}: a swap limit needs a memory limit on cgroup v2`);
  }
  if (swap < limit) throw invalidArgument('cgroup_resource_invalid', `linux.resources.memory.swap ${swap}: memory+swap must be at least memory.limit (${limit})`);
  return swap - limit;
}

async function setMemory(ctx: V2Context, m: LinuxMemory): Promise<void> {
  const { fs, dir } = ctx;
  const limit = m.limit ?? 0;
  const swap = swapToV2(m.swap ?? 0, limit);
  let swapStr = v2num(swap);
  // Memory and memory+swap equal: no swap at all.
  if (swapStr === '' && swap === 0 && (m.swap ?? 0) > 0) swapStr = '0';
  if (swapStr !== '') {
    const hasSwap = await fs.exists(`${dir}/memory.swap.max`);
    if (hasSwap) await writeControl(fs, dir, 'memory.swap.max', swapStr);
    else if (swapStr !== 'max' && swapStr !== '0') {
      throw failedPrecondition('cgroup_swap_unsupported', `cgroup: linux.resources.memory.swap: swap accounting is off in this kernel (no ${dir}/memory.swap.max)`);
    }
  }
  if (v2num(limit) !== '') await writeControl(fs, dir, 'memory.max', v2num(limit));
  if (v2num(m.reservation) !== '') await writeControl(fs, dir, 'memory.low', v2num(m.reservation));
  if (m.swappiness !== undefined && m.swappiness !== -1) ctx.warnings.push('linux.resources.memory.swappiness is ignored on cgroup v2');
  if (m.disableOOMKiller === true) ctx.warnings.push('linux.resources.memory.disableOOMKiller is ignored on cgroup v2');
  if ((m.kernel ?? 0) !== 0 || (m.kernelTCP ?? 0) !== 0) ctx.warnings.push('linux.resources.memory.kernel and kernelTCP are ignored on cgroup v2');
}

async function setCpu(ctx: V2Context, c: LinuxCPU): Promise<void> {
  const { fs, dir } = ctx;
  if ((c.realtimePeriod ?? 0) !== 0 || (c.realtimeRuntime ?? 0) !== 0) {
    throw unsupported('cgroup_rt_unsupported', 'cgroup: linux.resources.cpu.realtimePeriod/realtimeRuntime: cgroup v2 has no realtime scheduling budget');
  }
  if (c.idle !== undefined) await writeControl(fs, dir, 'cpu.idle', num(c.idle));
  const weight = sharesToWeight(c.shares ?? 0);
  if (weight !== 0) await writeControl(fs, dir, 'cpu.weight', num(weight));
  const quota = c.quota ?? 0;
  const period = c.period ?? 0;
  if (quota !== 0 || period !== 0) {
    let value = quota > 0 ? num(quota) : 'max';
    if (period !== 0) value += ` ${num(period)}`;
    await writeControl(fs, dir, 'cpu.max', value);
  }
  if (c.burst !== undefined) await writeControl(fs, dir, 'cpu.max.burst', num(c.burst));
  if (c.cpus !== undefined && c.cpus !== '') await writeControl(fs, dir, 'cpuset.cpus', c.cpus);
  if (c.mems !== undefined && c.mems !== '') await writeControl(fs, dir, 'cpuset.mems', c.mems);
}

async function setIo(ctx: V2Context, b: LinuxBlockIO): Promise<void> {
  const { fs, dir } = ctx;
  // BFQ takes the v1 range (10-1000) as is; io.weight its own (1-10000).
  const bfq = await fs.exists(`${dir}/io.bfq.weight`);
  const file = bfq ? 'io.bfq.weight' : 'io.weight';
  const convert = (w: number): number => (bfq ? w : blkioWeightToIoWeight(w));
  if (b.weight !== undefined && b.weight !== 0) await writeControl(fs, dir, file, num(convert(b.weight)));
  for (const d of b.weightDevice ?? []) {
    if (d.weight !== undefined && d.weight !== 0) await writeControl(fs, dir, file, `${d.major}:${d.minor} ${convert(d.weight)}`);
  }
  if ((b.leafWeight ?? 0) !== 0 || (b.weightDevice ?? []).some((d) => (d.leafWeight ?? 0) !== 0)) {
    ctx.warnings.push('linux.resources.blockIO leaf weights are ignored on cgroup v2');
  }
  const throttles = [
    ['throttleReadBpsDevice', 'rbps'],
    ['throttleWriteBpsDevice', 'wbps'],
    ['throttleReadIOPSDevice', 'riops'],
    ['throttleWriteIOPSDevice', 'wiops'],
  ] as const;
  for (const [key, name] of throttles) {
    for (const d of b[key] ?? []) await writeControl(fs, dir, 'io.max', `${d.major}:${d.minor} ${name}=${d.rate === 0 ? 'max' : num(d.rate)}`);
  }
}

async function setUnified(ctx: V2Context, unified: Record<string, string>): Promise<void> {
  for (const [key, value] of Object.entries(unified)) {
    if (!(await ctx.fs.exists(`${ctx.dir}/${key}`))) {
      const controller = key.slice(0, key.indexOf('.'));
      throw failedPrecondition(
        'cgroup_unified_missing',
        `cgroup: linux.resources.unified["${key}"]: no such file in ${ctx.dir} (is the ${controller} controller enabled?)`,
      );
    }
    await writeControl(ctx.fs, ctx.dir, key, value);
  }
}

/** The v2 controllers a request needs ("" for files every cgroup has). */
function v2Needs(r: LinuxResources): [string, string][] {
  const needs: [string, string][] = [];
  const c = r.cpu;
  if (r.memory !== undefined && [r.memory.limit, r.memory.reservation, r.memory.swap].some((v) => (v ?? 0) !== 0)) needs.push(['memory', 'linux.resources.memory']);
  if (c !== undefined && [c.shares, c.quota, c.period, c.burst, c.idle].some((v) => v !== undefined && v !== 0)) needs.push(['cpu', 'linux.resources.cpu']);
  if ((c?.cpus ?? '') !== '' || (c?.mems ?? '') !== '') needs.push(['cpuset', 'linux.resources.cpu.cpus/mems']);
  if (r.pids !== undefined) needs.push(['pids', 'linux.resources.pids']);
  if (r.blockIO !== undefined) needs.push(['io', 'linux.resources.blockIO']);
  if ((r.hugepageLimits ?? []).length > 0) needs.push(['hugetlb', 'linux.resources.hugepageLimits']);
  if (r.rdma !== undefined && Object.keys(r.rdma).length > 0) needs.push(['rdma', 'linux.resources.rdma']);
  return needs;
}

export async function applyV2(ctx: V2Context, r: LinuxResources): Promise<void> {
  const { fs, dir } = ctx;
  if (r.network !== undefined && (r.network.classID !== undefined || (r.network.priorities ?? []).length > 0)) {
    throw unsupported('cgroup_network_unsupported', 'cgroup: linux.resources.network (classID, priorities) needs the v1 net_cls/net_prio controllers; cgroup v2 has none');
  }
  const enabled = new Set(((await readOptional(fs, dir, 'cgroup.controllers')) ?? '').trim().split(/\s+/));
  for (const [controller, what] of v2Needs(r)) {
    if (!enabled.has(controller)) {
      throw failedPrecondition('cgroup_controller_missing', `cgroup: ${what} needs the ${controller} controller, which is not enabled for ${dir} (see its parent's cgroup.subtree_control)`);
    }
  }
  if (r.devices !== undefined) {
    if (ctx.attachDevices === undefined) {
      throw failedPrecondition('cgroup_devices_no_attacher', 'cgroup: linux.resources.devices on cgroup v2 needs an eBPF program attacher (the runtime passes one)');
    }
    await ctx.attachDevices(dir, encodeBpf(compileDeviceFilter(rulesFromSpec(r.devices))), DEVICE_PROGRAM_LICENSE);
  }
  if (r.memory !== undefined) await setMemory(ctx, r.memory);
  if (r.cpu !== undefined) await setCpu(ctx, r.cpu);
  if (r.pids !== undefined) await writeControl(fs, dir, 'pids.max', r.pids.limit > 0 ? num(r.pids.limit) : 'max');
  if (r.blockIO !== undefined) await setIo(ctx, r.blockIO);
  for (const h of r.hugepageLimits ?? []) {
    await writeControl(fs, dir, `hugetlb.${h.pageSize}.max`, num(h.limit));
    // Reservations are charged separately since 5.7; keep them in step like runc.
    if (await fs.exists(`${dir}/hugetlb.${h.pageSize}.rsvd.max`)) await writeControl(fs, dir, `hugetlb.${h.pageSize}.rsvd.max`, num(h.limit));
  }
  for (const [dev, lim] of Object.entries(r.rdma ?? {})) {
    const parts = [lim.hcaHandles !== undefined ? `hca_handle=${lim.hcaHandles}` : '', lim.hcaObjects !== undefined ? `hca_object=${lim.hcaObjects}` : ''].filter(Boolean);
    if (parts.length > 0) await writeControl(fs, dir, 'rdma.max', `${dev} ${parts.join(' ')}`);
  }
  // Last, so explicit files win over the converted values.
  if (r.unified !== undefined) await setUnified(ctx, r.unified);
}
