/**
 * state.json as read back: unknown until every field a later command acts
 * on is checked. A file cut short, edited by hand or planted by someone
 * else must not make `kill` signal a stranger (pid 1, a negative pid that
 * means a process group), make `delete` remove cgroups outside the
 * container's, or let one container's file speak for another id. Each
 * refusal names the file and the field, with code `state_corrupt`, so
 * `delete --force` still removes what is left.
 */
import { internal } from '../../errors.ts';
import type { CgroupPaths } from '../cgroups/index.ts';
import type { ContainerRecord, StoredStatus } from './store.ts';

const STATUSES: readonly StoredStatus[] = ['creating', 'created', 'running', 'stopped'];
/** The kernel's largest pid_max (PID_MAX_LIMIT on 64-bit). */
const PID_MAX = 4_194_304;

class Problem extends Error {}

type Obj = Record<string, unknown>;

function isObject(v: unknown): v is Obj {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function field(o: Obj, name: string): unknown {
  return Object.hasOwn(o, name) ? o[name] : undefined;
}

function string(o: Obj, name: string): string {
  const v = field(o, name);
  if (typeof v !== 'string') throw new Problem(`${name}: want a string, found ${describe(v)}`);
  return v;
}

function absolute(o: Obj, name: string): string {
  const v = string(o, name);
  if (!v.startsWith('/') || v.includes('\0')) throw new Problem(`${name}: "${v}" is not an absolute path`);
  return v;
}

function stringMap(v: unknown, name: string, check?: (key: string, value: string) => string | undefined): Record<string, string> {
  if (!isObject(v)) throw new Problem(`${name}: want an object, found ${describe(v)}`);
  const out: Record<string, string> = {};
  for (const [k, value] of Object.entries(v)) {
    if (typeof value !== 'string') throw new Problem(`${name}.${k}: want a string, found ${describe(value)}`);
    const problem = check?.(k, value);
    if (problem !== undefined) throw new Problem(`${name}.${k}: "${value}" ${problem}`);
    out[k] = value;
  }
  return out;
}

function describe(v: unknown): string {
  if (v === undefined) return 'nothing';
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  if (typeof v === 'string') return `"${v.slice(0, 64)}"`;
  if (typeof v === 'number' || typeof v === 'boolean' || typeof v === 'bigint') return `${typeof v} ${v}`;
  return typeof v === 'object' ? 'an object' : typeof v;
}

function pidOf(o: Obj): number {
  const v = field(o, 'pid');
  // 0 while creating; 1 is the host's init, never a container's (its parent is this runtime).
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 0 || v === 1 || v > PID_MAX) {
    throw new Problem(`pid: want 0 or a process id from 2 to ${PID_MAX}, found ${describe(v)}`);
  }
  return v;
}

function cgroupOf(v: unknown): CgroupPaths {
  if (!isObject(v)) throw new Problem(`cgroup: want an object, found ${describe(v)}`);
  const mode = field(v, 'mode');
  if (mode !== 'v1' && mode !== 'v2' && mode !== 'hybrid') throw new Problem(`cgroup.mode: want "v1", "v2" or "hybrid", found ${describe(mode)}`);
  const dirs = stringMap(field(v, 'dirs'), 'cgroup.dirs', (_, d) =>
    d.startsWith('/') && !d.split('/').includes('..') && !d.includes('\0') ? undefined : 'is not an absolute path without ".."',
  );
  return { mode, dirs };
}

function recordOf(v: unknown, id: string): ContainerRecord {
  if (!isObject(v)) throw new Problem(`want an object, found ${describe(v)}`);
  const recordId = string(v, 'id');
  if (recordId !== id) throw new Problem(`id: "${recordId}" is not the container's id "${id}"`);
  const status = field(v, 'status');
  if (typeof status !== 'string' || !(STATUSES as readonly string[]).includes(status)) {
    throw new Problem(`status: want one of ${STATUSES.join(', ')}, found ${describe(status)}`);
  }
  const config = field(v, 'config');
  if (!isObject(config)) throw new Problem(`config: want an object, found ${describe(config)}`);
  const pidStartTime = field(v, 'pidStartTime');
  if (pidStartTime !== undefined && (typeof pidStartTime !== 'string' || !/^\d{1,20}$/.test(pidStartTime))) {
    throw new Problem(`pidStartTime: want a start time in clock ticks, found ${describe(pidStartTime)}`);
  }
  const annotations = field(v, 'annotations');
  const cgroup = field(v, 'cgroup');
  const record: ContainerRecord = {
    ociVersion: string(v, 'ociVersion'),
    id: recordId,
    status: status as StoredStatus,
    pid: pidOf(v),
    bundle: absolute(v, 'bundle'),
    rootfs: absolute(v, 'rootfs'),
    created: string(v, 'created'),
    owner: string(v, 'owner'),
    // Validated when it was created; later commands read the parts they use (process, hooks, resources).
    config: config as unknown as ContainerRecord['config'],
    namespaces: stringMap(field(v, 'namespaces'), 'namespaces', (_, p) => (p === '' || p.startsWith('/') ? undefined : 'is neither "" nor an absolute path')),
  };
  if (pidStartTime !== undefined) record.pidStartTime = pidStartTime;
  if (annotations !== undefined) record.annotations = stringMap(annotations, 'annotations');
  if (cgroup !== undefined) record.cgroup = cgroupOf(cgroup);
  return record;
}

/** The record in `text`, the content of `file`, for container `id`; `state_corrupt` naming the field otherwise. */
export function parseRecord(text: string, file: string, id: string): ContainerRecord {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw internal('state_corrupt', `container "${id}": ${file} is not valid JSON`, { cause: err, details: { file } });
  }
  try {
    return recordOf(value, id);
  } catch (err) {
    if (!(err instanceof Problem)) throw err;
    const fieldName = /^[\w.]+(?=:)/.exec(err.message)?.[0];
    throw internal('state_corrupt', `container "${id}": ${file}: ${err.message}`, {
      details: { file, ...(fieldName === undefined ? {} : { field: fieldName }) },
    });
  }
}
