/**
 * `run`: create and start in one go. In the foreground the executor stays as
 * the container's parent and exits with its status; signals are forwarded,
 * and the container is deleted afterwards unless kept.
 */
import { cleanupAfter, describeError } from '../../errors.ts';
import { type RuntimeContext, warn } from './context.ts';
import { create, createLocked, type CreateOptions } from './create.ts';
import { deleteContainer } from './delete.ts';
import { exitCode, forwardSignals } from './signals.ts';
import { start, startCreated } from './start.ts';
import { mark } from '../../trace.ts';

export interface RunOptions extends Omit<CreateOptions, 'wait'> {
  detach?: boolean;
  keep?: boolean;
}

/** Returns the container's exit code (0 when detached). */
export async function run(ctx: RuntimeContext, id: string, options: RunOptions): Promise<number> {
  if (options.detach) {
    await create(ctx, id, { ...options, wait: false });
    try {
      await start(ctx, id);
    } catch (err) {
      await cleanupAfter(err, () => deleteContainer(ctx, id, true));
      throw err;
    }
    return 0;
  }
  // Created and started under one hold of the lock, from the record create wrote.
  const created = await createLocked(ctx, id, { ...options, wait: true });
  const stopForwarding = forwardSignals(created.pid, ctx.signals);
  let failure: { err: unknown } | undefined;
  try {
    try {
      await startCreated(ctx, created.record);
    } finally {
      await created.lock.release();
    }
    mark('run: started');
    const status = await created.execution.exited;
    mark('run: exited');
    return exitCode(status);
  } catch (err) {
    failure = { err };
    try {
      process.kill(created.pid, 'SIGKILL');
    } catch {
      // Gone already.
    }
    throw err;
  } finally {
    stopForwarding();
    // After a failure, a failed delete is reported with it; after a clean run the container's exit code
    // stands, as runc's does when its destroy fails, and the failed delete is a warning.
    if (!options.keep && failure !== undefined) await cleanupAfter(failure.err, () => deleteContainer(ctx, id, true));
    else if (!options.keep) {
      await deleteContainer(ctx, id, true).catch((err: unknown) => warn(`container "${id}": deleting it after it exited failed: ${describeError(err)}`, { id }));
    }
    mark('run: deleted');
  }
}
