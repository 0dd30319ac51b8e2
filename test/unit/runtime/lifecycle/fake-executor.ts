/**
 * A recording fake of the executor host (src/runtime/host/host.ts), so the
 * lifecycle runs without root and without berth-exec. Each launch's plan is
 * decoded and recorded, then played as far as the lifecycle can observe
 * berth-exec: `mkfifo` makes the FIFO, `fork` starts a stand-in container
 * process (a real child: a shell that blocks on the FIFO as `wait_start`
 * does, then sleeps) and reports its pid, `sync` asks TypeScript and waits
 * for CONTINUE or ABORT, `ready` reports ready. A script makes a launch
 * fail at a step with an errno, or go away without a word, as a broken
 * executor would; the stand-in then dies, as the container process does.
 * The steps only the kernel could carry out (mounts, pivot_root, caps...)
 * are recorded, not played. Locks are held in memory and recorded (by
 * address, or by lock file for a host that locks files).
 */
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ExecutorLink, ExitStatus, LaunchRequest, LockRelease, RuntimeHost } from '../../../../src/runtime/host/host.ts';
import { ArgKind, Msg, OPS, PLAN_MAGIC, type OpName } from '../../../../src/runtime/plan/opcodes.ts';

export type ArgValue = bigint | string | string[] | bigint[];

export interface DecodedStep {
  op: OpName;
  args: Record<string, ArgValue>;
}

/** How one launch goes wrong; by step index or by the first step of an op. */
export interface Script {
  /** The executor reports this step failed with `errno` (EPERM unless given). */
  failAt?: number | OpName;
  errno?: number;
  /** The executor dies at this step without reporting anything (exit status 1). */
  vanishAt?: number | OpName;
}

export interface Launch {
  steps: DecodedStep[];
  preserveFds: number;
  /** Sync tags the executor asked, and what TypeScript answered (CONTINUE with its strings, or ABORT). */
  syncs: { tag: string; answer: 'continue' | 'abort'; strings: string[] }[];
  /** The stand-in container process's pid, once forked. */
  pid?: number;
  /** The message types sent to TypeScript, in order. */
  sent: number[];
}

const CODES = new Map<number, OpName>(Object.entries(OPS).map(([name, op]) => [op.code, name as OpName]));

/** The binary plan back into steps (see opcodes.ts for the layout). */
export function decodePlan(bytes: Uint8Array): DecodedStep[] {
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (buf.readUInt32LE(0) !== PLAN_MAGIC) throw new Error('fake executor: not a plan');
  const count = buf.readUInt32LE(8);
  let off = 12;
  const str = (): string => {
    const len = buf.readUInt32LE(off);
    const s = buf.toString('utf8', off + 4, off + 4 + len);
    off += 4 + len + 1;
    return s;
  };
  const steps: DecodedStep[] = [];
  for (let i = 0; i < count; i++) {
    const op = CODES.get(buf.readUInt16LE(off));
    const argc = buf.readUInt16LE(off + 4);
    off += 8;
    if (op === undefined) throw new Error(`fake executor: unknown op at step ${i}`);
    const names = Object.keys(OPS[op].args);
    const args: Record<string, ArgValue> = {};
    for (let a = 0; a < argc; a++) {
      const kind = buf[off];
      off += 4;
      let value: ArgValue;
      if (kind === ArgKind.int) {
        value = buf.readBigInt64LE(off);
        off += 8;
      } else if (kind === ArgKind.str) {
        value = str();
      } else {
        const n = buf.readUInt32LE(off);
        off += 4;
        const list: (string | bigint)[] = [];
        for (let k = 0; k < n; k++) {
          if (kind === ArgKind.strv) list.push(str());
          else {
            list.push(buf.readBigInt64LE(off));
            off += 8;
          }
        }
        value = list as string[] | bigint[];
      }
      args[names[a] ?? `arg${a}`] = value;
    }
    steps.push({ op, args });
  }
  return steps;
}

function stepIndex(steps: readonly DecodedStep[], at: number | OpName | undefined): number {
  if (at === undefined) return -1;
  return typeof at === 'number' ? at : steps.findIndex((s) => s.op === at);
}

export class FakeExecutorHost implements RuntimeHost {
  readonly launches: Launch[] = [];
  /** Lock addresses in the order taken ("+addr") and released ("-addr"). */
  readonly lockLog: string[] = [];
  readonly held = new Set<string>();
  warming = 0;
  private readonly scripts: Script[] = [];
  private readonly children = new Set<ChildProcess>();
  /** Called when a stand-in exits, as the kernel drops a dead process from its cgroups. */
  private readonly onExit: (pid: number) => void;

  constructor(options: { onExit?: (pid: number) => void } = {}) {
    this.onExit = options.onExit ?? (() => undefined);
  }

  /** The next launch follows this script (later launches go well). */
  script(s: Script): void {
    this.scripts.push(s);
  }

  // eslint-disable-next-line @typescript-eslint/require-await
  async launch(request: LaunchRequest): Promise<ExecutorLink> {
    const steps = decodePlan(request.plan);
    const launch: Launch = { steps, preserveFds: request.preserveFds, syncs: [], sent: [] };
    this.launches.push(launch);
    return this.play(launch, this.scripts.shift() ?? {});
  }

  // eslint-disable-next-line @typescript-eslint/require-await
  async bindLock(address: string): Promise<LockRelease | undefined> {
    if (this.held.has(address)) return undefined;
    this.held.add(address);
    this.lockLog.push(`+${address}`);
    let released = false;
    // eslint-disable-next-line @typescript-eslint/require-await
    return async () => {
      if (released) return;
      released = true;
      this.held.delete(address);
      this.lockLog.push(`-${address}`);
    };
  }

  /** The same, for a host that locks files (flock on a lock file in the state directory) instead of addresses. */
  async lockFile(path: string): Promise<LockRelease | 'busy' | 'missing'> {
    if (!existsSync(path)) return 'missing';
    return (await this.bindLock(path)) ?? 'busy';
  }

  warmCgroupJoin(): () => void {
    this.warming++;
    let stopped = false;
    return () => {
      if (!stopped) this.warming--;
      stopped = true;
    };
  }

  /** A stand-in container process: blocks on the exec FIFO until `start` (when the plan waits for it), then sleeps. */
  private standIn(fifo: string | undefined): ChildProcess {
    const script = fifo === undefined ? 'exec sleep 1000' : `printf 0 > '${fifo}' && exec sleep 1000`;
    const child = spawn('/bin/sh', ['-c', script], { stdio: 'ignore' });
    this.children.add(child);
    child.once('exit', () => {
      this.children.delete(child);
      if (child.pid !== undefined) this.onExit(child.pid);
    });
    return child;
  }

  /** Kills every stand-in still running and waits for them (test clean-up). */
  async stopAll(): Promise<void> {
    await Promise.all(
      [...this.children].map(
        (c) =>
          new Promise<void>((resolve) => {
            c.once('exit', () => resolve());
            c.kill('SIGKILL');
          }),
      ),
    );
  }

  private play(launch: Launch, script: Script): ExecutorLink {
    const { steps } = launch;
    const failAt = stepIndex(steps, script.failAt);
    const vanishAt = stepIndex(steps, script.vanishAt);
    const waitStart = steps.some((s) => s.op === 'wait_start');
    let deliver: ((type: number, payload: Buffer) => void) | undefined;
    let ended: (() => void) | undefined;
    let closed = false;
    let answer: ((a: { type: number; payload: Buffer }) => void) | undefined;
    let child: ChildProcess | undefined;
    let resolveExit!: (s: ExitStatus) => void;
    const exited = new Promise<ExitStatus>((r) => (resolveExit = r));
    const emit = (type: number, payload?: Buffer): void => {
      launch.sent.push(type);
      if (!closed) deliver?.(type, payload ?? Buffer.alloc(0));
    };
    const childExit = (): Promise<ExitStatus> =>
      new Promise((resolve) => {
        if (child === undefined || child.exitCode !== null || child.signalCode !== null) {
          resolve({ code: child?.exitCode ?? 0, signal: child?.signalCode ?? null });
        } else child.once('exit', (code, signal) => resolve({ code, signal }));
      });
    const die = async (code: number): Promise<void> => {
      child?.kill('SIGKILL');
      await childExit();
      resolveExit({ code, signal: null });
    };
    let fifo: string | undefined;
    let wait = false;
    const run = async (): Promise<void> => {
      for (const [i, step] of steps.entries()) {
        if (i === vanishAt) {
          await die(1);
          ended?.();
          return;
        }
        if (i === failAt) {
          const payload = Buffer.alloc(8);
          payload.writeUInt32LE(i, 0);
          payload.writeInt32LE(script.errno ?? 1, 4);
          emit(Msg.ERROR, Buffer.concat([payload, Buffer.from(`fake failure of ${step.op}`)]));
          await die(1);
          return;
        }
        switch (step.op) {
          case 'mkfifo':
            fifo = String(step.args['path']);
            execFileSync('mkfifo', ['-m', (Number(step.args['mode']) & 0o777).toString(8), fifo]);
            break;
          case 'fork': {
            wait = step.args['wait'] === 1n;
            child = this.standIn(waitStart ? fifo : undefined);
            if (child.pid !== undefined) launch.pid = child.pid;
            const payload = Buffer.alloc(4);
            payload.writeInt32LE(child.pid ?? 0, 0);
            emit(Msg.PID, payload);
            break;
          }
          case 'sync': {
            const tag = String(step.args['tag']);
            const reply = await new Promise<{ type: number; payload: Buffer }>((resolve) => {
              answer = resolve;
              emit(Msg.SYNC, Buffer.from(tag));
            });
            const strings = reply.payload.toString('utf8').split('\0').slice(0, -1);
            launch.syncs.push({ tag, answer: reply.type === Msg.ABORT ? 'abort' : 'continue', strings });
            if (reply.type === Msg.ABORT) {
              await die(1);
              return;
            }
            break;
          }
          case 'ready':
            emit(Msg.READY);
            break;
          default:
            break;
        }
      }
      // Without `wait` the executor leaves at once after the fork; with it, it reports the container's status.
      resolveExit(wait ? await childExit() : { code: 0, signal: null });
    };
    return {
      pid: Promise.resolve(process.pid),
      send: (type, payload) => answer?.({ type, payload: Buffer.from(payload) }),
      listen: (onMessage, onEnd) => {
        deliver = onMessage;
        ended = onEnd;
        void run();
      },
      close: () => {
        closed = true;
      },
      exited,
      stdout: null,
      stderr: null,
    };
  }
}

/** The kernel's side of a dead process in a fake cgroupfs tree: its pid leaves every cgroup.procs. */
export function dropFromCgroups(root: string, pid: number): void {
  const walk = (dir: string): void => {
    let entries;
    try {
      entries = readdirSync(dir, { withFileTypes: true });
    } catch {
      return; // Removed meanwhile (an rmdir, or the test's clean-up).
    }
    for (const e of entries) {
      const path = join(dir, e.name);
      if (e.isDirectory()) walk(path);
      else if (e.name === 'cgroup.procs' || e.name === 'tasks') {
        const lines = readFileSync(path, 'utf8').split('\n').filter((l) => l !== '' && l !== String(pid));
        writeFileSync(path, lines.map((l) => `${l}\n`).join(''));
      }
    }
  };
  walk(root);
}
