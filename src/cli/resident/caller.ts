/**
 * What a resident command line (berth-runtime's resident, berthd's command
 * socket) learns of a caller before it takes a command: the hello that
 * native/common/resident.c sends, whether the caller sees the system as the
 * resident does, and how their environments differ. A command runs in the
 * resident only when running it there is the same as running it in the
 * caller's own Node.js process.
 */
import { readFileSync, readlinkSync, statSync, type Stats } from 'node:fs';
import type { Socket } from 'node:net';
import { FrameReader, frame } from '../../runtime/host/frames.ts';
import { Msg } from '../../runtime/plan/opcodes.ts';

/** FRONT_HELLO's version (native/common/resident.c). */
export const VERSION = 2;
const HEAD = 24;
/** A caller that connects and says nothing is dropped after this. */
const HELLO_TIMEOUT_MS = 2000;
const STATUS_FIELDS = ['Uid', 'Gid', 'Groups', 'CapInh', 'CapPrm', 'CapEff', 'CapBnd', 'CapAmb', 'NoNewPrivs', 'Seccomp', 'Umask'];
const NAMESPACES = ['cgroup', 'ipc', 'mnt', 'net', 'pid', 'time', 'user', 'uts'];

export interface Hello {
  cwd: string;
  args: string[];
  env: [string, string][];
  /** Which of the caller's stdin, stdout and stderr are terminals. */
  terminals: [boolean, boolean, boolean];
  /** The terminal's size (0 without one). */
  columns: number;
  rows: number;
}

export function parseHello(payload: Buffer): Hello | string {
  if (payload.length < HEAD) return 'short hello';
  const version = payload.readUInt32LE(0);
  if (version !== VERSION) return `protocol ${version}, not ${VERSION}`;
  const argc = payload.readUInt32LE(4);
  const envc = payload.readUInt32LE(8);
  const ttys = payload.readUInt32LE(12);
  const strings = payload.subarray(HEAD).toString('utf8').split('\0');
  // Each string ends with a NUL: the split leaves one empty string after the last.
  if (strings.length !== 1 + argc + envc + 1 || strings[strings.length - 1] !== '') return 'malformed hello';
  const [cwd = '', ...rest] = strings;
  const env = rest.slice(argc, argc + envc).map((e): [string, string] => {
    const eq = e.indexOf('=');
    return eq < 0 ? [e, ''] : [e.slice(0, eq), e.slice(eq + 1)];
  });
  return {
    cwd,
    args: rest.slice(0, argc),
    env,
    terminals: [(ttys & 1) !== 0, (ttys & 2) !== 0, (ttys & 4) !== 0],
    columns: payload.readUInt32LE(16),
    rows: payload.readUInt32LE(20),
  };
}

/** The variables of `entries` whose names match `relevant`. */
export function environmentOf(entries: Iterable<[string, string | undefined]>, relevant: RegExp): Map<string, string> {
  return new Map([...entries].filter((e): e is [string, string] => e[1] !== undefined && relevant.test(e[0])));
}

/** The names of the variables whose values differ between two environments. */
export function environmentDifference(a: Map<string, string>, b: Map<string, string>): string[] {
  return [...new Set([...a.keys(), ...b.keys()])].filter((k) => a.get(k) !== b.get(k)).sort();
}

function statusFields(text: string): string {
  return text
    .split('\n')
    .filter((line) => STATUS_FIELDS.includes(line.slice(0, line.indexOf(':'))))
    .join('\n');
}

function sameFile(a: Stats, b: Stats): boolean {
  return a.dev === b.dev && a.ino === b.ino;
}

/**
 * Why the process `pid` does not see the system as this one does (user, groups, capability sets,
 * no_new_privs, seccomp, umask, namespaces, root directory, cgroups, resource limits) or does not run
 * `program`; undefined when it does.
 */
export function differentView(pid: number, program: string): string | undefined {
  const proc = `/proc/${pid}`;
  try {
    if (statusFields(readFileSync(`${proc}/status`, 'latin1')) !== statusFields(readFileSync('/proc/self/status', 'latin1'))) {
      return 'credentials, capabilities, no_new_privs, seccomp or umask differ';
    }
    for (const ns of NAMESPACES) {
      let theirs: string | undefined;
      let ours: string | undefined;
      try {
        theirs = readlinkSync(`${proc}/ns/${ns}`);
        ours = readlinkSync(`/proc/self/ns/${ns}`);
      } catch {
        // A kernel without this namespace type: both lack it.
      }
      if (theirs !== ours) return `${ns} namespace differs`;
    }
    if (!sameFile(statSync(`${proc}/root`), statSync('/'))) return 'root directory differs';
    if (readFileSync(`${proc}/cgroup`, 'latin1') !== readFileSync('/proc/self/cgroup', 'latin1')) return 'cgroups differ';
    if (readFileSync(`${proc}/limits`, 'latin1') !== readFileSync('/proc/self/limits', 'latin1')) return 'resource limits differ';
    if (!sameFile(statSync(`${proc}/exe`), statSync(program))) return `not ${program}`;
  } catch (err) {
    return `cannot read ${proc}: ${(err as Error).message}`;
  }
  return undefined;
}

/**
 * The handshake on a new connection: FRONT_HELLO, answered FRONT_FALLBACK with the reason `refusal`
 * gives, or FRONT_ACCEPT; on FRONT_GO, `serve` gets the socket (with what came after, unread) and
 * the caller waits for its FRONT_BYE.
 */
export function handshake(socket: Socket, refusal: (hello: Hello) => string | undefined | Promise<string | undefined>, serve: (hello: Hello) => void): void {
  socket.on('error', () => socket.destroy());
  const timer = setTimeout(() => socket.destroy(), HELLO_TIMEOUT_MS);
  socket.once('close', () => clearTimeout(timer));
  const reader = new FrameReader();
  let hello: Hello | undefined;
  let go = false;
  const decide = async (parsed: Hello | string): Promise<void> => {
    let why: string | undefined;
    try {
      why = typeof parsed === 'string' ? parsed : await refusal(parsed);
    } catch (err) {
      why = `cannot decide: ${(err as Error).message}`;
    }
    if (typeof parsed === 'string' || why !== undefined) {
      socket.end(frame(Msg.FRONT_FALLBACK, Buffer.from(why ?? '', 'utf8')));
      return;
    }
    hello = parsed;
    socket.write(frame(Msg.FRONT_ACCEPT, Buffer.alloc(0)));
  };
  let asked = false;
  const onData = (chunk: Buffer): void => {
    const ok = reader.push(chunk, (type, payload) => {
      if (!asked && type === Msg.FRONT_HELLO) {
        asked = true;
        void decide(parseHello(payload));
        return true;
      }
      if (hello !== undefined && type === Msg.FRONT_GO) {
        go = true;
        return false;
      }
      socket.destroy();
      return false;
    });
    if (!ok) socket.destroy();
    if (go && hello !== undefined) {
      clearTimeout(timer);
      socket.off('data', onData);
      const rest = reader.rest();
      if (rest.length > 0) socket.unshift(rest);
      serve(hello);
    }
  };
  socket.on('data', onData);
}
