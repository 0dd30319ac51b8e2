/**
 * The resident command line: one Node.js process that stays after a
 * berth-runtime command and serves the next ones, so a command does not
 * start Node.js again (issue 9: Node.js's start-up alone took longer than
 * runc's whole `state`, and twice as long with the machine busy).
 *
 * The front (native/front/resident.c) connects to the resident of its own
 * build, at /run/berth-runtime-resident/DEV-INO.sock (the device and inode
 * of the front's binary, so each build has its own), and says which command
 * it was given (FRONT_HELLO). The resident takes it (FRONT_ACCEPT; it runs
 * once the front says FRONT_GO) only when running it here is the same as
 * running it in the caller's own Node.js process; otherwise it answers
 * FRONT_FALLBACK and the front starts Node.js as it always did:
 *
 *   - the caller is root and sees what the resident sees: the same user,
 *     groups, capability sets, no_new_privs, seccomp mode, umask, resource
 *     limits, namespaces (mount, pid, net, user, ...), root directory and
 *     cgroups (runc's relative cgroupsPath is the caller's own cgroup's),
 *     taken from /proc/PID of the peer SO_PEERCRED names, which cannot lie;
 *   - its front is this build's binary (/proc/PID/exe), and this bundle has
 *     not been rebuilt since the resident started (then it also leaves);
 *   - the environment a command reads is the same (BERTH_*, NODE_OPTIONS,
 *     NOTIFY_SOCKET, XDG_RUNTIME_DIR, LISTEN_*);
 *   - the command is one whose every effect goes through the front or the
 *     state directory: state, list, create, start, run, exec, kill, delete,
 *     pause, resume. Executors are forked by the front, so the container is
 *     the caller's descendant and gets the caller's stdio and descriptors;
 *     locks are held by the front, so a command's exclusion is per process
 *     as before. Its output goes to the front as FRONT_OUTPUT, its signals
 *     come as FRONT_SIGNAL, its exit code as FRONT_BYE.
 *
 * A command line that finds no resident starts one after it answered its
 * caller (startResident). It leaves after BERTH_RUNTIME_RESIDENT seconds
 * without a command (default 60; 0: no resident is started or served).
 * Only root gets one: the directory is root's, 0700, its socket 0600.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { subscribe } from 'node:diagnostics_channel';
import { EventEmitter } from 'node:events';
import { chmodSync, ftruncateSync, openSync, statSync, unlinkSync, writeSync, type Stats } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { constants } from 'node:os';
import { join } from 'node:path';
import { buildDir } from '../../paths.ts';
import { Front } from '../../runtime/host/front.ts';
import { differentView, environmentDifference, handshake, type Hello } from '../resident/caller.ts';
import { type CommandSession, main } from './main.ts';
import { commandName, frontBinary, idleSeconds, ownDirectory, relevantEnvironment, residentSocketPath, SERVED } from './resident-start.ts';

interface CommandLog {
  warning?: (message: string) => void;
}

class Resident {
  readonly #server: Server;
  readonly #socketPath: string;
  readonly #idleMs: number;
  readonly #bundle: Stats;
  readonly #env = relevantEnvironment(Object.entries(process.env));
  readonly #logs = new AsyncLocalStorage<CommandLog>();
  #active = 0;
  #idle: NodeJS.Timeout | undefined;
  #leaving = false;

  constructor(socketPath: string, idleMs: number) {
    this.#socketPath = socketPath;
    this.#idleMs = idleMs;
    this.#bundle = statSync(bundlePath());
    this.#server = createServer((socket) => this.#connection(socket));
    // Every command's warnings reach the log of the command that caused them.
    subscribe('berth:runtime:warning', (m) => this.#logs.getStore()?.warning?.((m as { message: string }).message));
  }

  listen(): Promise<void> {
    return new Promise((resolve, reject) => {
      this.#server.once('error', reject);
      this.#server.listen(this.#socketPath, () => {
        this.#server.off('error', reject);
        this.#armIdle();
        resolve();
      });
    });
  }

  #armIdle(): void {
    clearTimeout(this.#idle);
    if (this.#active === 0) this.#idle = setTimeout(() => this.leave(), this.#idleMs);
  }

  /** Takes no more commands, removes the socket, and exits once the commands under way have ended. */
  leave(): void {
    if (!this.#leaving) {
      this.#leaving = true;
      this.#server.close();
      try {
        unlinkSync(this.#socketPath);
      } catch {
        // Gone already.
      }
    }
    if (this.#active === 0) process.exit(0);
  }

  #connection(socket: Socket): void {
    // Only a command served keeps the resident: callers it refuses do not, so a resident whose
    // environment is nobody's any more leaves and the next command starts one that fits.
    handshake(
      socket,
      (hello) => this.#refusal(socket, hello),
      (hello) => {
        this.#active++;
        clearTimeout(this.#idle);
        socket.once('close', () => {
          this.#active--;
          if (this.#leaving) this.leave();
          else this.#armIdle();
        });
        void this.#serve(socket, hello);
      },
    );
  }

  /** Why this command is not served here, or undefined when it is. */
  #refusal(socket: Socket, hello: Hello): string | undefined {
    if (this.#leaving) return 'the resident is leaving';
    try {
      const now = statSync(bundlePath());
      if (now.dev !== this.#bundle.dev || now.ino !== this.#bundle.ino || now.mtimeMs !== this.#bundle.mtimeMs) {
        this.leave();
        return 'the bundle was rebuilt';
      }
    } catch {
      this.leave();
      return 'the bundle is gone';
    }
    const command = commandName(hello.args);
    if (!SERVED.has(command)) return `"${command}" runs in its own process`;
    if (hello.args.includes('--help') || hello.args.includes('-h')) return 'help runs in its own process';
    const differ = environmentDifference(relevantEnvironment(hello.env), this.#env);
    if (differ.length > 0) return `the environment differs: ${differ.join(', ')}`;
    let peer: { pid: number; uid: number; gid: number };
    try {
      peer = peerOf(socket);
    } catch (err) {
      return `no peer credentials: ${(err as Error).message}`;
    }
    if (peer.uid !== process.geteuid?.() || peer.gid !== process.getegid?.()) return 'another user';
    return differentView(peer.pid, frontBinary());
  }

  async #serve(socket: Socket, hello: Hello): Promise<void> {
    const front = Front.overSocket(socket);
    const signals = new EventEmitter();
    front.onSignal = (n) => {
      const name = Object.entries(constants.signals).find(([, v]) => v === n)?.[0];
      if (name !== undefined) signals.emit(name);
    };
    const log: CommandLog = {};
    const session: CommandSession = {
      out: (text) => front.output(1, Buffer.from(text, 'utf8')),
      err: (text) => front.output(2, Buffer.from(text, 'utf8')),
      cwd: hello.cwd,
      host: front,
      signals,
      onWarning: (warning) => {
        log.warning = warning;
      },
    };
    let code: number;
    try {
      code = await this.#logs.run(log, () => main(hello.args, session));
    } catch (err) {
      session.err(`berth-runtime: ${(err as Error).message}\n`);
      code = 1;
    }
    front.bye(code);
    socket.end();
  }
}

let peerOf: (socket: Socket) => { pid: number; uid: number; gid: number };

function bundlePath(): string {
  return join(buildDir(), 'berth-runtime.bundle.cjs');
}

/** Runs as the resident (BERTH_RESIDENT_SERVE=1): takes this build's socket, or leaves when another resident has it. */
export async function serveResident(): Promise<void> {
  const idle = idleSeconds();
  if (idle === 0 || process.geteuid?.() !== 0) process.exit(0);
  const sys = await import('../../sys/peer.ts');
  peerOf = sys.peerCredentials;
  const { tryLockExclusive } = await import('../../sys/flock.ts');
  const socketPath = residentSocketPath();
  if (!ownDirectory()) process.exit(0);
  // One resident per build: the lock is held for the process's life (the kernel drops it at exit).
  const lock = openSync(`${socketPath.slice(0, -'.sock'.length)}.lock`, 'a', 0o600);
  // A resident that is still going away (its threads ending) lets go of the lock in a moment.
  for (let wait = 0; !tryLockExclusive(lock); wait += 50) {
    if (wait >= 1000) process.exit(0);
    await new Promise((r) => setTimeout(r, 50));
  }
  // Who holds it, for `run-tests` and the tests, which stop residents they leave.
  ftruncateSync(lock);
  writeSync(lock, `${process.pid}\n`);
  // One command's stray failure is reported in the resident's log, not the end of every command it serves.
  process.on('uncaughtException', (err) => process.stderr.write(`berth-runtime resident: ${err.stack ?? String(err)}\n`));
  process.on('unhandledRejection', (err) => process.stderr.write(`berth-runtime resident: unhandled rejection: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`));
  try {
    unlinkSync(socketPath);
  } catch {
    // None left by an earlier resident.
  }
  const resident = new Resident(socketPath, idle * 1000);
  process.once('SIGTERM', () => resident.leave());
  await resident.listen();
  chmodSync(socketPath, 0o600);
  const log = (line: string): void => void process.stderr.write(`${new Date().toISOString()} berth-runtime resident ${process.pid}: ${line}\n`);
  log(`listening on ${socketPath}`);
  process.once('exit', (code) => log(`leaving (exit code ${code})`));
}

