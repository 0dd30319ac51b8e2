/**
 * berth's commands run inside berthd: berth's client (native/client) asks
 * here first, on RUN-ROOT/cli.sock (root's, 0600), and a command berthd
 * takes runs in this process, which is up already, instead of a Node.js
 * started for it (issue 10: `berth run --rm` from the shell spent more in
 * Node.js's start-up than in the container's whole life).
 *
 * A command is taken only when running it here is the same as running it in
 * the caller's own process (src/cli/resident/caller.ts): the caller is root
 * and sees the system as berthd does, its client is this build's, its
 * global flags name this very daemon, the same BERTH_* and NODE_OPTIONS are
 * set; and the command needs nothing of the caller but its output, its
 * environment and its working directory, which the command gets in its
 * context: the container commands that take no input (run and create
 * without -i, -t; start without -a, -i; stop, restart, kill, rm, pause,
 * unpause, wait, rename, ps). Anything else is answered FRONT_FALLBACK and
 * the client starts the command line itself, as before.
 */
import { chmodSync, unlinkSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { countConnections, handleFd, listenOn } from '../../sys/listening.ts';
import { join, resolve } from 'node:path';
import { daemonPaths, type DaemonPaths } from '../../api/paths.ts';
import type { Logger } from '../../api/log.ts';
import { buildDir } from '../../paths.ts';
import { Front } from '../../runtime/host/front.ts';
import { differentView, environmentDifference, environmentOf, handshake, type Hello } from '../resident/caller.ts';
import { parseCommandLine } from '../framework/run.ts';
import type { Output } from '../berth/context.ts';
import { BERTH_PROGRAM } from '../berth/program.ts';

const RELEVANT_ENV = /^(BERTH_|NODE_OPTIONS$)/;
const SERVED = new Set(['run', 'create', 'start', 'stop', 'restart', 'kill', 'rm', 'pause', 'unpause', 'wait', 'rename', 'ps']);
/** Flags that make a command read the caller's terminal or stdin. */
const INTERACTIVE = ['interactive', 'tty', 'attach'];

export function cliSocketPath(paths: DaemonPaths): string {
  return join(paths.runRoot, 'cli.sock');
}

/** Why berthd does not run this command for its caller, or undefined when it does. */
export async function refusal(hello: Hello, paths: DaemonPaths, peer: () => { pid: number; uid: number; gid: number }): Promise<string | undefined> {
  const differ = environmentDifference(environmentOf(hello.env, RELEVANT_ENV), environmentOf(Object.entries(process.env), RELEVANT_ENV));
  if (differ.length > 0) return `the environment differs: ${differ.join(', ')}`;
  let invocation;
  try {
    invocation = await parseCommandLine(BERTH_PROGRAM, hello.args);
  } catch (err) {
    return `not a command: ${(err as Error).message}`;
  }
  if (invocation.kind !== 'command') return 'help and the version print in their own process';
  const { path, entry, globals, input } = invocation;
  if (!(path.length === 1 || (path.length === 2 && path[0] === 'container')) || !SERVED.has(entry.name)) return `"${path.join(' ')}" runs in its own process`;
  const interactive = INTERACTIVE.find((f) => input.bool(f));
  if (interactive !== undefined) return `--${interactive} reads the caller's terminal`;
  const at = (p: string | undefined): string | undefined => (p === undefined ? undefined : resolve(hello.cwd, p));
  const root = at(globals.str('root'));
  // The daemon the command would talk to, by the CLI's own defaults (its --root matters to the image store only).
  const named = daemonPaths({ runRoot: at(globals.str('run-root')), socket: at(globals.str('socket')) });
  if ((root !== undefined && root !== paths.root) || named.runRoot !== paths.runRoot || named.socket !== paths.socket) return 'another daemon is named';
  let cred;
  try {
    cred = peer();
  } catch (err) {
    return `no peer credentials: ${(err as Error).message}`;
  }
  if (cred.uid !== process.geteuid?.() || cred.gid !== process.getegid?.()) return 'another user';
  return differentView(cred.pid, join(buildDir(), 'berth-client'));
}

function sessionOutput(front: Front, fd: 1 | 2, tty: boolean, columns: number): Output {
  return {
    write: (text) => front.output(fd, Buffer.from(text, 'utf8')),
    bytes: (b) => front.output(fd, b),
    isTTY: tty,
    columns: columns || 80,
  };
}

export interface CliServer {
  close(): Promise<void>;
  /** Clients connected now (berthd sleeps only with none). */
  connections(): number;
  /** The listening descriptor (passed on when berthd sleeps). */
  fd(): number | undefined;
}

/** Listens on RUN-ROOT/cli.sock until closed; `inherited`: that socket, listening already (berthd woken from its sleep). */
export async function startCliServer(paths: DaemonPaths, logger: Logger, inherited?: number): Promise<CliServer> {
  const { peerCredentials } = await import('../../sys/peer.ts');
  const path = cliSocketPath(paths);
  if (inherited === undefined) {
    try {
      unlinkSync(path);
    } catch {
      // None left by an earlier daemon.
    }
  }
  const serveOne = async (socket: Socket, hello: Hello): Promise<void> => {
    const front = Front.overSocket(socket);
    const started = performance.now();
    let code: number;
    try {
      const { main } = await import('../berth/cli.ts');
      const env = Object.fromEntries(hello.env);
      code = await main(hello.args, sessionOutput(front, 1, hello.terminals[1], hello.columns), sessionOutput(front, 2, hello.terminals[2], hello.columns), env, hello.cwd);
    } catch (err) {
      front.output(2, Buffer.from(`berth: ${(err as Error).message}\n`, 'utf8'));
      code = 125;
    }
    logger.debug('client command', { args: hello.args.slice(0, 3), code, ms: Math.round(performance.now() - started) });
    front.bye(code);
    socket.end();
  };
  const server: Server = createServer((socket) => {
    handshake(
      socket,
      (hello) => refusal(hello, paths, () => peerCredentials(socket)),
      (hello) => void serveOne(socket, hello),
    );
  });
  const connections = countConnections(server);
  await listenOn(server, inherited ?? path);
  if (inherited === undefined) chmodSync(path, 0o600);
  return {
    connections,
    fd: () => handleFd(server),
    close: () =>
      new Promise<void>((done) => {
        server.close(() => done());
        try {
          unlinkSync(path);
        } catch {
          // Gone already.
        }
      }),
  };
}
