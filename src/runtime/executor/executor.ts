/**
 * Runs the native executor on a plan and speaks the sync protocol with it:
 * the executor reports the container's pid, stops at each `sync` step until
 * TypeScript answers, and reports READY or the step that failed. How the
 * executor starts (spawned, or forked by berth-runtime's front) is the
 * host's business (../host/).
 */
import type { Readable } from 'node:stream';
import { getSystemErrorMessage, getSystemErrorName } from 'node:util';
import { BerthError, describeError, ErrorKind, internal } from '../../errors.ts';
import type { ExitStatus, RuntimeHost, StdioEntry } from '../host/host.ts';
import { encodePlan, type Plan } from '../plan/encode.ts';
import { Msg } from '../plan/opcodes.ts';
import { hintFor } from './hints.ts';
import { mark } from '../../trace.ts';

export type { StdioEntry } from '../host/host.ts';

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
    super(ErrorKind.FailedPrecondition, 'executor_step_failed', `${what}: ${reason}`, {
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
  /** No container: see LaunchRequest.hostPlan. */
  hostPlan?: boolean;
}

export interface Execution {
  /** The executor's stdout and stderr, where stdio asked for pipes. */
  readonly stdout: Readable | null;
  readonly stderr: Readable | null;
  /** The container process's pid (rejects if the executor fails before forking). */
  readonly pid: Promise<number>;
  /** Resolves when the executor reports READY; rejects with the failing step. */
  readonly ready: Promise<void>;
  /** The executor's exit: in wait mode, the container's status. */
  readonly exited: Promise<ExitStatus>;
}

function answerPayload(strings: readonly string[] | undefined): Buffer {
  if (!strings || strings.length === 0) return Buffer.alloc(0);
  return Buffer.concat(strings.flatMap((s) => [Buffer.from(s, 'utf8'), Buffer.alloc(1)]));
}

export async function runExecutor(host: RuntimeHost, options: RunOptions): Promise<Execution> {
  mark('executor: launching');
  const link = await host.launch({
    plan: encodePlan(options.plan),
    stdio: options.stdio,
    preserveFds: options.preserveFds ?? 0,
    ...(options.hostPlan === true ? { hostPlan: true } : {}),
  });
  mark('executor: launched');
  let resolvePid!: (pid: number) => void;
  let rejectPid!: (err: unknown) => void;
  const pid = new Promise<number>((res, rej) => {
    resolvePid = res;
    rejectPid = rej;
  });
  const ready = new Promise<void>((resolve, reject) => {
    const ctx: SyncContext = { pid: undefined, executorPid: -1 };
    let settled = false;
    const finish = (err?: unknown): void => {
      if (settled) return;
      settled = true;
      link.close();
      if (ctx.pid === undefined) rejectPid(err instanceof Error ? err : internal('executor_no_pid', 'executor finished without a container process'));
      if (err === undefined) resolve();
      else reject(err instanceof Error ? err : internal('executor_failed', describeError(err)));
    };
    // The executor's pid comes before its messages; no message is handled before it.
    let queue = link.pid.then(
      (p) => {
        ctx.executorPid = p;
      },
      (err: unknown) => finish(err),
    );
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
            link.send(Msg.CONTINUE, answerPayload(answer));
          } catch (err) {
            link.send(Msg.ABORT, new Uint8Array(0));
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
          // The detail may end in a hook's output, and so in its last newline.
          finish(new ExecutorFailure(options.plan, step, errno, payload.subarray(8).toString('utf8').trimEnd()));
          return;
        }
        default:
          finish(internal('executor_protocol', `executor sent message type ${type}`));
      }
    };
    link.listen(
      (type, payload) => {
        queue = queue.then(() => handle(type, payload));
      },
      () => {
        // The socket closes when the executor and the container both let go of it.
        void queue.then(async () => {
          if (settled) return;
          const status = await Promise.race([link.exited, new Promise<null>((r) => setTimeout(() => r(null), 1000).unref())]);
          const how = status === null ? 'went away' : status.signal ? `was killed by ${status.signal}` : `exited with status ${status.code}`;
          finish(internal('executor_exited', `the executor ${how} before the container was ready`));
        });
      },
    );
  });
  // Nobody may be awaiting these yet; their failures surface through `ready`.
  pid.catch(() => undefined);
  ready.catch(() => undefined);
  return { stdout: link.stdout, stderr: link.stderr, pid, ready, exited: link.exited };
}

/** Runs a plan without a container: host-side operations such as attaching a device filter. */
export async function runHostPlan(host: RuntimeHost, plan: Plan): Promise<void> {
  const run = await runExecutor(host, { plan, stdio: 'inherit', hostPlan: true });
  await run.ready;
  const status = await run.exited;
  if (status.code !== 0) throw internal('executor_failed', `host plan: the executor exited with ${status.code ?? status.signal}`);
}
