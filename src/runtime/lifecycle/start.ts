/**
 * `start`: open the exec FIFO the waiting container process blocks on; it
 * writes one byte, runs the startContainer hooks and execs, which closes
 * its end. Then the poststart hooks run here.
 */
import { constants, openSync, closeSync } from 'node:fs';
import { open, unlink } from 'node:fs/promises';
import { failedPrecondition } from '../../errors.ts';
import { runHooksWarning } from '../hooks.ts';
import { isAlive } from '../state/proc.ts';
import type { RuntimeContext } from './context.ts';
import { warn } from './context.ts';
import { containerStatus, specState } from './status.ts';
import { mark } from '../../trace.ts';

/** Opens the FIFO for reading; if the waiting process dies meanwhile, unblocks the open itself. */
async function readFifo(fifo: string, pid: number, startTime: string | undefined): Promise<Buffer> {
  const opening = open(fifo, 'r');
  let done = false;
  const watch = (async (): Promise<void> => {
    let delay = 5;
    while (!done) {
      await new Promise((r) => setTimeout(r, delay));
      delay = Math.min(delay * 2, 100);
      if (!done && !isAlive(pid, startTime)) {
        // A writer that opens and closes at once lets the blocked open return.
        try {
          closeSync(openSync(fifo, constants.O_WRONLY | constants.O_NONBLOCK));
        } catch {
          // Nobody is waiting on it any more.
        }
        return;
      }
    }
  })();
  const fh = await opening;
  done = true;
  try {
    const buf = Buffer.alloc(1);
    const { bytesRead } = await fh.read(buf, 0, 1, null);
    if (bytesRead === 1) {
      // The container process holds its end (close-on-exec) until it execs the program or dies:
      // the end of file means the startContainer hooks are done and the program runs.
      const rest = Buffer.alloc(64);
      while ((await fh.read(rest, 0, rest.length, null)).bytesRead > 0) {
        // Nothing more is written; read on to the end.
      }
    }
    return buf.subarray(0, bytesRead);
  } finally {
    await fh.close();
    await watch;
  }
}

export async function start(ctx: RuntimeContext, id: string): Promise<void> {
  const { store } = ctx;
  await using lock = await store.lock(id);
  void lock;
  const record = await store.read(id);
  mark('start: state read');
  const status = await containerStatus(store, record);
  if (status !== 'created') {
    throw failedPrecondition('not_created', `container "${id}": cannot start a container that is ${status}`);
  }
  const got = await readFifo(store.fifo(id), record.pid, record.pidStartTime);
  await unlink(store.fifo(id)).catch(() => undefined);
  if (got.length !== 1) {
    throw failedPrecondition('start_failed', `container "${id}": the container process exited before it could start`);
  }
  record.status = 'running';
  await store.write(record);
  for (const w of await runHooksWarning('poststart', record.config.hooks?.poststart, specState(record, 'running'))) {
    warn(`container "${id}": ${w}`, { id });
  }
}
