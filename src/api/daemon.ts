/**
 * berthd from the command line's side. `ensureDaemon` gives a client of a
 * daemon that answers: when nothing answers `GET /_ping` on the socket it
 * starts berthd in the background (its own session, output to its log
 * file), waits until it answers, and says so on stderr once. Several
 * commands starting at once start one daemon: each spawns a berthd with
 * `--if-absent`, the run root's lock lets one through, the others exit 0
 * quietly, and every caller just waits for the ping. `stopDaemon` asks the
 * daemon to stop and waits until its lock is free; containers keep running.
 */
import { closeSync, mkdirSync, openSync, readFileSync, readSync, renameSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { delay } from '../delay.ts';
import { errnoCode, failedPrecondition, isBerthError, unavailable } from '../errors.ts';
import { buildDir } from '../paths.ts';
import type { IncomingMessage } from 'node:http';
import { ApiClient, type Hijacked, type RequestOptions } from './client.ts';
import type { LogLevel } from './log.ts';
import { daemonPaths, type DaemonPathOptions, type DaemonPaths } from './paths.ts';
import { lockHolder } from './daemon-lock.ts';

export interface EnsureOptions extends DaemonPathOptions {
  /** The argv that runs berthd (default: defaultDaemonCommand()). */
  command?: readonly string[];
  logLevel?: LogLevel;
  /** How long berthd may take to answer once started (default 30 s). */
  timeoutMs?: number;
  /** Where the one line saying berthd was started goes (default stderr). */
  notice?: (line: string) => void;
  env?: NodeJS.ProcessEnv;
}

/** Past this size the log is moved to berthd.log.1 before a new daemon starts writing. */
const LOG_ROTATE_BYTES = 16 * 1024 * 1024;
const POLL_MS = 25;

declare const BERTH_BUNDLED: boolean | undefined;

/** The bundled berthd beside the bundled berth; from the sources (tests), berthd's sources, so both are the same code. */
export function defaultDaemonCommand(): string[] {
  const bundled = typeof BERTH_BUNDLED !== 'undefined' && BERTH_BUNDLED;
  return bundled ? [join(buildDir(), 'berthd.cjs')] : [process.execPath, join(import.meta.dirname, '..', 'cli', 'berthd', 'main.ts')];
}

/** The last lines of the daemon's log, for an error that says why it did not come up. */
export function logTail(path: string, lines = 15): string {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch {
    return '';
  }
  try {
    const size = statSync(path).size;
    const want = Math.min(size, 8192);
    const buf = Buffer.alloc(want);
    readSync(fd, buf, 0, want, size - want);
    return buf.toString('utf8').split('\n').filter((l) => l !== '').slice(-lines).join('\n');
  } finally {
    closeSync(fd);
  }
}

function openLog(paths: DaemonPaths): number {
  mkdirSync(paths.root, { recursive: true, mode: 0o700 });
  try {
    if (statSync(paths.log).size > LOG_ROTATE_BYTES) renameSync(paths.log, `${paths.log}.1`);
  } catch (err) {
    if (errnoCode(err) !== 'ENOENT') throw err;
  }
  return openSync(paths.log, 'a', 0o640);
}

export async function ensureDaemon(options: EnsureOptions = {}): Promise<ApiClient> {
  const paths = daemonPaths(options);
  const client = new ApiClient(paths.socket);
  if (await client.ping()) return client;

  const [cmd, ...args] = options.command ?? defaultDaemonCommand();
  if (cmd === undefined) throw failedPrecondition('daemon_start_failed', 'berthd: no command to start it with');
  const logFd = openLog(paths);
  let exit: { code: number | null; signal: NodeJS.Signals | null } | undefined;
  let spawnError: Error | undefined;
  try {
    // Loaded only to start a daemon: a command whose daemon answers never needs child_process.
    const { spawn } = process.getBuiltinModule('node:child_process');
    const child = spawn(
      cmd,
      [...args, '--root', paths.root, '--run-root', paths.runRoot, '--socket', paths.socket, '--log-level', options.logLevel ?? 'info', '--if-absent'],
      { detached: true, stdio: ['ignore', logFd, logFd], cwd: '/', env: options.env ?? process.env },
    );
    child.once('exit', (code, signal) => (exit = { code, signal }));
    child.once('error', (err) => (spawnError = err));
    child.unref();
    const deadline = Date.now() + (options.timeoutMs ?? 30_000);
    for (;;) {
      if (spawnError !== undefined) throw failedPrecondition('daemon_start_failed', `berthd: cannot run ${cmd}`, { cause: spawnError });
      if (exit !== undefined && exit.code !== 0) {
        // 0 is a berthd that found another holding the lock: that one is coming up.
        const how = exit.code === null ? `was killed by ${exit.signal}` : `exited with ${exit.code}`;
        throw failedPrecondition('daemon_start_failed', `berthd ${how} before answering on ${paths.socket}; its log ${paths.log} ends:\n${logTail(paths.log)}`);
      }
      if (await client.ping(1_000)) break;
      if (Date.now() > deadline) {
        throw unavailable('daemon_start_timeout', `berthd did not answer on ${paths.socket} within ${options.timeoutMs ?? 30_000} ms; its log ${paths.log} ends:\n${logTail(paths.log)}`);
      }
      await delay(POLL_MS);
    }
    if (lockHolder(paths.lock) === child.pid) (options.notice ?? ((l) => void process.stderr.write(l)))(`berth: started berthd (log: ${paths.log})\n`);
    return client;
  } finally {
    closeSync(logFd);
  }
}

/** Whether a request failed before reaching anyone: no socket file, or nothing listening on it. */
function nobodyListens(err: unknown): boolean {
  if (!isBerthError(err, 'daemon_unreachable')) return false;
  const code = errnoCode(err.cause);
  return code === 'ENOENT' || code === 'ECONNREFUSED';
}

/**
 * A client of the daemon that starts it only when a request finds nobody listening (then that
 * request is sent again, once: it never reached anyone). A command whose daemon runs makes its
 * requests at once, without the `GET /_ping` of ensureDaemon first: one round trip less.
 */
export class OnDemandClient extends ApiClient {
  readonly #options: EnsureOptions;
  #started: Promise<ApiClient> | undefined;

  constructor(options: EnsureOptions = {}) {
    super(daemonPaths(options).socket);
    this.#options = options;
  }

  async #retry<T>(send: () => Promise<T>): Promise<T> {
    try {
      return await send();
    } catch (err) {
      if (this.#started !== undefined || !nobodyListens(err)) throw err;
      this.#started = ensureDaemon(this.#options);
      await this.#started;
      return send();
    }
  }

  override open(method: string, path: string, options: RequestOptions = {}): Promise<IncomingMessage> {
    return this.#retry(() => super.open(method, path, options));
  }

  override hijack(method: string, path: string, options: RequestOptions = {}): Promise<Hijacked> {
    return this.#retry(() => super.hijack(method, path, options));
  }
}

/** Whether a daemon holds the run root's lock (taken and let go at once when free). */
export async function daemonHoldsLock(paths: DaemonPaths): Promise<boolean> {
  // src/sys loads the FFI: only here, never on a command's start path.
  const { tryLockExclusive } = await import('../sys/flock.ts');
  let fd: number;
  try {
    fd = openSync(paths.lock, 'r');
  } catch (err) {
    if (errnoCode(err) === 'ENOENT') return false;
    throw err;
  }
  try {
    return !tryLockExclusive(fd);
  } finally {
    closeSync(fd);
  }
}

/** Whether a process runs (a zombie, dead but not yet reaped, does not). */
export function processRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (err) {
    return errnoCode(err) !== 'ESRCH';
  }
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'latin1');
    return !stat.slice(stat.lastIndexOf(')') + 2).startsWith('Z');
  } catch {
    return false;
  }
}

/**
 * Asks berthd to stop (`POST /berth/shutdown`) and waits until it has let
 * go of its lock and its process is gone. Returns its pid.
 */
export async function stopDaemon(options: DaemonPathOptions & { timeoutMs?: number } = {}): Promise<number | undefined> {
  const paths = daemonPaths(options);
  const client = new ApiClient(paths.socket);
  const pid = lockHolder(paths.lock);
  if (!(await client.ping())) {
    throw failedPrecondition('daemon_not_running', `berthd is not running: nothing answers on ${paths.socket}`);
  }
  await client.json('POST', '/berth/shutdown');
  const deadline = Date.now() + (options.timeoutMs ?? 30_000);
  while ((await daemonHoldsLock(paths)) || (pid !== undefined && processRunning(pid))) {
    if (Date.now() > deadline) throw unavailable('daemon_stop_timeout', `berthd${pid === undefined ? '' : ` (pid ${pid})`} still holds ${paths.lock} after it was asked to stop`);
    await delay(POLL_MS);
  }
  return pid;
}
