/**
 * berth-runtime: the OCI runtime with runc's command line, so podman,
 * containerd and cri-o can use it in runc's place.
 *
 *   berth-runtime [global options] COMMAND [options] [arguments]
 */
import { appendFileSync } from 'node:fs';
import { subscribe } from 'node:diagnostics_channel';
import { DirectWriter } from '../direct-write.ts';
import { describeError, invalidArgument, isBerthError } from '../../errors.ts';
import { Front } from '../../runtime/host/front.ts';
import { runtimeContext } from '../../runtime/lifecycle/context.ts';
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

function writeOut(text: string): void {
  stdout.write(text);
}

type Logger = (level: 'error' | 'warning' | 'debug', msg: string) => void;

function makeLogger(file: string | undefined, format: string, debug: boolean): Logger {
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
      stderr.write(`berth-runtime: ${level === 'error' ? '' : `${level}: `}${msg}\n`);
    }
  };
}

export async function main(argv: readonly string[]): Promise<number> {
  mark('main');
  let log: Logger = makeLogger(undefined, 'text', false);
  return runProgram(RUNTIME_PROGRAM, argv, {
    out: writeOut,
    onGlobals(g) {
      const format = g.str('log-format') ?? 'text';
      if (format !== 'text' && format !== 'json') throw invalidArgument('invalid_flag', `--log-format: "${format}" is not text or json`);
      log = makeLogger(g.str('log'), format, g.bool('debug'));
      subscribe('berth:runtime:warning', (m) => log('warning', (m as { message: string }).message));
    },
    context({ globals, path, input }) {
      mark(`command ${path.join(' ')} loaded`);
      if (globals.bool('systemd-cgroup')) {
        throw invalidArgument('systemd_cgroup', '--systemd-cgroup: berth-runtime manages cgroups through cgroupfs only (set cgroup_manager = "cgroupfs")');
      }
      log('debug', `${path.join(' ')} ${input.args.join(' ')}`);
      return {
        runtime: runtimeContext(globals.str('root') ?? defaultStateRoot(), Front.fromEnvironment()),
        debug: (m) => log('debug', m),
        out: writeOut,
      };
    },
    report(err) {
      log('error', describeError(err));
      if (!isBerthError(err) && err instanceof Error && err.stack) log('debug', err.stack);
    },
  });
}

/** Leaves with `code` once stdout has drained, without waiting for anything still referenced. */
export function exitWith(code: number): void {
  process.exitCode = code;
  // Only a stream that was used can hold output still: creating one to see it is empty loads the stream machinery.
  const stream = stdout.stream;
  if (stream === undefined || stream.writableLength === 0) process.exit(code);
  else stream.once('drain', () => process.exit(code));
}
