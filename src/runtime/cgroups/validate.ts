/**
 * Checks linux.resources before anything is written, so a bad value fails
 * the whole request with the field named instead of leaving a cgroup half
 * configured.
 */
import type { LinuxResources } from '../../oci/runtime-spec.ts';
import { invalidArgument } from '../../errors.ts';

function bad(field: string, value: unknown, why: string): never {
  throw invalidArgument('cgroup_resource_invalid', `linux.resources.${field} ${JSON.stringify(value)}: ${why}`);
}

function int(field: string, value: unknown, min: number, max = Number.MAX_SAFE_INTEGER * 2 ** 11): void {
  if (value === undefined) return;
  if (typeof value !== 'number' || !Number.isInteger(value)) bad(field, value, 'must be an integer');
  if (value < min || value > max) bad(field, value, `must be between ${min} and ${max}`);
}

/** Decimal text of an integer, also above 2^53 (no exponent notation). */
export function num(value: number): string {
  return BigInt(Math.trunc(value)).toString();
}

/** "2MB", "1GB", "64KB": the page size names the kernel uses in hugetlb file names. */
export const HUGEPAGE_SIZE = /^[1-9][0-9]*[KMG]B$/;
/** Keys of linux.resources.unified: a control file name, nothing that walks the tree. */
export const UNIFIED_KEY = /^[a-z][a-z0-9_]*\.[a-z0-9_.]+$/;
const IFNAME = /^[^\s/:\0]{1,15}$/;

function validateMemory(r: NonNullable<LinuxResources['memory']>): void {
  int('memory.limit', r.limit, -1);
  int('memory.reservation', r.reservation, -1);
  int('memory.swap', r.swap, -1);
  int('memory.kernel', r.kernel, -1);
  int('memory.kernelTCP', r.kernelTCP, -1);
  int('memory.swappiness', r.swappiness, 0, 100);
  if (r.swap !== undefined && r.swap > 0 && r.limit !== undefined && r.limit > 0 && r.swap < r.limit) {
    bad('memory.swap', r.swap, `memory+swap must be at least memory.limit (${r.limit})`);
  }
}

function validateCpu(r: NonNullable<LinuxResources['cpu']>): void {
  int('cpu.shares', r.shares, 0);
  int('cpu.quota', r.quota, -1);
  int('cpu.burst', r.burst, 0);
  int('cpu.period', r.period, 0);
  int('cpu.realtimeRuntime', r.realtimeRuntime, -1);
  int('cpu.realtimePeriod', r.realtimePeriod, 0);
  int('cpu.idle', r.idle, 0, 1);
  for (const key of ['cpus', 'mems'] as const) {
    const v = r[key];
    if (v !== undefined && !/^[0-9,\- ]*$/.test(v)) bad(`cpu.${key}`, v, 'must be a list like "0-3,7"');
  }
}

function validateBlockIO(r: NonNullable<LinuxResources['blockIO']>): void {
  const weight = (field: string, v: number | undefined): void => {
    if (v !== undefined && v !== 0) int(field, v, 10, 1000);
  };
  weight('blockIO.weight', r.weight);
  weight('blockIO.leafWeight', r.leafWeight);
  (r.weightDevice ?? []).forEach((d, i) => {
    int(`blockIO.weightDevice[${i}].major`, d.major, 0);
    int(`blockIO.weightDevice[${i}].minor`, d.minor, 0);
    weight(`blockIO.weightDevice[${i}].weight`, d.weight);
    weight(`blockIO.weightDevice[${i}].leafWeight`, d.leafWeight);
  });
  for (const key of ['throttleReadBpsDevice', 'throttleWriteBpsDevice', 'throttleReadIOPSDevice', 'throttleWriteIOPSDevice'] as const) {
    (r[key] ?? []).forEach((d, i) => {
      int(`blockIO.${key}[${i}].major`, d.major, 0);
      int(`blockIO.${key}[${i}].minor`, d.minor, 0);
      int(`blockIO.${key}[${i}].rate`, d.rate, 0);
    });
  }
}

export function validateResources(r: LinuxResources): void {
  if (r.memory !== undefined) validateMemory(r.memory);
  if (r.cpu !== undefined) validateCpu(r.cpu);
  if (r.pids !== undefined) int('pids.limit', r.pids.limit, Number.MIN_SAFE_INTEGER);
  if (r.blockIO !== undefined) validateBlockIO(r.blockIO);
  (r.hugepageLimits ?? []).forEach((h, i) => {
    if (typeof h.pageSize !== 'string' || !HUGEPAGE_SIZE.test(h.pageSize)) bad(`hugepageLimits[${i}].pageSize`, h.pageSize, 'must look like "2MB" or "1GB"');
    int(`hugepageLimits[${i}].limit`, h.limit, 0);
  });
  if (r.network !== undefined) {
    int('network.classID', r.network.classID, 0, 0xffffffff);
    (r.network.priorities ?? []).forEach((p, i) => {
      if (typeof p.name !== 'string' || !IFNAME.test(p.name)) bad(`network.priorities[${i}].name`, p.name, 'must be an interface name');
      int(`network.priorities[${i}].priority`, p.priority, 0, 0xffffffff);
    });
  }
  for (const [dev, lim] of Object.entries(r.rdma ?? {})) {
    if (!/^[A-Za-z0-9_.:-]{1,64}$/.test(dev)) bad(`rdma[${JSON.stringify(dev)}]`, dev, 'must be an RDMA device name');
    int(`rdma.${dev}.hcaHandles`, lim.hcaHandles, 0, 0xffffffff);
    int(`rdma.${dev}.hcaObjects`, lim.hcaObjects, 0, 0xffffffff);
  }
  for (const [key, value] of Object.entries(r.unified ?? {})) {
    if (!UNIFIED_KEY.test(key)) bad(`unified[${JSON.stringify(key)}]`, key, 'must be a control file name like "memory.high"');
    if (typeof value !== 'string' || value.includes('\0')) bad(`unified.${key}`, value, 'must be a string');
  }
  (r.devices ?? []).forEach((d, i) => {
    if (typeof d.allow !== 'boolean') bad(`devices[${i}].allow`, d.allow, 'must be true or false');
    if (d.type !== undefined && !['a', 'b', 'c', ''].includes(d.type)) bad(`devices[${i}].type`, d.type, 'must be "a", "b" or "c"');
    if (d.major !== undefined && d.major !== -1) int(`devices[${i}].major`, d.major, 0, 0xffffffff);
    if (d.minor !== undefined && d.minor !== -1) int(`devices[${i}].minor`, d.minor, 0, 0xffffffff);
    if (d.access !== undefined && !/^[rwm]*$/.test(d.access)) bad(`devices[${i}].access`, d.access, 'must be made of r, w and m');
  });
}
