/**
 * What the runtime needs from the process it runs in: starting executors on
 * plans and holding per-container locks. Two hosts provide it:
 *
 *   - a Node.js process on its own (the engine, builds, tests): it spawns
 *     berth-exec and takes flock(2) on lock files through koffi (spawn.ts);
 *   - the berth-runtime command line under its front (native/front), which
 *     forks the executors and holds the locks on its behalf, so a command
 *     loads neither node:child_process nor koffi (front.ts).
 *
 * Both lock the same files, so the two exclude each other.
 */
import type { Readable, Stream } from 'node:stream';
import { warmCgroupJoin } from '../cgroups/warm.ts';

export type StdioEntry = 'inherit' | 'ignore' | 'pipe' | number | Stream;

export interface ExitStatus {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export interface LaunchRequest {
  /** The encoded plan. */
  plan: Uint8Array;
  /** fds 0, 1 and 2 of the executor (and of the container). */
  stdio: readonly [StdioEntry, StdioEntry, StdioEntry] | 'inherit';
  /** fds 3 .. 3+n-1 of this process pass to the executor at the same numbers (runc's --preserve-fds). */
  preserveFds: number;
  /** A plan without a container (attaching a device filter): a host that runs containers its own way runs it as any executor. */
  hostPlan?: boolean;
}

/** One executor and its sync socket, as the protocol driver (executor.ts) sees them. */
export interface ExecutorLink {
  /** The executor's pid; rejects when it could not be started (known before any of its messages). */
  readonly pid: Promise<number>;
  /** Sends one message to the executor. */
  send(type: number, payload: Uint8Array): void;
  /**
   * Delivers the executor's messages in order, then `onEnd` once every holder
   * of its sync socket (the executor, the container process) let go of it.
   */
  listen(onMessage: (type: number, payload: Buffer) => void, onEnd: () => void): void;
  /** Stops listening: the messages still coming are dropped. */
  close(): void;
  /** The executor's exit: in wait mode, the container's status. */
  readonly exited: Promise<ExitStatus>;
  /** The executor's stdout and stderr where the request asked for pipes. */
  readonly stdout: Readable | null;
  readonly stderr: Readable | null;
}

/** A held lock; releasing twice is harmless. */
export type LockRelease = () => Promise<void>;

export interface RuntimeHost {
  launch(request: LaunchRequest): Promise<ExecutorLink>;
  /**
   * Takes flock(2) on the lock file at `path` without waiting: 'busy' while
   * another holds it (or it was removed while held: try again), 'missing'
   * when there is no such file.
   */
  lockFile(path: string): Promise<LockRelease | 'busy' | 'missing'>;
  /** Keeps joining a cgroup fast until the function returned is called (../cgroups/warm.ts). */
  warmCgroupJoin(): () => void;
}

let standalone: Promise<RuntimeHost> | undefined;

/** The host of a Node.js process on its own; node:child_process and node:net load when first used. */
export function standaloneHost(): RuntimeHost {
  const load = (): Promise<RuntimeHost> => (standalone ??= import('./spawn.ts').then((m) => m.spawnHost));
  return {
    launch: async (request) => (await load()).launch(request),
    lockFile: async (path) => (await load()).lockFile(path),
    warmCgroupJoin: () => warmCgroupJoin(),
  };
}
