/**
 * berth-runtime: the OCI runtime with runc's command line, so podman,
 * containerd and cri-o can use it in runc's place.
 *
 *   berth-runtime [global options] COMMAND [options] [arguments]
 */
import { appendFileSync } from 'node:fs';
import { subscribe } from 'node:diagnostics_channel';
import { bool, flagHelp, parseFlags, str } from '../args.ts';
import { DirectWriter } from '../direct-write.ts';
import { GLOBAL_FLAGS } from './global-flags.ts';
import { describeError, exitCodeFor, invalidArgument, isBerthError } from '../../errors.ts';
import { RUNTIME_SPEC_VERSION } from '../../oci/runtime-spec.ts';
import { BERTH_VERSION } from '../../runtime/features.ts';
import { Front } from '../../runtime/host/front.ts';
import { runtimeContext } from '../../runtime/lifecycle/context.ts';
import { DEFAULT_STATE_ROOT } from '../../runtime/state/store.ts';
import type { Command, CommandContext } from './command.ts';
import { mark } from '../../trace.ts';

/** Commands load on demand: `state` need not parse what `create` uses. */
interface CommandEntry {
  name: string;
  description: string;
  load: () => Promise<Command>;
}

const COMMANDS: CommandEntry[] = [
  { name: 'create', description: 'create a container that waits for start', load: async () => (await import('./commands/create.ts')).default },
  { name: 'start', description: 'start a created container', load: async () => (await import('./commands/start.ts')).default },
  { name: 'state', description: 'print the state of a container (runtime-spec JSON)', load: async () => (await import('./commands/state.ts')).default },
  { name: 'kill', description: 'send a signal (default SIGTERM) to the container', load: async () => (await import('./commands/kill.ts')).default },
  { name: 'delete', description: 'delete a container and what the runtime holds for it', load: async () => (await import('./commands/delete.ts')).default },
  { name: 'run', description: 'create and start a container; in the foreground, exit with its status', load: async () => (await import('./commands/run.ts')).default },
  { name: 'list', description: 'list containers', load: async () => (await import('./commands/list.ts')).default },
  { name: 'ps', description: 'list the processes of a container', load: async () => (await import('./commands/ps.ts')).default },
  { name: 'exec', description: 'run another process in a running container', load: async () => (await import('./commands/exec.ts')).default },
  { name: 'pause', description: 'freeze every process of the container', load: async () => (await import('./commands/pause.ts')).pauseCommand },
  { name: 'resume', description: 'thaw a paused container', load: async () => (await import('./commands/pause.ts')).resumeCommand },
  { name: 'events', description: 'print resource usage and OOM kills of a container as JSON lines', load: async () => (await import('./commands/events.ts')).default },
  { name: 'update', description: 'change the resource limits of a running container', load: async () => (await import('./commands/update.ts')).default },
  { name: 'spec', description: 'write a default config.json into the bundle directory', load: async () => (await import('./commands/spec.ts')).default },
  { name: 'features', description: 'print what berth-runtime implements (runtime-spec features JSON)', load: async () => (await import('./commands/features.ts')).default },
];


function usage(): string {
  return [
    'berth-runtime: an OCI runtime (runc\'s command line)',
    '',
    'Usage: berth-runtime [global options] COMMAND [options] [arguments]',
    '',
    'Commands:',
    ...COMMANDS.map((c) => `   ${c.name.padEnd(10)} ${c.description}`),
    '',
    'Global options:',
    flagHelp(GLOBAL_FLAGS),
    '',
  ].join('\n');
}

function commandUsage(c: Command): string {
  return [`Usage: berth-runtime ${c.usage}`, '', c.description, '', ...(c.flags.length ? ['Options:', flagHelp(c.flags), ''] : [])].join('\n');
}

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
  try {
    const global = parseFlags(argv, GLOBAL_FLAGS, 'berth-runtime');
    const g = global.flags;
    const format = str(g, 'log-format') ?? 'text';
    if (format !== 'text' && format !== 'json') throw invalidArgument('invalid_flag', `--log-format: "${format}" is not text or json`);
    log = makeLogger(str(g, 'log'), format, bool(g, 'debug'));
    subscribe('berth:runtime:warning', (m) => log('warning', (m as { message: string }).message));
    if (bool(g, 'version')) {
      writeOut(`berth-runtime version ${BERTH_VERSION}\nspec: ${RUNTIME_SPEC_VERSION}\nnode: ${process.version}\n`);
      return 0;
    }
    const [name, ...rest] = global.rest;
    if (!name || name === 'help' || bool(g, 'help')) {
      const c = COMMANDS.find((x) => x.name === rest[0]);
      writeOut(c ? commandUsage(await c.load()) : usage());
      return name || bool(g, 'help') ? 0 : 2;
    }
    if (bool(g, 'systemd-cgroup')) {
      throw invalidArgument('systemd_cgroup', '--systemd-cgroup: berth-runtime manages cgroups through cgroupfs only (set cgroup_manager = "cgroupfs")');
    }
    const entry = COMMANDS.find((c) => c.name === name);
    if (!entry) throw invalidArgument('unknown_command', `"${name}" is not a berth-runtime command (see berth-runtime --help)`);
    const command = await entry.load();
    mark(`command ${entry.name} loaded`);
    if (rest.includes('--help') || rest.includes('-h')) {
      const parsedHelp = parseFlags(rest, [...command.flags, { name: 'help', short: 'h', type: 'bool', help: '' }], command.name);
      if (bool(parsedHelp.flags, 'help')) {
        writeOut(commandUsage(command));
        return 0;
      }
    }
    const parsed = parseFlags(rest, command.flags, command.name);
    const ctx: CommandContext = {
      runtime: runtimeContext(str(g, 'root') ?? defaultStateRoot(), Front.fromEnvironment()),
      debug: (m) => log('debug', m),
      out: writeOut,
    };
    log('debug', `${command.name} ${parsed.rest.join(' ')}`);
    return await command.run(ctx, parsed);
  } catch (err) {
    log('error', describeError(err));
    if (!isBerthError(err) && err instanceof Error && err.stack) log('debug', err.stack);
    return exitCodeFor(err);
  }
}

/** Leaves with `code` once stdout has drained, without waiting for anything still referenced. */
export function exitWith(code: number): void {
  process.exitCode = code;
  // Only a stream that was used can hold output still: creating one to see it is empty loads the stream machinery.
  const stream = stdout.stream;
  if (stream === undefined || stream.writableLength === 0) process.exit(code);
  else stream.once('drain', () => process.exit(code));
}
