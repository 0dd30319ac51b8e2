/**
 * The command line's side of berth-runtime's front (native/front): the
 * small process the caller started, which forks the executors and holds the
 * locks on this process's behalf, so that a command loads neither
 * node:child_process nor koffi.
 *
 * One socket (its number in BERTH_FRONT_FD) carries frames both ways
 * (type:u32 len:u32 payload, the sync protocol's framing). Without node:net
 * a Node.js process cannot poll a descriptor, so the socket is read in the
 * thread pool, and only while an answer, an executor's messages or its exit
 * are awaited. A read still pending when the process exits would hold the
 * exit up: at exit the front gets FRONT_BYE and closes its end, which ends
 * that read.
 *
 * The resident command line (src/cli/berth-runtime/resident.ts) serves many
 * fronts, one connection each: there the socket is a node:net Socket read as
 * it comes, and the command's output and end go to the front as frames.
 */
import { fstatSync, read, writeSync } from 'node:fs';
import type { Socket } from 'node:net';
import { getSystemErrorName } from 'node:util';
import { internal } from '../../errors.ts';
import { Msg } from '../plan/opcodes.ts';
import { frame, FrameReader } from './frames.ts';
import { warmCgroupJoin } from '../cgroups/warm.ts';
import { type ExecutorLink, type ExitStatus, type LaunchRequest, type LockRelease, type RuntimeHost, standaloneHost } from './host.ts';

const READ_SIZE = 64 * 1024;
/** A lock answer when the front went away: no errno has this number. */
const LOST = -1_000_000;

interface Session {
  onMessage?: (type: number, payload: Buffer) => void;
  onEnd?: () => void;
  /** Lets the next launch go. */
  release: () => void;
  /** Messages that came before anybody listened. */
  early: [number, Buffer][];
  ended: boolean;
  closed: boolean;
}

/** The status waitpid(2) reported, as ChildProcess's exit event gives it (unknown: both null). */
export function decodeWaitStatus(status: number | undefined): ExitStatus {
  if (status === undefined) return { code: null, signal: null };
  const sig = status & 0x7f;
  if (sig === 0) return { code: (status >> 8) & 0xff, signal: null };
  const { constants } = process.getBuiltinModule('node:os');
  const name = Object.entries(constants.signals).find(([, n]) => n === sig)?.[0];
  return { code: null, signal: (name ?? null) as NodeJS.Signals | null };
}

let fromEnvironment: Front | null | undefined;

export class Front implements RuntimeHost {
  /** The front's socket: a descriptor of this process's own front, or a resident's connection. */
  readonly #fd: number;
  readonly #socket: Socket | undefined;
  /** FRONT_SIGNAL (a resident's front got a signal for the command). */
  onSignal: ((signal: number) => void) | undefined;
  readonly #reader = new FrameReader();
  #reading = false;
  #gone = false;
  /** Reasons to keep a read pending: answers, a session, exits awaited. */
  #demand = 0;
  readonly #lockAnswers: ((errno: number) => void)[] = [];
  /** A launch waiting for FRONT_STARTED; the messages right after it belong to its session. */
  #starting: { session: Session; onExit: (status: number | undefined) => void; resolve: (pid: number) => void } | undefined;
  #session: Session | undefined;
  readonly #exits = new Map<number, (status: number | undefined) => void>();
  /** The front relays one executor at a time: a launch waits for the session before it to end. */
  #idle: Promise<void> = Promise.resolve();

  /** The front keeps cgroup joins fast from its start (native/front); else this process does. */
  readonly #frontWarms: boolean;

  constructor(fd: number, frontWarms: boolean, socket?: Socket) {
    this.#fd = fd;
    this.#socket = socket;
    this.#frontWarms = frontWarms;
    if (socket !== undefined) {
      socket.on('data', (chunk: Buffer) => {
        if (!this.#reader.push(chunk, (type, payload) => this.#dispatch(type, payload))) this.#lost();
      });
      socket.on('close', () => this.#lost());
      socket.on('error', () => this.#lost());
      return;
    }
    // With the exit code, the front leaves at once: the caller need not wait for Node.js to tear down.
    process.once('exit', (code) => this.bye(code));
  }

  /** A resident's connection to a front that has said FRONT_GO: the front warms cgroup joins itself. */
  static overSocket(socket: Socket): Front {
    return new Front(-1, true, socket);
  }

  /** The command is over with this exit code: the front exits with it. */
  bye(code: number): void {
    const payload = Buffer.alloc(4);
    payload.writeInt32LE(code);
    this.#write(Msg.FRONT_BYE, payload);
  }

  /** The command's output, written by the front to its own stdout (1) or stderr (2). */
  output(fd: 1 | 2, bytes: Uint8Array): void {
    const payload = Buffer.allocUnsafe(4 + bytes.length);
    payload.writeUInt32LE(fd, 0);
    payload.set(bytes, 4);
    this.#write(Msg.FRONT_OUTPUT, payload);
  }

  /** Whether the front is still there to be told anything. */
  get connected(): boolean {
    return !this.#gone;
  }

  /** The front this process runs under, if any: BERTH_FRONT_FD names a socket. */
  static fromEnvironment(): Front | undefined {
    if (fromEnvironment === undefined) fromEnvironment = Front.#open() ?? null;
    return fromEnvironment ?? undefined;
  }

  static #open(): Front | undefined {
    const text = process.env['BERTH_FRONT_FD'];
    if (text === undefined) return undefined;
    delete process.env['BERTH_FRONT_FD'];
    const fd = Number(text);
    if (!Number.isInteger(fd) || fd < 3) return undefined;
    try {
      if (!fstatSync(fd).isSocket()) return undefined;
    } catch {
      return undefined;
    }
    const warming = process.env['BERTH_FRONT_WARMING'] === '1';
    delete process.env['BERTH_FRONT_WARMING'];
    return new Front(fd, warming);
  }

  async launch(request: LaunchRequest): Promise<ExecutorLink> {
    // The front's executors share its stdio; pipes need an executor of this process's own.
    if (request.stdio !== 'inherit') return standaloneHost().launch(request);
    const previous = this.#idle;
    let idle!: () => void;
    this.#idle = new Promise((resolve) => (idle = resolve));
    await previous;
    const session: Session = { early: [], ended: false, closed: false, release: idle };
    let onExit!: (status: number | undefined) => void;
    const exited = new Promise<number | undefined>((resolve) => (onExit = resolve)).then(decodeWaitStatus);
    // Nothing waits for FRONT_STARTED: the executor's messages come after it on the same socket.
    const pid = new Promise<number>((resolve, reject) => {
      this.#starting = {
        session,
        onExit,
        resolve: (answer) => {
          if (answer > 0) {
            resolve(answer);
            return;
          }
          idle();
          reject(internal('executor_spawn', `berth-runtime's front could not start an executor: ${answer < 0 ? getSystemErrorName(answer) : 'it went away'}`));
        },
      };
    });
    pid.catch(() => undefined);
    this.#want();
    const payload = Buffer.allocUnsafe(4 + request.plan.length);
    payload.writeUInt32LE(request.preserveFds, 0);
    payload.set(request.plan, 4);
    this.#write(Msg.FRONT_PLAN, payload);
    return {
      pid,
      exited,
      stdout: null,
      stderr: null,
      send: (type, payload) => {
        if (!session.ended && !session.closed) this.#write(type, payload);
      },
      listen: (onMessage, onEnd) => {
        session.onMessage = onMessage;
        session.onEnd = onEnd;
        for (const [type, payload] of session.early.splice(0)) if (!session.closed) onMessage(type, payload);
        if (session.ended && !session.closed) onEnd();
      },
      close: () => {
        session.closed = true;
      },
    };
  }

  warmCgroupJoin(): () => void {
    if (!this.#frontWarms) return warmCgroupJoin();
    let stopped = false;
    return () => {
      if (!stopped) {
        stopped = true;
        this.#write(Msg.FRONT_WARM_STOP, new Uint8Array(0));
      }
    };
  }

  async lockFile(path: string): Promise<LockRelease | 'busy' | 'missing'> {
    const answer = await new Promise<number>((resolve) => {
      this.#lockAnswers.push(resolve);
      this.#want();
      this.#write(Msg.FRONT_LOCK, Buffer.from(path, 'utf8'));
    });
    if (answer >= 0) {
      let released = false;
      return () => {
        if (!released) {
          released = true;
          const fd = Buffer.alloc(4);
          fd.writeInt32LE(answer);
          this.#write(Msg.FRONT_UNLOCK, fd);
        }
        return Promise.resolve();
      };
    }
    const name = answer === LOST ? 'the front went away' : getSystemErrorName(answer);
    if (name === 'EWOULDBLOCK' || name === 'EAGAIN' || name === 'ESTALE') return 'busy';
    if (name === 'ENOENT') return 'missing';
    throw internal('lock_failed', `lock ${JSON.stringify(path)}: ${name}`);
  }

  #write(type: number, payload: Uint8Array): void {
    if (this.#gone) return;
    const out = frame(type, payload);
    if (this.#socket !== undefined) {
      this.#socket.write(out);
      return;
    }
    try {
      for (let off = 0; off < out.length; ) off += writeSync(this.#fd, out, off);
    } catch {
      this.#lost();
    }
  }

  #want(): void {
    this.#demand++;
    this.#pump();
  }

  #done(): void {
    this.#demand--;
  }

  #pump(): void {
    // A resident's socket is read as data comes.
    if (this.#socket !== undefined) return;
    if (this.#reading || this.#gone || this.#demand <= 0) return;
    this.#reading = true;
    const chunk = Buffer.allocUnsafe(READ_SIZE);
    read(this.#fd, chunk, 0, READ_SIZE, null, (err, n) => {
      this.#reading = false;
      if (err || n === 0) {
        this.#lost();
        return;
      }
      if (!this.#reader.push(chunk.subarray(0, n), (type, payload) => this.#dispatch(type, payload))) {
        this.#lost();
        return;
      }
      this.#pump();
    });
  }

  #dispatch(type: number, payload: Buffer): void {
    switch (type) {
      case Msg.FRONT_LOCKED:
        this.#done();
        this.#lockAnswers.shift()?.(payload.readInt32LE(0));
        return;
      case Msg.FRONT_STARTED: {
        this.#done();
        const starting = this.#starting;
        this.#starting = undefined;
        if (!starting) return;
        const pid = payload.readInt32LE(0);
        if (pid > 0) {
          this.#session = starting.session;
          this.#want();
          this.#exits.set(pid, starting.onExit);
          this.#want();
        }
        starting.resolve(pid);
        return;
      }
      case Msg.FRONT_SESSION_END:
        this.#endSession();
        return;
      case Msg.FRONT_SIGNAL:
        if (payload.length === 4) this.onSignal?.(payload.readUInt32LE(0));
        return;
      case Msg.FRONT_EXIT: {
        const pid = payload.readInt32LE(0);
        const waiter = this.#exits.get(pid);
        if (waiter) {
          this.#exits.delete(pid);
          this.#done();
          waiter(payload.readInt32LE(4));
        }
        return;
      }
      default: {
        const s = this.#session;
        if (!s || s.closed) return;
        if (s.onMessage) s.onMessage(type, payload);
        else s.early.push([type, payload]);
      }
    }
  }

  #endSession(): void {
    const s = this.#session;
    if (!s) return;
    this.#session = undefined;
    this.#done();
    s.ended = true;
    s.release();
    if (!s.closed) s.onEnd?.();
  }

  /** The front went away (or spoke nonsense): everything awaited ends now. */
  #lost(): void {
    if (this.#gone) return;
    this.#gone = true;
    for (const answer of this.#lockAnswers.splice(0)) answer(LOST);
    this.#starting?.resolve(0);
    this.#starting = undefined;
    this.#endSession();
    for (const waiter of this.#exits.values()) waiter(undefined);
    this.#exits.clear();
    this.#demand = 0;
  }
}
