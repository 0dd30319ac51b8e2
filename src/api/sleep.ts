/**
 * berthd sleeps when it has nothing to do, as podman's API service exits
 * when idle under socket activation: a daemon with no container running
 * holds ~70 MiB of Node.js for nothing. After `afterMs` in which nothing
 * needed it (no container running or being made, no restart due, no
 * function deployed, no async call owed, no client connected, the network
 * pool's refill done), this process becomes berth-idle (native/idle, a
 * static program, ~0.7 MiB resident) by execve: the same pid, so its
 * lock file, a supervisor and `berth system stop` still name it. berth-idle
 * holds the listening sockets and the lock, and at the first connection on
 * any of them runs berthd again in its place with them (systemd's socket
 * activation protocol, src/api/activation.ts); the connection waits in the
 * socket's queue meanwhile and is served by the woken daemon. Nothing is
 * lost by sleeping: every state berthd keeps is on disk, and its pool's
 * namespaces are kept for the woken daemon (NetworkLayerOptions.keepPooled).
 *
 *   const sleeper = new Sleeper({ afterMs: 60_000, logger, program, parts });
 *   sleeper.start();   // checks once a second; stop() before shutting down
 *
 * The last check and the exec are one synchronous step, so no connection
 * is accepted between them; one that comes while the gateway's relay is
 * being stopped (`prepare`) is served by Node.js, and the sleep waits for
 * the next idle period.
 */
import { join } from 'node:path';
import { describeError } from '../errors.ts';
import { buildDir } from '../paths.ts';
import type * as SysExec from '../sys/exec.ts';
import type { Logger } from './log.ts';

export interface SleepParts {
  /** Why the daemon cannot sleep now; undefined when it can. */
  busy(): string | undefined;
  /** Just before sleeping: what must not outlive this Node.js stopped (the gateway's relay); the daemon serves on if it is busy again. */
  prepare(): Promise<void>;
  /** What berth-idle keeps: a connection on a watched one wakes the daemon; the others (the lock) are only kept. */
  descriptors(): { name: string; fd: number; watch: boolean }[];
}

export interface SleepOptions {
  /** Idle this long, the daemon sleeps (berthd --sleep-after; 0: never). */
  afterMs: number;
  logger: Logger;
  parts: SleepParts;
  /** berth-idle (default: build/berth-idle beside the bundle). */
  program?: string;
}

/** berthd's default --sleep-after: a minute without anything to do. */
export const DEFAULT_SLEEP_AFTER_MS = 60_000;

export class Sleeper {
  private readonly o: SleepOptions;
  private idleSince = Date.now();
  private timer: NodeJS.Timeout | undefined;
  private trying = false;

  constructor(o: SleepOptions) {
    this.o = o;
  }

  start(): void {
    if (this.o.afterMs <= 0 || this.timer !== undefined) return;
    this.idleSince = Date.now();
    this.timer = setInterval(() => void this.check(), Math.min(1000, this.o.afterMs));
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  private async check(): Promise<void> {
    if (this.trying || this.timer === undefined) return;
    const now = Date.now();
    if (this.o.parts.busy() !== undefined) {
      this.idleSince = now;
      return;
    }
    if (now - this.idleSince < this.o.afterMs) return;
    this.trying = true;
    try {
      // Loaded here: koffi costs ~20 ms, which only a daemon about to sleep pays.
      const exec = await import('../sys/exec.ts');
      await this.o.parts.prepare();
      if (this.timer === undefined) return;
      const why = this.o.parts.busy();
      if (why !== undefined) {
        this.o.logger.debug('berthd stays awake', { reason: why });
        this.idleSince = Date.now();
        return;
      }
      this.sleep(exec);
    } catch (err) {
      this.o.logger.warn('berthd could not sleep; it stays awake', { err: describeError(err) });
      this.idleSince = Date.now();
    } finally {
      this.trying = false;
    }
  }

  /** Becomes berth-idle; returns only by throwing, with nothing changed. */
  private sleep({ execInPlace, setCloseOnExec }: typeof SysExec): void {
    const program = this.o.program ?? join(buildDir(), 'berth-idle');
    const fds = this.o.parts.descriptors();
    const args = [
      program,
      ...fds.flatMap((d) => (d.watch ? [`${d.name}=${d.fd}`] : ['--hold', `${d.name}=${d.fd}`])),
      '--',
      process.execPath,
      ...process.execArgv,
      ...process.argv.slice(1),
    ];
    // The daemon's standard streams too (its log): Node.js marks them close-on-exec.
    const kept = [0, 1, 2, ...fds.map((d) => d.fd)];
    const before = kept.map((fd) => setCloseOnExec(fd, false));
    this.o.logger.info('berthd sleeping: berth-idle holds its sockets until a connection wakes it', {
      pid: process.pid,
      idleSeconds: Math.round((Date.now() - this.idleSince) / 1000),
      sockets: fds.filter((d) => d.watch).map((d) => d.name),
    });
    try {
      execInPlace(program, args, process.env);
    } catch (err) {
      kept.forEach((fd, i) => setCloseOnExec(fd, before[i] ?? true));
      throw err;
    }
  }
}
