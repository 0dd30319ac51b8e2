/**
 * Runs the native executor on a plan and speaks the sync protocol with it:
 * the plan goes out first, then the executor reports the container's pid,
 * stops at each `sync` step until TypeScript answers, and reports READY or
 * the step that failed. This is the only place that spawns the executor.
 */
import { type ChildProcess, spawn, type StdioOptions } from 'node:child_process';
import { closeSync, constants, existsSync, openSync, unlinkSync, writeSync } from 'node:fs';
import type { Socket } from 'node:net';
import { tmpdir } from 'node:os';
import type { Stream } from 'node:stream';
import { join } from 'node:path';
import { getSystemErrorMessage, getSystemErrorName } from 'node:util';
import { buildDir } from '../../paths.ts';
import { BerthError, describeError, ErrorKind, internal } from '../../errors.ts';
import { encodePlan, type Plan } from '../plan/encode.ts';
import { Msg, PLAN_MAX_BYTES } from '../plan/opcodes.ts';
import { hintFor } from './hints.ts';
import { mark } from '../../trace.ts';

/** The executor binary: next to the bundle, or in build/ of the repository. */
export function executorPath(): string {
  const env = process.env['BERTH_EXECUTOR'];
  if (env) return env;
  return join(buildDir(), 'berth-exec');
}

/** A step of the plan failed inside the executor. */
export class ExecutorFailure extends BerthError {
  readonly step: number;
  readonly errno: number;
  readonly detail: string;

  constructor(plan: Plan, step: number, errno: number, detail: string) {
    const s = plan.steps[step];
    const errnoName = errno > 0 ? getSystemErrorName(-errno) : undefined;
    const hint = hintFor(s, errnoName);
    const reason = (errno > 0 ? `${detail}: ${getSystemErrorMessage(-errno).toLowerCase()}` : detail) + (hint ? ` (${hint})` : '');
    const what = s ? `step ${step} (${s.op}): ${s.what}` : `step ${step}`;
    super(ErrorKind.FailedPrecondition, errnoName ? `executor_${errnoName.toLowerCase()}` : 'executor_failed', `${what}: ${reason}`, {
      details: { step, op: s?.op, errno, errnoName, detail },
    });
    this.step = step;
    this.errno = errno;
    this.detail = detail;
  }
}

export interface SyncContext {
  /** The container process's pid once the executor forked it. */
  pid: number | undefined;
  executorPid: number;
}

export type StdioEntry = 'inherit' | 'ignore' | 'pipe' | number | Stream;

export interface RunOptions {
  plan: Plan;
  /** fds 0, 1 and 2 of the container (and of the executor). */
  stdio: readonly [StdioEntry, StdioEntry, StdioEntry] | 'inherit';
  /** fds 3 .. 3+n-1 of this process pass to the container at the same numbers (runc's --preserve-fds). */
  preserveFds?: number;
  /** Answers a `sync` step; the strings become hook input. Throwing aborts the container. */
  onSync?: (tag: string, ctx: SyncContext) => Promise<readonly string[] | undefined> | readonly string[] | undefined;
  /** Called as soon as the container's pid is known. */
  onPid?: (pid: number) => void;
}

export interface Execution {
  readonly executor: ChildProcess;
  /** The container process's pid (rejects if the executor fails before forking). */
  readonly pid: Promise<number>;
  /** Resolves when the executor reports READY; rejects with the failing step. */
  readonly ready: Promise<void>;
  /** The executor's exit: in wait mode, the container's status. */
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

function frame(type: number, payload: Uint8Array): Buffer {
  const hdr = Buffer.alloc(8);
  hdr.writeUInt32LE(type, 0);
  hdr.writeUInt32LE(payload.length, 4);
  return Buffer.concat([hdr, payload]);
}

function answerPayload(strings: readonly string[] | undefined): Buffer {
  if (!strings || strings.length === 0) return Buffer.alloc(0);
  return Buffer.concat(strings.flatMap((s) => [Buffer.from(s, 'utf8'), Buffer.alloc(1)]));
}

let planCounter = 0;

/** An unlinked file holding the plan, on a tmpfs when the machine has one. */
function planFile(bytes: Buffer): number {
  const dir = existsSync('/dev/shm') ? '/dev/shm' : tmpdir();
  const path = join(dir, `.berth-plan-${process.pid}-${planCounter++}`);
  const fd = openSync(path, constants.O_RDWR | constants.O_CREAT | constants.O_EXCL, 0o600);
  try {
    unlinkSync(path);
    writeSync(fd, bytes);
  } catch (err) {
    closeSync(fd);
    throw err;
  }
  return fd;
}

export function runExecutor(options: RunOptions): Execution {
  const preserve = options.preserveFds ?? 0;
  const base = options.stdio === 'inherit' ? (['inherit', 'inherit', 'inherit'] as const) : options.stdio;
  const stdio: StdioOptions = [...base];
  for (let fd = 3; fd < 3 + preserve; fd++) stdio.push(fd);
  stdio.push('pipe');
  const syncIndex = 3 + preserve;
  // The plan goes in an unlinked file the executor reads as soon as it starts, while spawn()
  // here is still busy: the executor need not wait for this process to answer first.
  const planFd = planFile(encodePlan(options.plan));
  stdio.push(planFd);
  const planIndex = syncIndex + 1;

  mark('executor: spawning');
  let child: ChildProcess;
  try {
    child = spawn(executorPath(), [String(syncIndex), String(planIndex)], { stdio, env: {} });
  } finally {
    closeSync(planFd);
  }
  mark('executor: spawned');
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.once('exit', (code, signal) => resolve({ code, signal }));
  });

  let resolvePid!: (pid: number) => void;
  let rejectPid!: (err: unknown) => void;
  const pid = new Promise<number>((res, rej) => {
    resolvePid = res;
    rejectPid = rej;
  });
  const ready = new Promise<void>((resolve, reject) => {
    const sock = child.stdio[syncIndex] as Socket | null;
    if (!sock) {
      reject(internal('executor_spawn', 'executor: no sync socket'));
      return;
    }
    const ctx: SyncContext = { pid: undefined, executorPid: child.pid ?? -1 };
    let settled = false;
    const finish = (err?: unknown): void => {
      if (settled) return;
      settled = true;
      sock.destroy();
      if (ctx.pid === undefined) rejectPid(err instanceof Error ? err : internal('executor_no_pid', 'executor finished without a container process'));
      if (err === undefined) resolve();
      else reject(err instanceof Error ? err : internal('executor_failed', describeError(err)));
    };
    child.once('error', (err) =>
      finish(internal('executor_spawn', `start the executor ${executorPath()}: ${err.message}`, { cause: err })),
    );

    let buf: Buffer = Buffer.alloc(0);
    let queue = Promise.resolve();
    const handle = async (type: number, payload: Buffer): Promise<void> => {
      switch (type) {
        case Msg.PID: {
          mark('executor: pid');
          ctx.pid = payload.readInt32LE(0);
          options.onPid?.(ctx.pid);
          resolvePid(ctx.pid);
          return;
        }
        case Msg.SYNC: {
          const tag = payload.toString('utf8');
          try {
            const answer = await options.onSync?.(tag, ctx);
            sock.write(frame(Msg.CONTINUE, answerPayload(answer)));
          } catch (err) {
            sock.write(frame(Msg.ABORT, Buffer.alloc(0)));
            finish(err);
          }
          return;
        }
        case Msg.READY:
          finish();
          return;
        case Msg.ERROR: {
          const step = payload.readUInt32LE(0);
          const errno = payload.readInt32LE(4);
          finish(new ExecutorFailure(options.plan, step, errno, payload.subarray(8).toString('utf8')));
          return;
        }
        default:
          finish(internal('executor_protocol', `executor sent message type ${type}`));
      }
    };
    sock.on('data', (chunk: Buffer) => {
      buf = buf.length ? Buffer.concat([buf, chunk]) : chunk;
      while (buf.length >= 8) {
        const len = buf.readUInt32LE(4);
        if (len > PLAN_MAX_BYTES) {
          finish(internal('executor_protocol', `executor message of ${len} bytes`));
          return;
        }
        if (buf.length < 8 + len) break;
        const type = buf.readUInt32LE(0);
        const payload = buf.subarray(8, 8 + len);
        buf = buf.subarray(8 + len);
        queue = queue.then(() => handle(type, payload));
      }
    });
    sock.on('error', () => undefined);
    sock.on('close', () => {
      // The socket closes when the executor and the container both let go of it.
      void queue.then(async () => {
        if (settled) return;
        const status = await Promise.race([exited, new Promise<null>((r) => setTimeout(() => r(null), 1000))]);
        const how = status === null ? 'went away' : status.signal ? `was killed by ${status.signal}` : `exited with status ${status.code}`;
        finish(internal('executor_exited', `the executor ${how} before the container was ready`));
      });
    });
  });
  // Nobody may be awaiting these yet; their failures surface through `ready`.
  pid.catch(() => undefined);
  ready.catch(() => undefined);
  return { executor: child, pid, ready, exited };
}

/** Runs a plan without a container: host-side operations such as attaching a device filter. */
export async function runHostPlan(plan: Plan): Promise<void> {
  const run = runExecutor({ plan, stdio: ['ignore', 'ignore', 'inherit'] });
  await run.ready;
  const status = await run.exited;
  if (status.code !== 0) throw internal('executor_failed', `host plan: the executor exited with ${status.code ?? status.signal}`);
}
