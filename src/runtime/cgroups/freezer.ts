/**
 * pause/resume: v1 freezer.state, or v2 cgroup.freeze. Freezing is not
 * instant (the kernel reports FREEZING, or cgroup.events "frozen 0", until
 * every task stopped); like runc we write again and poll until FROZEN, and
 * thaw back and fail when it does not get there in time rather than leave
 * a half-frozen container.
 */
import { delay } from '../../delay.ts';
import { cleanupAfter, failedPrecondition, unavailable } from '../../errors.ts';
import type { CgroupFs } from './fs.ts';
import { parseKeyValues, readControl, writeControl } from './write.ts';

export type FreezerState = 'frozen' | 'thawed';

export interface FreezerTarget {
  fs: CgroupFs;
  /** v1: the freezer hierarchy's directory; v2: the unified one. */
  dir: string;
  version: 1 | 2;
}

const FREEZE_DEADLINE_MS = 5000;

async function waitV1(t: FreezerTarget): Promise<boolean> {
  const deadline = Date.now() + FREEZE_DEADLINE_MS;
  for (let i = 0; Date.now() < deadline; i++) {
    // An occasional thaw lets tasks stuck in a fork finish so the next freeze can catch them.
    if (i % 50 === 49) {
      await writeControl(t.fs, t.dir, 'freezer.state', 'THAWED');
      await delay(10);
    }
    await writeControl(t.fs, t.dir, 'freezer.state', 'FROZEN');
    const state = (await readControl(t.fs, t.dir, 'freezer.state')).trim();
    if (state === 'FROZEN') return true;
    if (state !== 'FREEZING') throw failedPrecondition('cgroup_freeze_failed', `cgroup: ${t.dir}/freezer.state is "${state}" after writing FROZEN`);
    await delay(Math.min(1 + i, 10));
  }
  return false;
}

async function v2Frozen(t: FreezerTarget): Promise<boolean> {
  return parseKeyValues(await readControl(t.fs, t.dir, 'cgroup.events')).get('frozen') === 1;
}

async function waitV2(t: FreezerTarget, want: boolean): Promise<boolean> {
  const deadline = Date.now() + FREEZE_DEADLINE_MS;
  for (let i = 0; Date.now() < deadline; i++) {
    if ((await v2Frozen(t)) === want) return true;
    await delay(Math.min(1 + i, 10));
  }
  return false;
}

export async function freeze(t: FreezerTarget): Promise<void> {
  let ok: boolean;
  if (t.version === 1) {
    ok = await waitV1(t);
  } else {
    await writeControl(t.fs, t.dir, 'cgroup.freeze', '1');
    ok = await waitV2(t, true);
  }
  if (!ok) {
    const failure = unavailable('cgroup_freeze_timeout', `cgroup: ${t.dir}: the tasks did not all freeze within ${FREEZE_DEADLINE_MS / 1000}s (thawed again)`);
    await cleanupAfter(failure, () => thaw(t));
    throw failure;
  }
}

export async function thaw(t: FreezerTarget): Promise<void> {
  if (t.version === 1) {
    await writeControl(t.fs, t.dir, 'freezer.state', 'THAWED');
    return;
  }
  await writeControl(t.fs, t.dir, 'cgroup.freeze', '0');
  if (!(await waitV2(t, false))) throw unavailable('cgroup_thaw_timeout', `cgroup: ${t.dir}: still frozen ${FREEZE_DEADLINE_MS / 1000}s after writing cgroup.freeze=0`);
}

export async function freezerState(t: FreezerTarget): Promise<FreezerState> {
  if (t.version === 1) return (await readControl(t.fs, t.dir, 'freezer.state')).trim() === 'FROZEN' ? 'frozen' : 'thawed';
  const wanted = (await readControl(t.fs, t.dir, 'cgroup.freeze')).trim() === '1';
  return wanted && (await v2Frozen(t)) ? 'frozen' : 'thawed';
}
