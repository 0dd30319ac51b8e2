/**
 * Docker's exec model: an exec is created (an id and a config), started
 * once, inspected, resized; it runs under its own berth-monitor, which
 * reaps it and records its exit as for a container. With the engine's own
 * runtime (ExecContainer.runtimeContext) the runtime library's exec runs
 * here and the monitor execs the executor on its plan (executor-start.ts:
 * no Node.js starts per exec); with another OCI runtime the monitor runs
 * its `exec --detach` and the process is reparented to the monitor. The
 * sessions are kept in memory, as dockerd keeps them; each one's run
 * directory, RUNROOT/exec/<exec id>/ (the monitor's attach socket, ctl
 * fifo, exit file; process.json and pid with another runtime), is removed as soon as its exit is
 * recorded. Not under the container's run directory: a unix socket's path
 * has at most 107 bytes, and two 64-digit ids do not leave room for it. Attaching goes through the socket the
 * monitor was started with (monitor/attach.ts attachSocket), so no output
 * comes before the caller reads it.
 *
 * What the engine knows of the container comes in as a plain object
 * (ExecContainer): this module reads the bundle's config.json and the
 * rootfs's user database, and asks the container's state through it.
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, rmdirSync, rmSync, writeFileSync } from 'node:fs';
import type { Duplex } from 'node:stream';
import { dirname, join } from 'node:path';
import { errnoCode, failedPrecondition, internal, isBerthError, notFound } from '../../errors.ts';
import { readUserDb } from '../../image/bundle/read-user-db.ts';
import { Rootfs } from '../../image/unpack/rootfs.ts';
import type { Process } from '../../oci/runtime-spec.ts';
import { resize as resizeTerminal } from '../monitor/attach.ts';
import { readExit, type ExitStatus } from '../monitor/exit-file.ts';
import { startMonitor, type MonitorStarted } from '../monitor/spawn.ts';
import type { RuntimeContext } from '../../runtime/lifecycle/context.ts';
import { executorPath } from '../../runtime/host/spawn.ts';
import { parseConsoleSize, parseExecConfig, type ExecConfig } from './config.ts';
import { startExecutorExec, startFailureCode } from './executor-start.ts';
import { execProcess } from './process.ts';
import { waitExit, type ExitWait } from './wait-exit.ts';
import { mark } from '../../trace.ts';

export interface ExecContainer {
  /** 64 hex digits. */
  id: string;
  /** Names the container in errors. */
  name: string;
  /** The OCI runtime and its --root (the engine's RUNROOT/runtime). */
  runtime: string;
  runtimeRoot: string;
  /** The bundle's config.json: its process is what an exec's starts from. */
  configPath: string;
  /** The mounted rootfs: an exec's User is resolved against its /etc/passwd and /etc/group. */
  rootfs: string;
  /** The container's state now (the engine's: 'running', 'paused', 'exited', ...); only a running one takes an exec. */
  state(): string;
  /**
   * The runtime library's context, when the container was created by it
   * (the engine's default): an exec then runs the runtime's exec in this
   * process and its monitor execs the executor (executor-start.ts), no
   * runtime command. Absent: the monitor runs `runtime exec`.
   */
  runtimeContext?: () => Promise<RuntimeContext>;
}

export interface ExecSessionsOptions {
  /** The engine's run root (RUNROOT). */
  runRoot: string;
  /** Defaults to build/berth-monitor. */
  monitor?: string;
  /** Defaults to build/berth-exec (or $BERTH_EXECUTOR). */
  executor?: string;
  /** How long a stopped container's execs get to have their exit recorded (default 10 s). */
  stopGraceMs?: number;
}

/** Docker's ExecStartCheck. */
export interface ExecStartOptions {
  detach?: boolean;
  /** The client's framing only, as in dockerd: the exec's own Tty decides. */
  tty?: boolean;
  consoleSize?: unknown;
}

export interface ExecStarted {
  pid: number;
  /** The exec's berth-monitor, which exits after the process. */
  monitorPid: number;
  /**
   * Without detach: the attachment, in Docker's multiplexed framing (raw
   * with a terminal), both streams whatever the Attach flags say; input
   * goes to the process's stdin when AttachStdin. The monitor waits for
   * its reader, so read it (attachSocket) or destroy it.
   */
  socket?: Duplex;
  /** The exit code (128+N after signal N) once the process is gone and its run directory removed. */
  exited: Promise<number | null>;
}

/** Docker's ExecInspect. */
export interface ExecInspect {
  ID: string;
  Running: boolean;
  ExitCode: number | null;
  ProcessConfig: { tty: boolean; entrypoint: string; arguments: string[]; privileged: boolean; user: string };
  OpenStdin: boolean;
  OpenStderr: boolean;
  OpenStdout: boolean;
  CanRemove: boolean;
  ContainerID: string;
  DetachKeys: string;
  Pid: number;
}

interface Session {
  id: string;
  container: ExecContainer;
  config: ExecConfig;
  status: 'created' | 'starting' | 'running' | 'exited';
  pid: number;
  exitCode: number | null;
  runDir: string;
  wait?: ExitWait;
  exited?: Promise<number | null>;
}

/**
 * The monitor may be unlinking its socket and fifo at this very moment, and
 * rmSync's recursive walk stops early, silently with `force`, when an entry
 * vanishes under it: so entry by entry (the run directory holds only files).
 */
function removeRunDir(dir: string): void {
  for (let attempt = 1; ; attempt++) {
    let names: string[];
    try {
      names = readdirSync(dir);
    } catch (err) {
      if (errnoCode(err) === 'ENOENT') return;
      throw err;
    }
    for (const name of names) rmSync(join(dir, name), { force: true });
    try {
      rmdirSync(dir);
      return;
    } catch (err) {
      if (errnoCode(err) === 'ENOENT') return;
      if (errnoCode(err) !== 'ENOTEMPTY' || attempt === 3) throw err;
    }
  }
}

/** Paths of the unix sockets bound in this network namespace (a monitor's, when it still runs): no connection, so no client a monitor would see. */
function boundSockets(): Set<string> {
  const lines = readFileSync('/proc/net/unix', 'utf8').split('\n').slice(1);
  return new Set(lines.map((l) => l.trim().split(/\s+/)[7]).filter((p) => p !== undefined));
}

export function exitCodeOf(s: ExitStatus): number {
  return s.code ?? 128 + s.signal;
}

function notRunning(c: ExecContainer, state: string, cause?: unknown): Error {
  const why = state === 'paused' ? 'it is paused, unpause it first' : `it is not running (${state})`;
  return failedPrecondition('exec_container_not_running', `container "${c.name}": cannot exec: ${why}`, { details: { state }, ...(cause === undefined ? {} : { cause }) });
}

/** The container's process from its config.json (the engine's own file, still checked for what is used). */
function containerProcess(c: ExecContainer): Process {
  let spec: unknown;
  try {
    spec = JSON.parse(readFileSync(c.configPath, 'utf8'));
  } catch (err) {
    throw internal('exec_container_config', `container "${c.name}": reading ${c.configPath}: ${(err as Error).message}`, { cause: err });
  }
  const p = (spec as { process?: unknown } | null)?.process as Partial<Process> | undefined;
  if (typeof p !== 'object' || p === null || typeof p.cwd !== 'string' || typeof p.user?.uid !== 'number' || typeof p.user.gid !== 'number') {
    throw internal('exec_container_config', `container "${c.name}": ${c.configPath}: no process with a user and a cwd`);
  }
  return p as Process;
}

export class ExecSessions {
  private readonly sessions = new Map<string, Session>();
  private readonly options: ExecSessionsOptions;

  constructor(options: ExecSessionsOptions) {
    this.options = options;
  }

  /** Docker's `POST /containers/{id}/exec`: refused unless the container runs. */
  createExec(container: ExecContainer, rawConfig: unknown): string {
    const state = container.state();
    if (state !== 'running') throw notRunning(container, state);
    const config = parseExecConfig(rawConfig);
    const id = randomBytes(32).toString('hex');
    const runDir = join(this.options.runRoot, 'exec', id);
    this.sessions.set(id, { id, container, config, status: 'created', pid: 0, exitCode: null, runDir });
    return id;
  }

  private get(id: string): Session {
    const s = this.sessions.get(id);
    if (s === undefined) throw notFound('exec_not_found', `exec "${id}": not found`);
    return s;
  }

  /** Docker's `POST /exec/{id}/start`: resolves once the process runs. */
  async startExec(id: string, options: ExecStartOptions = {}): Promise<ExecStarted> {
    const s = this.get(id);
    if (s.status !== 'created') throw failedPrecondition('exec_already_started', `exec "${id}": already started`);
    const c = s.container;
    const state = c.state();
    if (state !== 'running') throw notRunning(c, state);
    s.status = 'starting';
    mark(`exec ${id.slice(0, 12)}: starting`);
    const consoleSize = parseConsoleSize(options.consoleSize) ?? s.config.ConsoleSize;
    const config: ExecConfig = { ...s.config, ...(consoleSize === undefined ? {} : { ConsoleSize: consoleSize }) };
    const detach = options.detach === true;
    try {
      const process = execProcess(containerProcess(c), config, c.name, () => {
        using root = Rootfs.open(c.rootfs);
        return readUserDb(root);
      });
      mkdirSync(s.runDir, { recursive: true, mode: 0o700 });
      const monitor = this.options.monitor === undefined ? {} : { monitor: this.options.monitor };
      const stdin = config.AttachStdin && !detach;
      let started: MonitorStarted;
      if (c.runtimeContext !== undefined) {
        const o = { id: c.id, name: c.name, runDir: s.runDir, executor: this.options.executor ?? executorPath(), stdin, attach: !detach, ...monitor };
        started = await startExecutorExec(await c.runtimeContext(), o, process);
      } else {
        const processFile = join(s.runDir, 'process.json');
        writeFileSync(processFile, JSON.stringify(process), { mode: 0o600 });
        started = await startMonitor({
          runtime: c.runtime, root: c.runtimeRoot, id: c.id, runDir: s.runDir,
          exec: { processFile, attach: !detach },
          stdin, stdinOnce: true, terminal: config.Tty, noSync: true, ...monitor,
        });
      }
      s.pid = started.pid;
      s.status = 'running';
      mark(`exec ${id.slice(0, 12)}: running`);
      s.wait = waitExit(s.runDir);
      s.exited = s.wait.exited.then(exitCodeOf, () => null).then((code) => this.finish(s, code));
      return { pid: started.pid, monitorPid: started.monitorPid, ...(started.socket === undefined ? {} : { socket: started.socket }), exited: s.exited };
    } catch (err) {
      // dockerd's codes for an exec that could not start.
      this.finish(s, startFailureCode(err));
      const now = c.state();
      // The runtime found the container stopped (or paused) before the engine saw it.
      if (isBerthError(err, 'not_running')) throw notRunning(c, now !== 'running' ? now : err.details['status'] === 'paused' ? 'paused' : 'exited', err);
      if (now !== 'running' && isBerthError(err, 'runtime_exec_failed')) throw notRunning(c, now, err);
      throw err;
    }
  }

  /** Records the exit once and removes the run directory (and RUNROOT/exec when it empties). */
  private finish(s: Session, code: number | null): number | null {
    if (s.status === 'exited') return s.exitCode;
    mark(`exec ${s.id.slice(0, 12)}: exit recorded`);
    s.status = 'exited';
    s.exitCode = code;
    s.wait?.cancel();
    try {
      removeRunDir(s.runDir);
      rmdirSync(dirname(s.runDir));
    } catch {
      // Another exec still has its directory there, or this one could not go: sweepLeftovers takes it
      // later. Nothing is thrown from here, where a detached exec's exit has nobody to catch it.
    }
    return code;
  }

  /** Catches an exit the watcher has not delivered yet, so inspect never says running after the exit file says otherwise. */
  private refresh(s: Session): void {
    if (s.status !== 'running') return;
    const status = readExit(s.runDir);
    if (status !== undefined) this.finish(s, exitCodeOf(status));
  }

  inspectExec(id: string): ExecInspect {
    const s = this.get(id);
    this.refresh(s);
    const [entrypoint = '', ...args] = s.config.Cmd;
    return {
      ID: s.id,
      Running: s.status === 'running',
      ExitCode: s.status === 'exited' ? s.exitCode : null,
      ProcessConfig: { tty: s.config.Tty, entrypoint, arguments: args, privileged: s.config.Privileged, user: s.config.User },
      OpenStdin: s.config.AttachStdin,
      OpenStderr: s.config.AttachStderr,
      OpenStdout: s.config.AttachStdout,
      CanRemove: false,
      ContainerID: s.container.id,
      DetachKeys: '',
      Pid: s.pid,
    };
  }

  /** Docker's `POST /exec/{id}/resize`: the terminal's size, for an exec with one that runs. */
  resizeExec(id: string, height: number, width: number): void {
    const s = this.get(id);
    this.refresh(s);
    if (!s.config.Tty) throw failedPrecondition('exec_no_tty', `exec "${id}": has no terminal to resize`);
    if (s.status !== 'running') throw failedPrecondition('exec_not_running', `exec "${id}": is not running`);
    resizeTerminal(s.runDir, height, width);
  }

  /** Signals the exec's process (health checks kill theirs at the timeout); nothing once it has exited. */
  killExec(id: string, signal: NodeJS.Signals = 'SIGKILL'): void {
    const s = this.get(id);
    this.refresh(s);
    if (s.status !== 'running') return;
    try {
      process.kill(s.pid, signal);
    } catch (err) {
      // ESRCH: gone between the check and the signal; its exit is on the way
      if ((err as NodeJS.ErrnoException).code !== 'ESRCH') throw err;
    }
  }

  /** The container's exec ids, for its inspect (Docker's ExecIDs). */
  execIdsOf(containerId: string): string[] {
    return [...this.sessions.values()].filter((s) => s.container.id === containerId).map((s) => s.id);
  }

  /** Waits for the execs of a stopped container (killed with it) to have their exit recorded; the hook the engine calls after a stop. */
  async containerStopped(containerId: string): Promise<void> {
    const running = [...this.sessions.values()].filter((s) => s.container.id === containerId && s.status === 'running');
    const grace = this.options.stopGraceMs ?? 10_000;
    await Promise.all(running.map(async (s) => {
      let timer: NodeJS.Timeout | undefined;
      const late = new Promise<null>((resolve) => (timer = setTimeout(() => resolve(null), grace)));
      const code = await Promise.race([s.exited ?? late, late]);
      clearTimeout(timer);
      this.finish(s, code);
    }));
  }

  /** Forgets an exec that has exited (health probes drop theirs); a running one stays. */
  removeExec(id: string): void {
    const s = this.get(id);
    this.refresh(s);
    if (s.status === 'exited' || s.status === 'created') this.sessions.delete(id);
  }

  /** Drops the container's sessions: the hook the engine calls when it removes the container. */
  forgetContainer(containerId: string): void {
    for (const s of this.sessions.values()) {
      if (s.container.id !== containerId) continue;
      if (s.status !== 'exited') this.finish(s, null);
      this.sessions.delete(s.id);
    }
  }

  /**
   * At the daemon's start (and whenever else): removes the run directories
   * a previous daemon left (its sessions were in its memory), or that could
   * not be removed at an exit, whose monitor is gone: an exit recorded, or
   * an attach socket nobody listens on. Those still running are left for a
   * later sweep. Returns the exec ids removed.
   */
  sweepLeftovers(): string[] {
    const root = join(this.options.runRoot, 'exec');
    let ids: string[];
    try {
      ids = readdirSync(root).filter((id) => /^[0-9a-f]{64}$/.test(id) && (this.sessions.get(id)?.status ?? 'exited') === 'exited');
    } catch (err) {
      if (errnoCode(err) === 'ENOENT') return [];
      throw err;
    }
    const bound = boundSockets();
    const removed: string[] = [];
    for (const id of ids) {
      const dir = join(root, id);
      let gone: boolean;
      try {
        gone = readExit(dir) !== undefined || !bound.has(join(dir, 'attach'));
      } catch {
        gone = true;  // an exit file that cannot be read: nothing to keep it for
      }
      if (!gone) continue;
      removeRunDir(dir);
      removed.push(id);
    }
    return removed;
  }

  /** Stops watching (the daemon's shutdown): the processes and their monitors go on. */
  close(): void {
    for (const s of this.sessions.values()) s.wait?.cancel();
  }
}
