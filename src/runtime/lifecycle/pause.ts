/** `pause` and `resume`: the cgroup freezer, and `ps`: the container's processes. */
import { failedPrecondition } from '../../errors.ts';
import type { Cgroup } from '../cgroups/index.ts';
import { cgroupOf as cgroupFromPaths } from './cgroup.ts';
import type { RuntimeContext } from './context.ts';
import { containerStatus } from './status.ts';

async function cgroupOf(ctx: RuntimeContext, id: string): Promise<{ cgroup: Cgroup; status: string }> {
  const record = await ctx.store.read(id);
  if (!record.cgroup) throw failedPrecondition('no_cgroup', `container "${id}": has no cgroup`);
  return { cgroup: cgroupFromPaths(ctx, record.cgroup), status: await containerStatus(ctx, record) };
}

export async function pause(ctx: RuntimeContext, id: string): Promise<void> {
  await using lock = await ctx.store.lock(id);
  void lock;
  const { cgroup, status } = await cgroupOf(ctx, id);
  if (status !== 'running' && status !== 'created') throw failedPrecondition('not_running', `container "${id}": cannot pause a container that is ${status}`);
  await cgroup.freeze();
}

export async function resume(ctx: RuntimeContext, id: string): Promise<void> {
  await using lock = await ctx.store.lock(id);
  void lock;
  const { cgroup, status } = await cgroupOf(ctx, id);
  if (status !== 'paused') throw failedPrecondition('not_paused', `container "${id}": cannot resume a container that is ${status}`);
  await cgroup.thaw();
}

export async function processes(ctx: RuntimeContext, id: string): Promise<number[]> {
  const { cgroup, status } = await cgroupOf(ctx, id);
  if (status === 'stopped') return [];
  return (await cgroup.pids()).sort((a, b) => a - b);
}
