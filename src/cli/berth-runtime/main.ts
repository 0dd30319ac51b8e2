/**
 * berth-runtime: the OCI runtime with runc's command line, so podman,
 * containerd and cri-o can use it in runc's place.
 *
 *   berth-runtime [global options] COMMAND [options] [arguments]
 */
import { appendFileSync } from 'node:fs';
import { subscribe } from 'node:diagnostics_channel';
import { resolve } from 'node:path';
import { DirectWriter } from '../direct-write.ts';
import { describeError, invalidArgument, isBerthError } from '../../errors.ts';
import { Front } from '../../runtime/host/front.ts';
import type { RuntimeHost } from '../../runtime/host/host.ts';
import { runtimeContext } from '../../runtime/lifecycle/context.ts';
import type { SignalSource } from '../../runtime/lifecycle/signals.ts';
import { DEFAULT_STATE_ROOT } from '../../runtime/state/store.ts';
import { runProgram } from '../framework/run.ts';
import { RUNTIME_PROGRAM } from './program.ts';
import { mark } from '../../trace.ts';

/** runc's choice: /run for root, the user's runtime directory otherwise. */
function defaultStateRoot(): string {
  const uid = process.geteuid?.() ?? 0;
  if (uid === 0) return DEFAULT_STATE_ROOT;
  const xdg = process.env['XDG_RUNTIME_DIR'];
  return xdg ? `${xdg}/berth-runtime` : `/tmp/berth-runtime-${uid}`;
}

const stdout = new DirectWriter(1, () => process.stdout);
const stderr = new DirectWriter(2, () => process.stderr);

/**
 * Where one command's input and output are: this process's own (a command
 * per process), or a resident's connection to the front that took it.
 */
export interface CommandSession {
  out: (text: string) => void;
  err: (text: string) => void;
  /** The caller's working directory: relative paths in flags are its. */
  cwd: string;
  /** Forks executors and holds locks: the front, or this process itself. */
  host: RuntimeHost | undefined;
  signals: SignalSource;
  /** Routes the runtime's warnings to this command's log (one subscription for the whole process). */
  onWarning: (log: (message: string) => void) => void;
}

function ownSession(): CommandSession {
  return {
    out: (text) => stdout.write(text),
    err: (text) => stderr.write(text),
    cwd: process.cwd(),
    host: Front.fromEnvironment(),
    signals: process,
    onWarning: (log) => subscribe('berth:runtime:warning', (m) => log((m as { message: string }).message)),
  };
}

type Logger = (level: 'error' | 'warning' | 'debug', msg: string) => void;

function makeLogger(err: (text: string) => void, file: string | undefined, format: string, debug: boolean): Logger {
  return (level, msg) => {
    if (level === 'debug' && !debug) return;
    if (file) {
      const line =
        format === 'json'
          ? JSON.stringify({ level, msg, time: new Date().toISOString() })
          : `time="${new Date().toISOString()}" level=${level} msg=${JSON.stringify(msg)}`;
      try {
        appendFileSync(file, `${line}\n`);
      } catch {
        // The log is best effort; stderr still gets errors.
      }
    }
    if (level === 'error' || (level === 'warning' && !file) || (level === 'debug' && !file)) {
      err(`berth-runtime: ${level === 'error' ? '' : `${level}: `}${msg}\n`);
    }
  };
}

export async function main(argv: readonly string[], session: CommandSession = ownSession()): Promise<number> {
  mark('main');
  const absolute = (p: string): string => resolve(session.cwd, p);
  let log: Logger = makeLogger(session.err, undefined, 'text', false);
  return runProgram(RUNTIME_PROGRAM, argv, {
    out: session.out,
    onGlobals(g) {
      const format = g.str('log-format') ?? 'text';
      if (format !== 'text' && format !== 'json') throw invalidArgument('invalid_flag', `--log-format: "${format}" is not text or json`);
      const file = g.str('log');
      log = makeLogger(session.err, file === undefined ? undefined : absolute(file), format, g.bool('debug'));
      session.onWarning((message) => log('warning', message));
    },
    context({ globals, path, input }) {
      mark(`command ${path.join(' ')} loaded`);
      if (globals.bool('systemd-cgroup')) {
        throw invalidArgument('systemd_cgroup', '--systemd-cgroup: berth-runtime manages cgroups through cgroupfs only (set cgroup_manager = "cgroupfs")');
      }
      log('debug', `${path.join(' ')} ${input.args.join(' ')}`);
      const root = globals.str('root');
      const runtime = runtimeContext(root === undefined ? defaultStateRoot() : absolute(root), session.host);
      runtime.signals = session.signals;
      return { runtime, debug: (m) => log('debug', m), out: session.out, path: absolute };
    },
    report(err) {
      log('error', describeError(err));
      if (!isBerthError(err) && err instanceof Error && err.stack) log('debug', err.stack);
    },
  });
}

/**
 * Leaves with `code` once stdout has drained, without waiting for anything still referenced;
 * `after` runs once the caller has its answer (the front has exited with the code).
 */
export function exitWith(code: number, after?: () => void): void {
  process.exitCode = code;
  const leave = (): void => {
    if (after !== undefined) {
      Front.fromEnvironment()?.bye(code);
      after();
    }
    process.exit(code);
  };
  // Only a stream that was used can hold output still: creating one to see it is empty loads the stream machinery.
  const stream = stdout.stream;
  if (stream === undefined || stream.writableLength === 0) leave();
  else stream.once('drain', leave);
}
