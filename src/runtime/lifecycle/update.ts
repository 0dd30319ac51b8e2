/**
 * `update`: new resource limits for a container that is not stopped (runc
 * update). The request is merged into the stored linux.resources: a value
 * left out, or 0 / "" as in runc's template, keeps the stored one. Only the
 * sections that changed are written to the cgroup (with their stored
 * neighbours, since memory and swap, quota and period depend on each
 * other), and state.json is rewritten, atomically and under the container
 * lock, only after the kernel took them. When the kernel refuses, the
 * stored sections are written back (as runc's Set does), so the cgroup and
 * state.json keep agreeing.
 */
import { isDeepStrictEqual } from 'node:util';
import { describeError, failedPrecondition, invalidArgument, isBerthError } from '../../errors.ts';
import type { LinuxResources } from '../../oci/runtime-spec.ts';
import type { CgroupPaths } from '../cgroups/index.ts';
import { cgroupOf } from './cgroup.ts';
import { type RuntimeContext, warn } from './context.ts';
import { containerStatus } from './status.ts';
import { ramInBytes } from '../cgroups/ram.ts';

export { ramInBytes };

type FieldKind = 'int' | 'string' | 'bool' | 'list';

/** The fields of the sections whose values `update` merges one by one. */
const FIELDS: Record<string, Record<string, FieldKind>> = {
  memory: {
    limit: 'int', reservation: 'int', swap: 'int', kernel: 'int', kernelTCP: 'int', swappiness: 'int',
    disableOOMKiller: 'bool', useHierarchy: 'bool', checkBeforeUpdate: 'bool',
  },
  cpu: { shares: 'int', quota: 'int', burst: 'int', period: 'int', realtimeRuntime: 'int', realtimePeriod: 'int', cpus: 'string', mems: 'string', idle: 'int' },
  pids: { limit: 'int' },
  blockIO: {
    weight: 'int', leafWeight: 'int', weightDevice: 'list',
    throttleReadBpsDevice: 'list', throttleWriteBpsDevice: 'list', throttleReadIOPSDevice: 'list', throttleWriteIOPSDevice: 'list',
  },
  network: { classID: 'int', priorities: 'list' },
};
const SECTIONS: Record<keyof LinuxResources, 'object' | 'list' | 'map'> = {
  devices: 'list', memory: 'object', cpu: 'object', pids: 'object', blockIO: 'object',
  hugepageLimits: 'list', network: 'object', rdma: 'map', unified: 'map',
};

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

function checkKind(where: string, value: unknown, kind: FieldKind): void {
  const ok = kind === 'int' ? typeof value === 'number' && Number.isInteger(value)
    : kind === 'string' ? typeof value === 'string'
      : kind === 'bool' ? typeof value === 'boolean'
        : Array.isArray(value) && value.every(isObject);
  const want = { int: 'an integer', string: 'a string', bool: 'true or false', list: 'a list of objects' }[kind];
  if (!ok) throw invalidArgument('update_resources_invalid', `${where}: ${JSON.stringify(value)} is not ${want}`);
}

/**
 * A linux.resources document from outside (`update --resources FILE`): its
 * shape is checked here, naming the field; the values' ranges are checked by
 * the cgroup library before anything is written.
 */
export function parseResources(doc: unknown, source: string): LinuxResources {
  if (!isObject(doc)) throw invalidArgument('update_resources_invalid', `${source}: must be a JSON object of linux.resources (memory, cpu, pids, blockIO, ...)`);
  for (const [section, value] of Object.entries(doc)) {
    const shape = SECTIONS[section as keyof LinuxResources] as (typeof SECTIONS)[keyof LinuxResources] | undefined;
    const where = `${source}: ${section}`;
    if (shape === undefined) throw invalidArgument('update_resources_invalid', `${where}: not a linux.resources field`);
    if (shape === 'list') {
      checkKind(where, value, 'list');
      continue;
    }
    if (!isObject(value)) throw invalidArgument('update_resources_invalid', `${where}: must be an object`);
    const fields = FIELDS[section];
    for (const [key, v] of Object.entries(value)) {
      if (fields === undefined) {
        if (section === 'rdma' && !isObject(v)) throw invalidArgument('update_resources_invalid', `${where}.${key}: must be an object`);
        continue;
      }
      const kind = fields[key];
      if (kind === undefined) throw invalidArgument('update_resources_invalid', `${where}.${key}: not a field of linux.resources.${section}`);
      checkKind(`${where}.${key}`, v, kind);
    }
  }
  return doc;
}

/** Copies the given fields over the stored ones; 0 and "" keep the stored value (runc's template), except in `literal`. */
function mergeFields<T extends object>(stored: T | undefined, delta: T, literal: readonly string[] = []): T {
  const out: Record<string, unknown> = { ...stored };
  for (const [key, value] of Object.entries(delta)) {
    if (value === undefined || ((value === 0 || value === '') && !literal.includes(key))) continue;
    out[key] = value;
  }
  return out as T;
}

/** Entries of a list replaced by key (a device, a page size), the others kept. */
function mergeBy<T>(stored: readonly T[] | undefined, delta: readonly T[] | undefined, key: (x: T) => string): T[] | undefined {
  if (delta === undefined) return stored === undefined ? undefined : [...stored];
  const out = [...(stored ?? [])];
  for (const entry of delta) {
    const at = out.findIndex((x) => key(x) === key(entry));
    if (at >= 0) out[at] = entry;
    else out.push(entry);
  }
  return out;
}

const device = (d: { major: number; minor: number }): string => `${d.major}:${d.minor}`;

function mergeBlockIO(stored: LinuxResources['blockIO'], delta: NonNullable<LinuxResources['blockIO']>): NonNullable<LinuxResources['blockIO']> {
  const out = mergeFields(stored, { ...(delta.weight !== undefined && { weight: delta.weight }), ...(delta.leafWeight !== undefined && { leafWeight: delta.leafWeight }) });
  for (const key of ['weightDevice', 'throttleReadBpsDevice', 'throttleWriteBpsDevice', 'throttleReadIOPSDevice', 'throttleWriteIOPSDevice'] as const) {
    const list = mergeBy<{ major: number; minor: number }>(stored?.[key], delta[key], device);
    if (list !== undefined) (out as Record<string, unknown>)[key] = list;
  }
  return out;
}

function mergeMemory(stored: LinuxResources['memory'], delta: NonNullable<LinuxResources['memory']>): NonNullable<LinuxResources['memory']> {
  const out = mergeFields(stored, delta);
  // As runc: unlimited memory without a word on swap means unlimited memory+swap too.
  if (delta.limit === -1 && delta.swap === undefined && out.swap !== undefined && out.swap !== 0) out.swap = -1;
  if ((out.kernel ?? 0) !== (stored?.kernel ?? 0)) {
    throw invalidArgument('update_kernel_memory', 'update: linux.resources.memory.kernel: kernel memory limits are deprecated (the kernel ignores them) and cannot be set');
  }
  return out;
}

export interface Merged {
  merged: LinuxResources;
  /** The sections that differ from the stored ones, as merged: what the cgroup gets. */
  changed: LinuxResources;
  warnings: string[];
}

/** The stored resources with the request applied (pure: nothing is read or written). */
export function mergeResources(stored: LinuxResources, delta: LinuxResources): Merged {
  const merged: LinuxResources = { ...stored };
  const warnings: string[] = [];
  if (delta.memory) merged.memory = mergeMemory(stored.memory, delta.memory);
  if (delta.cpu) merged.cpu = mergeFields(stored.cpu, delta.cpu, ['idle']);
  if (delta.pids && delta.pids.limit !== 0) merged.pids = { limit: delta.pids.limit };
  if (delta.blockIO) merged.blockIO = mergeBlockIO(stored.blockIO, delta.blockIO);
  if (delta.hugepageLimits) merged.hugepageLimits = mergeBy(stored.hugepageLimits, delta.hugepageLimits, (h) => h.pageSize) ?? [];
  if (delta.network) {
    const network = mergeFields(stored.network, delta.network.classID === undefined ? {} : { classID: delta.network.classID }, ['classID']);
    const priorities = mergeBy(stored.network?.priorities, delta.network.priorities, (p) => p.name);
    merged.network = priorities === undefined ? network : { ...network, priorities };
  }
  if (delta.rdma) {
    const rdma = { ...stored.rdma };
    for (const [dev, limits] of Object.entries(delta.rdma)) rdma[dev] = mergeFields(rdma[dev], limits);
    merged.rdma = rdma;
  }
  if (delta.unified) merged.unified = { ...stored.unified, ...delta.unified };
  if (delta.devices && !isDeepStrictEqual(delta.devices, stored.devices ?? [])) {
    warnings.push('linux.resources.devices are not changed by update (as with runc): the container keeps its device rules');
  }
  const changed: LinuxResources = {};
  for (const key of Object.keys(SECTIONS) as (keyof LinuxResources)[]) {
    if (key !== 'devices' && !isDeepStrictEqual(stored[key], merged[key])) Object.assign(changed, { [key]: merged[key] });
  }
  return { merged, changed, warnings };
}

/** Library errors raised before any control file is written: nothing to undo. */
const REFUSED_BEFORE_WRITING = new Set(['cgroup_resource_invalid', 'cgroup_controller_missing', 'cgroup_unified_on_v1', 'cgroup_rootless_unwritable']);

/** After a refusal half-way through, the stored values of the sections go back into the cgroup. */
async function writeBack(ctx: RuntimeContext, id: string, paths: CgroupPaths, stored: LinuxResources, changed: LinuxResources): Promise<void> {
  const sections = Object.keys(changed) as (keyof LinuxResources)[];
  const previous: LinuxResources = {};
  for (const s of sections) if (stored[s] !== undefined) Object.assign(previous, { [s]: stored[s] });
  await cgroupOf(ctx, paths, true).update(previous).catch((err: unknown) => {
    warn(`container "${id}": the previous limits could not all be written back after the failed update: ${describeError(err)}`, { id });
  });
  // A section the config never set has no stored values to go back to; with one value
  // in it there was one write, the one refused, so nothing is left half-done.
  const unset = sections.filter((s) => stored[s] === undefined && Object.keys(changed[s] ?? {}).length > 1);
  if (unset.length > 0) warn(`container "${id}": linux.resources.${unset.join(', ')} had no stored values; the cgroup may keep part of the refused ones`, { id });
}

export interface Updated {
  /** The linux.resources sections written to the cgroup. */
  changed: (keyof LinuxResources)[];
  warnings: string[];
}

export async function update(ctx: RuntimeContext, id: string, request: LinuxResources): Promise<Updated> {
  const { store } = ctx;
  await using lock = await store.lock(id);
  void lock;
  const record = await store.read(id);
  const status = await containerStatus(ctx, record);
  if (status === 'stopped') throw failedPrecondition('not_running', `container "${id}": not running`);
  if (!record.cgroup) throw failedPrecondition('no_cgroup', `container "${id}": has no cgroup`);
  const stored = record.config.linux?.resources ?? {};
  const { merged, changed, warnings } = mergeResources(stored, request);
  const sections = Object.keys(changed) as (keyof LinuxResources)[];
  if (sections.length === 0) return { changed: [], warnings };
  const cgroup = cgroupOf(ctx, record.cgroup, true);
  try {
    await cgroup.update(changed);
  } catch (err) {
    if (!(isBerthError(err) && REFUSED_BEFORE_WRITING.has(err.code))) await writeBack(ctx, id, record.cgroup, stored, changed);
    throw err;
  }
  warnings.push(...cgroup.warnings);
  record.config.linux = { ...record.config.linux, resources: merged };
  await store.write(record);
  return { changed: sections, warnings };
}
