/**
 * `start`: open the exec FIFO the waiting container process blocks on; it
 * writes one byte, runs the startContainer hooks and execs, which closes
 * its end. Then the poststart hooks run here.
 */
import { close, closeSync, constants, open, openSync, read, readSync, unlinkSync } from 'node:fs';
import { promisify } from 'node:util';
import { errnoCode, failedPrecondition } from '../../errors.ts';
import { runHooksWarning } from '../hooks.ts';
import { isAlive } from '../state/proc.ts';
import type { RuntimeContext } from './context.ts';
import { warn } from './context.ts';
import { containerStatus, specState } from './status.ts';
import type { ContainerRecord } from '../state/store.ts';
import { mark } from '../../trace.ts';

const openAsync = promisify(open);
const readAsync = promisify(read);
const closeAsync = promisify(close);

/**
 * Opens the FIFO for reading (a blocking open, in the thread pool); if the
 * waiting process dies meanwhile, a writer that opens and closes at once
 * lets the open return. The callback API: node:fs/promises costs more to
 * load than this whole command's other file work.
 */
async function readFifo(fifo: string, pid: number, startTime: string | undefined): Promise<Buffer> {
  let timer: NodeJS.Timeout | undefined;
  let delay = 5;
  const watch = (): void => {
    timer = setTimeout(() => {
      if (!isAlive(pid, startTime)) {
        try {
          closeSync(openSync(fifo, constants.O_WRONLY | constants.O_NONBLOCK));
        } catch {
          // Nobody is waiting on it any more.
        }
        return;
      }
      delay = Math.min(delay * 2, 100);
      watch();
    }, delay);
  };
  watch();
  let fd: number;
  try {
    fd = await openAsync(fifo, 'r');
  } finally {
    clearTimeout(timer);
  }
  try {
    const buf = Buffer.alloc(1);
    const { bytesRead } = await readAsync(fd, buf, 0, 1, null);
    if (bytesRead === 1) {
      // The container process holds its end (close-on-exec) until it execs the program or dies:
      // the end of file means the startContainer hooks are done and the program runs.
      const rest = Buffer.alloc(64);
      while ((await readAsync(fd, rest, 0, rest.length, null)).bytesRead > 0) {
        // Nothing more is written; read on to the end.
      }
    }
    return buf.subarray(0, bytesRead);
  } finally {
    await closeAsync(fd);
  }
}

/**
 * readFifo on the event loop, for a resident process with node:net loaded
 * anyway (RuntimeContext.execFifoOnLoop): the blocking open and the two
 * reads each went through the thread pool, 0.2-0.6 ms a hop here (a VM
 * waking an idle CPU); a cold start's program ran 0.3 ms sooner without
 * them. The open does not block: it lets a writer blocked in its own open
 * through. Until the container process has opened its end, a read sees no
 * writer (0): that is polled (after 1 ms, then up to every 10, its death
 * checked) while this end stays open, which keeps a byte written meanwhile
 * in the pipe even if the process execs before the next poll. Once a
 * writer is seen (its byte, or EAGAIN), a net.Socket on the descriptor
 * reads to the end of file: the exec (or its death).
 */
export async function readFifoOnLoop(fifo: string, pid: number, startTime: string | undefined): Promise<Buffer> {
  const fd = openSync(fifo, constants.O_RDONLY | constants.O_NONBLOCK);
  const first = Buffer.alloc(1);
  const poll = (): number => {
    try {
      return readSync(fd, first, 0, 1, null);
    } catch (err) {
      if (errnoCode(err) === 'EAGAIN') return -1;
      closeSync(fd);
      throw err;
    }
  };
  let n = poll();
  for (let delay = 1; n === 0; delay = Math.min(delay * 2, 10), n = poll()) {
    if (!isAlive(pid, startTime)) {
      // Gone since the look above: it may have written its byte, exec'd and exited in between (a program as short as
      // `true`, this process paused meanwhile): the byte stays in the pipe while this end is open.
      const last = poll();
      closeSync(fd);
      return last === 1 ? first : Buffer.alloc(0);
    }
    await new Promise((resolve) => setTimeout(resolve, delay));
  }
  const { Socket } = process.getBuiltinModule('node:net');
  return new Promise((resolve) => {
    let got: Buffer | undefined = n === 1 ? first : undefined;
    const sock = new Socket({ fd, readable: true, writable: false });
    const done = (): void => {
      sock.destroy();
      resolve(got ?? Buffer.alloc(0));
    };
    sock.on('data', (b: Buffer) => {
      got ??= b.subarray(0, 1);
    });
    sock.once('end', done);
    sock.once('error', done);
  });
}

/** `onRunning`: told as soon as the program runs, before its state is written and the poststart hooks run (the engine's callers probe its readiness from then). */
export async function start(ctx: RuntimeContext, id: string, onRunning?: () => void): Promise<void> {
  const { store } = ctx;
  await using lock = await store.lock(id);
  void lock;
  const record = await store.read(id);
  mark('start: state read');
  const status = await containerStatus(ctx, record);
  if (status !== 'created') {
    throw failedPrecondition('not_created', `container "${id}": cannot start a container that is ${status}`);
  }
  await startCreated(ctx, record, onRunning);
}

/** Starts a container known to be created, its lock held: `start` after its checks, `run` right after creating it. */
export async function startCreated(ctx: RuntimeContext, record: ContainerRecord, onRunning?: () => void): Promise<void> {
  const { store } = ctx;
  const { id } = record;
  const got = await (ctx.execFifoOnLoop === true ? readFifoOnLoop : readFifo)(store.fifo(id), record.pid, record.pidStartTime);
  mark('start: the program runs');
  // Told before the FIFO's unlink (a journalled file system's metadata write, 0.2-0.5 ms on a /run that is no tmpfs):
  // the engine's callers probe the program's readiness from here.
  if (got.length === 1) onRunning?.();
  try {
    unlinkSync(store.fifo(id));
  } catch {
    // Gone already.
  }
  if (got.length !== 1) {
    throw failedPrecondition('start_failed', `container "${id}": the container process exited before it could start`);
  }
  record.status = 'running';
  await store.write(record);
  for (const w of await runHooksWarning('poststart', record.config.hooks?.poststart, specState(record, 'running'))) {
    warn(`container "${id}": ${w}`, { id });
  }
}
