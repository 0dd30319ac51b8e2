/**
 * Everything an engine on ROOT and RUNROOT leaves on the machine that no
 * record accounts for, read from disk, /proc and /sys (never asked of the
 * engine): snapshots (metadata and directories), mounts under
 * ROOT/containers, container and run directories, the runtime's state,
 * berth-monitor processes, cgroups, volumes and database rows. Each finding
 * is a sentence naming the thing; an empty list means nothing leaked.
 *
 * Cgroups are shared by every engine on the machine (tests run in
 * parallel), so only the IDs this test knows of (`ids`) are checked there,
 * plus every cgroup holding a process under one of this run root's
 * monitors.
 */
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import type { TestContext } from 'node:test';
import { parseMountInfo } from '../../src/sys/mountinfo.ts';

export interface EngineState {
  /** Container records by ID, with their state. */
  records: Map<string, string>;
  /** Pids of berth-monitor processes of this run root, by container ID. */
  monitors: Map<string, number[]>;
  rows: { containers: number; containerVolumes: number; volumes: number; anonymousVolumes: number };
}

const LIVE = new Set(['running', 'paused']);

function cmdline(pid: string): string[] {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'latin1').split('\0');
  } catch {
    return [];
  }
}

function dirs(path: string): string[] {
  try {
    return readdirSync(path, { withFileTypes: true }).filter((d) => d.isDirectory()).map((d) => d.name);
  } catch {
    return [];
  }
}

/** Container monitors (not exec monitors) whose run dir is under RUNROOT/containers. */
export function monitorsOf(runRoot: string): Map<string, number[]> {
  const prefix = join(runRoot, 'containers') + '/';
  const found = new Map<string, number[]>();
  for (const pid of readdirSync('/proc').filter((p) => /^\d+$/.test(p))) {
    const argv = cmdline(pid);
    if (!argv[0]?.endsWith('berth-monitor') || argv.includes('--exec')) continue;
    const rd = argv[argv.indexOf('--run-dir') + 1];
    if (rd === undefined || !rd.startsWith(prefix)) continue;
    const id = rd.slice(prefix.length);
    found.set(id, [...(found.get(id) ?? []), Number(pid)]);
  }
  return found;
}

export function engineState(root: string, runRoot: string): EngineState {
  const db = new DatabaseSync(join(root, 'berth.db'), { readOnly: true });
  try {
    const records = new Map<string, string>();
    for (const row of db.prepare('SELECT id, state FROM engine_containers').all()) records.set(String(row['id']), String(row['state']));
    const count = (sql: string): number => Number(db.prepare(sql).get()!['n']);
    return {
      records,
      monitors: monitorsOf(runRoot),
      rows: {
        containers: records.size,
        containerVolumes: count('SELECT count(*) AS n FROM engine_container_volumes'),
        volumes: count('SELECT count(*) AS n FROM engine_volumes'),
        anonymousVolumes: count('SELECT count(*) AS n FROM engine_volumes WHERE anonymous = 1'),
      },
    };
  } finally {
    db.close();
  }
}

function cgroupDirs(id: string): string[] {
  const found: string[] = [];
  for (const h of dirs('/sys/fs/cgroup')) {
    const p = join('/sys/fs/cgroup', h, 'berth', id);
    if (existsSync(p)) found.push(p);
  }
  return found;
}

/** The container IDs whose cgroup (any hierarchy) holds a process descending from one of `monitorPids`. */
function cgroupsUnderMonitors(monitorPids: Set<number>): Set<string> {
  const ids = new Set<string>();
  const parent = (pid: number): number => {
    try {
      return Number(/^PPid:\s+(\d+)$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0);
    } catch {
      return 0;
    }
  };
  for (const pid of readdirSync('/proc').filter((p) => /^\d+$/.test(p)).map(Number)) {
    let text: string;
    try {
      text = readFileSync(`/proc/${pid}/cgroup`, 'utf8');
    } catch {
      continue;
    }
    const m = /:\/berth\/([0-9a-f]{64})$/m.exec(text);
    if (m === null) continue;
    for (let p = parent(pid), hops = 0; p > 1 && hops < 8; p = parent(p), hops++) {
      if (monitorPids.has(p)) {
        ids.add(m[1]!);
        break;
      }
    }
  }
  return ids;
}

/** What is left that no record accounts for; `ids`: every container ID the test made or saw. */
export function findLeaks(root: string, runRoot: string, ids: Iterable<string> = []): string[] {
  const leaks: string[] = [];
  const state = engineState(root, runRoot);
  const { records } = state;
  const live = (id: string): boolean => LIVE.has(records.get(id) ?? '');

  const metaFile = join(root, 'snapshots', 'metadata.json');
  const meta = existsSync(metaFile) ? (JSON.parse(readFileSync(metaFile, 'utf8')) as { snapshots: Record<string, { id: string }> }) : { snapshots: {} };
  const snapshotIds = new Set<string>();
  for (const [key, s] of Object.entries(meta.snapshots)) {
    snapshotIds.add(s.id);
    if (key.startsWith('container-') && !records.has(key.slice('container-'.length))) leaks.push(`snapshot ${key}: no container record`);
  }
  for (const d of dirs(join(root, 'snapshots'))) {
    if (/^\d+$/.test(d) && !snapshotIds.has(d)) leaks.push(`snapshot directory ${d}: not in the snapshot metadata`);
  }

  const containersDir = join(root, 'containers') + '/';
  for (const m of parseMountInfo(readFileSync('/proc/self/mountinfo', 'utf8'))) {
    if (!m.mountPoint.startsWith(containersDir)) continue;
    const id = m.mountPoint.slice(containersDir.length).split('/')[0]!;
    if (!records.has(id)) leaks.push(`mount ${m.mountPoint}: no container record`);
  }
  for (const id of dirs(join(root, 'containers'))) if (!records.has(id)) leaks.push(`container directory ${id}: no container record`);
  for (const id of dirs(join(runRoot, 'containers'))) if (!records.has(id)) leaks.push(`run directory ${id}: no container record`);
  for (const id of dirs(join(runRoot, 'runtime'))) if (!live(id)) leaks.push(`runtime state ${id}: container is ${records.get(id) ?? 'unknown'}`);

  for (const [id, pids] of state.monitors) if (!live(id)) leaks.push(`berth-monitor ${pids.join(',')} of ${id}: container is ${records.get(id) ?? 'unknown'}`);

  const monitorPids = new Set([...state.monitors.values()].flat());
  for (const id of new Set([...ids, ...records.keys(), ...cgroupsUnderMonitors(monitorPids)])) {
    if (live(id)) continue;
    for (const p of cgroupDirs(id)) leaks.push(`cgroup ${p}: container is ${records.get(id) ?? 'unknown'}`);
  }

  const db = new DatabaseSync(join(root, 'berth.db'), { readOnly: true });
  try {
    for (const row of db.prepare('SELECT name FROM engine_volumes WHERE anonymous = 1 AND name NOT IN (SELECT volume_name FROM engine_container_volumes)').all()) {
      leaks.push(`anonymous volume ${String(row['name'])}: no container uses it`);
    }
    const volumes = new Set(db.prepare('SELECT name FROM engine_volumes').all().map((r) => String(r['name'])));
    for (const d of dirs(join(root, 'volumes'))) if (!volumes.has(d)) leaks.push(`volume directory ${d}: no volume record`);
  } finally {
    db.close();
  }
  return leaks;
}

/**
 * findLeaks once what is on its way out has gone (a monitor exits just
 * after it wrote the exit file the engine acts on): polls up to `ms`; the
 * findings left then, and the first ones seen (for the test's diagnostics).
 */
export async function leaksAfterSettling(root: string, runRoot: string, ids: Iterable<string> = [], ms = 5_000): Promise<{ leaks: string[]; transient: string[] }> {
  const known = [...ids];
  const end = Date.now() + ms;
  let leaks = findLeaks(root, runRoot, known);
  const transient = leaks;
  while (leaks.length > 0 && Date.now() < end) {
    await new Promise((r) => setTimeout(r, 50));
    leaks = findLeaks(root, runRoot, known);
  }
  return { leaks, transient };
}

/** Asserts nothing leaked once it settled; what was seen on its way out is a diagnostic. */
export async function assertNoLeaks(t: TestContext, root: string, runRoot: string, ids: Iterable<string> = []): Promise<void> {
  const { leaks, transient } = await leaksAfterSettling(root, runRoot, ids);
  if (transient.length > 0) t.diagnostic(`on its way out at the first look: ${transient.join('; ')}`);
  assert.deepEqual(leaks, []);
}
