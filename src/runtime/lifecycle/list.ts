/** `list` and `state`: what containers exist, in runc's shapes. */
import { isBerthError } from '../../errors.ts';
import type { ContainerStatus, State } from '../../oci/runtime-spec.ts';
import type { RuntimeContext } from './context.ts';
import { containerStatus, specState } from './status.ts';

export interface ListEntry {
  ociVersion: string;
  id: string;
  pid: number;
  status: ContainerStatus;
  bundle: string;
  rootfs: string;
  created: string;
  annotations?: Record<string, string>;
  owner: string;
}

export async function state(ctx: RuntimeContext, id: string): Promise<State> {
  const record = await ctx.store.read(id);
  return specState(record, await containerStatus(ctx, record));
}

export async function list(ctx: RuntimeContext): Promise<ListEntry[]> {
  const out: ListEntry[] = [];
  for (const id of await ctx.store.list()) {
    try {
      const r = await ctx.store.read(id);
      const status = await containerStatus(ctx, r);
      const entry: ListEntry = {
        ociVersion: r.ociVersion,
        id: r.id,
        pid: status === 'stopped' ? 0 : r.pid,
        status,
        bundle: r.bundle,
        rootfs: r.rootfs,
        created: r.created,
        owner: r.owner,
      };
      if (r.annotations) entry.annotations = r.annotations;
      out.push(entry);
    } catch (err) {
      // A directory being created or deleted right now.
      if (!isBerthError(err, 'container_not_found')) throw err;
    }
  }
  return out;
}
