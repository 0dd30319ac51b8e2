/**
 * What a berth-runtime command needs to know of the resident command line
 * (resident.ts) without loading it: whether to start one, and where it
 * listens. Kept apart so a command's start-up loads no node:net.
 */
import { closeSync, lstatSync, mkdirSync, openSync, statSync, type Stats } from 'node:fs';
import { join } from 'node:path';
import { buildDir } from '../../paths.ts';
import { environmentOf } from '../resident/caller.ts';

export const RESIDENT_DIR = '/run/berth-runtime-resident';
const DEFAULT_IDLE_SECONDS = 60;

/** Commands whose every effect goes through the front or the state directory (see the header). */
export const SERVED = new Set(['state', 'list', 'create', 'start', 'run', 'exec', 'kill', 'delete', 'pause', 'resume']);
/** runc's global flags that take a value (the command's name is the first word past them). */
const VALUE_FLAGS = new Set(['--root', '--log', '--log-format', '--rootless', '--criu']);
/**
 * What the served commands read of the environment: berth's own settings, Node.js's options, and the
 * variables runc's callers pass on (systemd's). Not PATH: hooks and executors run by absolute path with
 * the environment the config gives them.
 */
const RELEVANT_ENV = /^(BERTH_|NODE_OPTIONS$|NOTIFY_SOCKET$|XDG_RUNTIME_DIR$|LISTEN_)/;

/** The command's name in runc's argv (past the global flags), or ''. */
export function commandName(args: readonly string[]): string {
  for (let i = 0; i < args.length; i++) {
    const a = args[i] ?? '';
    if (a === '--') return args[i + 1] ?? '';
    if (a.startsWith('-')) {
      if (!a.includes('=') && VALUE_FLAGS.has(a)) i++;
      continue;
    }
    return a;
  }
  return '';
}

/** How long a resident waits for a command before it leaves; 0: none is started. */
export function idleSeconds(env: NodeJS.ProcessEnv = process.env): number {
  const text = env['BERTH_RUNTIME_RESIDENT'];
  if (text === undefined || text === '') return DEFAULT_IDLE_SECONDS;
  const n = Number(text);
  return Number.isFinite(n) && n >= 0 ? n : DEFAULT_IDLE_SECONDS;
}

/** The environment variables a command reads (the front's own are not). */
export function relevantEnvironment(entries: Iterable<[string, string | undefined]>): Map<string, string> {
  const env = environmentOf(entries, RELEVANT_ENV);
  for (const k of env.keys()) if (k.startsWith('BERTH_FRONT_') || k === 'BERTH_RESIDENT_SERVE') env.delete(k);
  return env;
}

export function frontBinary(): string {
  return join(buildDir(), 'berth-runtime');
}

/** This build's socket: named by the front binary's device and inode, as native/front/front.c names it. */
export function residentSocketPath(front: Stats = statSync(frontBinary())): string {
  return join(RESIDENT_DIR, `${front.dev.toString(16)}-${front.ino.toString(16)}.sock`);
}

/** RESIDENT_DIR exists as root's own directory, 0700, and is no symlink: else no resident is started or served. */
export function ownDirectory(): boolean {
  try {
    mkdirSync(RESIDENT_DIR, { recursive: true, mode: 0o700 });
    const st = lstatSync(RESIDENT_DIR);
    return st.isDirectory() && st.uid === 0 && (st.mode & 0o077) === 0;
  } catch {
    return false;
  }
}

/**
 * After a command that found no resident (the front said BERTH_FRONT_RESIDENT=absent), one is
 * started for the next commands: detached, in its own session, logging to RESIDENT_DIR.
 */
export function wantsResident(args: readonly string[]): boolean {
  return process.env['BERTH_FRONT_RESIDENT'] === 'absent' && idleSeconds() > 0 && process.geteuid?.() === 0 && SERVED.has(commandName(args));
}

export function startResident(): void {
  try {
    const { spawn } = process.getBuiltinModule('node:child_process');
    if (!ownDirectory()) return;
    const log = openSync(`${residentSocketPath().slice(0, -'.sock'.length)}.log`, 'w', 0o600);
    const env: NodeJS.ProcessEnv = {};
    for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('BERTH_FRONT_')) env[k] = v;
    env['BERTH_RESIDENT_SERVE'] = '1';
    const child = spawn(process.execPath, [join(buildDir(), 'berth-runtime.cjs')], { detached: true, stdio: ['ignore', log, log], env, cwd: '/' });
    child.unref();
    closeSync(log);
  } catch {
    // Only the next command's speed depends on it.
  }
}
