/**
 * A real berthd on a private root, run root and socket (never
 * /var/lib/berth or /run/berth), with busybox imported first, and a runner
 * of the real `berth` command line against it, for the CLI's integration
 * tests. One daemon per test file: files stay independent and can run in
 * parallel. `stop()` (from `after`) removes every container the daemon
 * knows (killing what runs), stops the daemon, lets the engine library
 * undo anything half made, and deletes both roots, also after a failure.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { closeSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ApiClient } from '../../src/api/client.ts';
import { delay } from '../../src/delay.ts';
import { Engine } from '../../src/engine/engine.ts';
import { openEngineDatabase } from '../../src/engine/store/db.ts';
import { removeNetworkRules } from '../../src/network/firewall.ts';
import { NetworkLayer } from '../../src/network/layer.ts';
import { ImageStore } from '../../src/image/store/store.ts';
import { importBusybox } from './engine.ts';
import { freeBip } from './test-network.ts';
import { REPO } from './runtime.ts';

export const BERTH = join(REPO, 'bin', 'berth');
export const BERTHD = join(REPO, 'bin', 'berthd');

export interface CliResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export interface CliOptions {
  /** Written to the command's stdin, which then closes (default: stdin closed at once). */
  input?: string;
  env?: NodeJS.ProcessEnv;
  /** Killed (SIGKILL) past this; the result then has signal set (default 60 s). */
  timeoutMs?: number;
  /** The command's working directory (default the test's). */
  cwd?: string;
}

export interface TestDaemon {
  root: string;
  runRoot: string;
  socket: string;
  /** A client of the daemon's API, for what the CLI cannot show (and cleanup). */
  client: ApiClient;
  /** Runs `bin/berth --root R --run-root RR ARGS...`. */
  berth(args: readonly string[], options?: CliOptions): Promise<CliResult>;
  /** Like berth(), failing the test (with both outputs) when the exit code is not 0. */
  ok(args: readonly string[], options?: CliOptions): Promise<string>;
  /** Starts `berth ARGS` without waiting (follow, attach, events); the caller ends it. */
  spawn(args: readonly string[]): ChildProcess;
  /** A scratch directory under the daemon's base, removed by stop(). */
  scratch: string;
  /** The default network's bridge and its gateway/prefix (each test daemon has its own). */
  bridge: string;
  bip: string;
  /** The functions gateway's base URL (`http://127.0.0.1:PORT`) when started with `gateway`; it changes at restart(). */
  gateway: string | undefined;
  /** The daemon's log so far (JSON lines), for what a test shows or looks for. */
  log(): string;
  /** berthd's process ID (for what a test reads in /proc/PID); it changes at restart(). */
  readonly pid: number | undefined;
  /** kill -9 of berthd (its containers keep running under their monitors). */
  kill9(): Promise<void>;
  /** Starts berthd again on the same roots and waits until it answers (it recovers first). */
  restart(): Promise<void>;
  stop(): Promise<void>;
}

/** Runs a command to its exit, collecting its output. */
export function runCommand(cmd: string, args: readonly string[], options: CliOptions = {}): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    // Its own process group: a timeout kills whatever it started too (a shell's children hold the pipes).
    const child = spawn(cmd, args, { stdio: ['pipe', 'pipe', 'pipe'], env: options.env ?? process.env, detached: true, ...(options.cwd === undefined ? {} : { cwd: options.cwd }) });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (b: Buffer) => out.push(b));
    child.stderr.on('data', (b: Buffer) => err.push(b));
    child.stdin.on('error', () => undefined);
    child.stdin.end(options.input ?? '');
    const timer = setTimeout(() => {
      try {
        process.kill(-child.pid!, 'SIGKILL');
      } catch {
        // gone already
      }
    }, options.timeoutMs ?? 60_000);
    child.on('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout: Buffer.concat(out).toString(), stderr: Buffer.concat(err).toString() });
    });
  });
}

/** A one-line account of a command's result, for assertion messages. */
export function show(r: CliResult): string {
  return `exit ${r.code}${r.signal ? ` (${r.signal})` : ''}\n--- stdout\n${r.stdout}--- stderr\n${r.stderr}`;
}

/** Polls `probe` until it returns a value other than undefined, or fails after `ms`. */
export async function until<T>(what: string, probe: () => T | undefined | Promise<T | undefined>, ms = 20_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await probe();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await delay(25);
  }
}

/** What the daemon's networks left on the host once it is gone: their bridges and isolation rules. */
async function removeNetworks(root: string): Promise<void> {
  const db = openEngineDatabase(join(root, 'berth.db'));
  try {
    const { NetworkStore } = await import('../../src/network/networks.ts');
    for (const n of new NetworkStore(db).list()) {
      try {
        execFileSync('ip', ['link', 'del', n.bridge], { stdio: 'ignore' });
      } catch {
        // never made
      }
      await removeNetworkRules(n);
    }
  } finally {
    db.close();
  }
}

export interface DaemonOptions {
  networkPool?: number;
  /** berthd's --log-level (default debug, for a failing test's account). */
  logLevel?: string;
  /** Starts the functions gateway on a free loopback port (berthd --gateway 127.0.0.1:0). */
  gateway?: boolean;
  /** More images put into the store before the daemon starts (busybox is always there). */
  prepare?: (images: ImageStore, scratch: string) => Promise<void>;
  /** More berthd flags (after the others), e.g. the async queue's limits. */
  args?: readonly string[];
}

/** The gateway's address, from the line berthd logs when it listens (port 0 chooses a free one). */
function gatewayFromLog(log: string, after: number): string | undefined {
  for (const line of log.slice(after).split('\n')) {
    if (!line.includes('"gateway listening"')) continue;
    const f = JSON.parse(line) as { host?: string; port?: number };
    return `http://${f.host}:${f.port}`;
  }
  return undefined;
}

export async function startDaemon(options: DaemonOptions = {}): Promise<TestDaemon> {
  const base = mkdtempSync(join(tmpdir(), 'berth-cli-'));
  const bridge = `bd${randomBytes(4).toString('hex')}`;
  const bip = freeBip('10.215');
  const root = join(base, 'root');
  const scratch = join(base, 'scratch');
  // Short: the monitor's attach socket (RUNROOT/containers/ID/attach) must fit a sockaddr_un's 108 bytes.
  const runRoot = mkdtempSync('/tmp/br-');
  const socket = join(runRoot, 'berth.sock');
  const client = new ApiClient(socket);
  let daemon: ChildProcess | undefined;
  const logPath = join(base, 'berthd.out');

  let gateway: string | undefined;
  const readLog = (): string => {
    try {
      return readFileSync(logPath, 'utf8');
    } catch {
      return '';
    }
  };

  const launch = async (): Promise<void> => {
    const fd = openSync(logPath, 'a');
    const net = ['--bridge', bridge, '--bip', bip, '--network-pool', String(options.networkPool ?? 0)];
    const logStart = readLog().length;
    const gw = ['--gateway', options.gateway === true ? '127.0.0.1:0' : 'off'];
    // Awake for good unless a test asks (src/api/sleep.ts): a sleep between two steps would only slow them.
    const sleep = options.args?.includes('--sleep-after') === true ? [] : ['--sleep-after', '0'];
    daemon = spawn(BERTHD, ['--root', root, '--run-root', runRoot, '--socket', socket, '--log-level', options.logLevel ?? 'debug', ...net, ...gw, ...sleep, ...(options.args ?? [])], { stdio: ['ignore', fd, fd] });
    closeSync(fd);
    const started = daemon;
    await until('berthd to answer on its socket', async () => {
      if (started.exitCode !== null) throw new Error(`berthd exited with ${started.exitCode}: ${readFileSync(logPath, 'utf8')}`);
      return (await client.ping(1_000)) ? true : undefined;
    }, 30_000);
    if (options.gateway === true) gateway = await until('the gateway to listen', () => gatewayFromLog(readLog(), logStart), 10_000);
  };

  const stop = async (): Promise<void> => {
    if (daemon !== undefined && daemon.exitCode === null && daemon.signalCode === null) {
      try {
        const list = (await client.json('GET', '/containers/json', { query: { all: true } })) as { Id: string }[];
        for (const c of list) await client.request('DELETE', `/containers/${c.Id}`, { query: { force: true, v: true } });
      } catch {
        // The engine library below removes what is left.
      }
      const exited = new Promise((r) => daemon!.once('exit', r));
      daemon.kill('SIGTERM');
      const timer = setTimeout(() => daemon!.kill('SIGKILL'), 15_000);
      await exited;
      clearTimeout(timer);
    }
    // Whatever the daemon left (a container it could not remove, a crash): the library removes it.
    try {
      const images = await ImageStore.open({ root });
      const engine = await Engine.open({ root, runRoot, images, network: (db, paths) => new NetworkLayer(db, { ...paths, poolSize: 0 }) });
      // recover() first: it watches what still runs (a replica the gateway made after the API's removals), so a removal sees its exit.
      await engine.recover().catch(() => undefined);
      for (const r of engine.containers.list()) await engine.remove(r.id, { force: true, volumes: true }).catch(() => undefined);
      await engine.recover().catch(() => undefined);
      await engine.shutdown();
      images.close();
      await removeNetworks(root);
    } finally {
      rmSync(runRoot, { recursive: true, force: true });
      rmSync(base, { recursive: true, force: true });
    }
  };

  try {
    const images = await ImageStore.open({ root });
    try {
      await importBusybox(images, join(base, 'import'));
      await options.prepare?.(images, join(base, 'prepare'));
    } finally {
      images.close();
      rmSync(join(base, 'import'), { recursive: true, force: true });
      rmSync(join(base, 'prepare'), { recursive: true, force: true });
    }
    mkdirSync(scratch);
    await launch();
  } catch (err) {
    await stop();
    throw err;
  }

  const globals = ['--root', root, '--run-root', runRoot, '--socket', socket];
  const berth = (args: readonly string[], options?: CliOptions): Promise<CliResult> => runCommand(BERTH, [...globals, ...args], options);
  return {
    root,
    runRoot,
    socket,
    client,
    scratch,
    berth,
    async ok(args, options) {
      const r = await berth(args, options);
      if (r.code !== 0) throw new Error(`berth ${args.join(' ')}: ${show(r)}`);
      return r.stdout;
    },
    spawn: (args) => spawn(BERTH, [...globals, ...args], { stdio: ['pipe', 'pipe', 'pipe'] }),
    bridge,
    bip,
    get gateway() {
      return gateway;
    },
    log: readLog,
    get pid() {
      return daemon?.pid;
    },
    async kill9() {
      const d = daemon;
      if (d === undefined || d.exitCode !== null || d.signalCode !== null) return;
      const exited = new Promise((r) => d.once('exit', r));
      d.kill('SIGKILL');
      await exited;
    },
    restart: launch,
    stop,
  };
}
