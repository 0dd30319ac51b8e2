/**
 * The engine against the reference tools, in one run, interleaved:
 *
 *   1. run to exit of `busybox true` through the engine library from this
 *      resident process (create → start → wait, then remove), against
 *      `runc run` of a prepared busybox bundle and `podman run --rm
 *      --network none` of the same image;
 *   2. `berth run --rm busybox true` from the shell (the CLI talking to a
 *      berthd this script starts) against that same `podman run --rm`;
 *   3. 100 sequential library runs (and 100 `runc run`) with their totals;
 *      50 containers running at once (`sleep 600`): each berth-monitor's
 *      VmRSS (sum and median) and this resident process's;
 *   4. idle RSS of berthd, containerd and podman's API service, each
 *      started on private paths, pinged once and left idle for 2 s; and berthd
 *      asleep (berth-idle) once its default --sleep-after has passed, with
 *      the time its first ping then takes (the wake).
 *
 * Runs alternate which tool goes first, so drift hits all alike; medians
 * are printed with the ratios and the issue's goals. Run as root.
 *
 *   build/node bench/engine.ts [--runs 10] [--quick] [--json] [--berth PATH] [--berthd PATH]
 *
 * --quick: 10 sequential runs and 5 running containers instead of 100 and 50
 * (the smoke test's size). Every root, daemon, container and mount this
 * script makes is private to it and removed at the end, also on failure or
 * Ctrl-C. Reuses test/helpers' busybox import, as the other benches do.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readlinkSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { daemonHoldsLock, stopDaemon as stopBerthd } from '../src/api/daemon.ts';
import { daemonPaths } from '../src/api/paths.ts';
import { Engine } from '../src/engine/engine.ts';
import { parseRunOptions } from '../src/engine/spec/options.ts';
import { ImageStore } from '../src/image/store/store.ts';
import { defaultSpec } from '../src/oci/default-spec.ts';
import { MNT_DETACH } from '../src/sys/constants.ts';
import { umount2 } from '../src/sys/mount.ts';
import { parseMountInfo } from '../src/sys/mountinfo.ts';
import { importBusybox } from '../test/helpers/engine.ts';
import { makeRootfs } from '../test/helpers/runtime.ts';
import { useTestNetwork } from '../test/helpers/test-network.ts';
import { median, now } from './stats.ts';

// Its berthd's default network is a bridge and /24 of its own, removed at the end (never the host's berth0).
useTestNetwork();

const args = process.argv.slice(2);
const option = (name: string): string | undefined => (args.includes(name) ? args[args.indexOf(name) + 1] : undefined);
const runs = Number(option('--runs') ?? 10) || 10;
const quick = args.includes('--quick');
const json = args.includes('--json');
const sequential = quick ? 10 : 100;
const concurrent = quick ? 5 : 50;
const repo = join(import.meta.dirname, '..');
// --berth, --berthd: other builds of the CLI and the daemon (say, with a change to measure).
const berthCli = option('--berth') ?? join(repo, 'bin', 'berth');
const berthd = option('--berthd') ?? join(repo, 'bin', 'berthd');

/** The goals of issue 10. */
const GOALS = { libraryVsRunc: 0.5, cliVsPodman: 0.5, monitorKiB: 1024, berthdVsContainerd: 1.0 } as const;

const log = (line: string): void => {
  if (!json) process.stderr.write(`bench/engine: ${line}\n`);
};

let interrupted = false;
const checkInterrupted = (): void => {
  if (interrupted) throw new Error('interrupted');
};
for (const sig of ['SIGINT', 'SIGTERM'] as const) {
  process.on(sig, () => {
    if (interrupted) return;
    interrupted = true;
    log(`${sig}: stopping after this step, then cleaning up`);
  });
}

// ---- private places -----------------------------------------------------

const work = mkdtempSync(join(tmpdir(), 'berth-bench-engine-'));
// Short: the monitor's attach socket path (RUNROOT/containers/ID/attach) and the daemons' sockets must fit 108 bytes.
const short = mkdtempSync('/tmp/br-');
const engineRoot = join(work, 'engine');
const engineRunRoot = join(short, 'e');
const daemonRoot = join(work, 'berthd');
const daemonRunRoot = join(short, 'd');
const daemonSocket = join(daemonRunRoot, 'berth.sock');
const runcRoot = join(work, 'runc-state');
const bundle = join(work, 'bundle');
const podmanDir = join(work, 'podman');
const podmanImage = 'localhost/berth-bench-busybox:latest';
const podmanEnv = { ...process.env, CONTAINERS_CONF: join(podmanDir, 'containers.conf') };
const podmanGlobal = ['--root', join(podmanDir, 'storage'), '--runroot', join(podmanDir, 'run'), '--tmpdir', join(podmanDir, 'tmp')];

const daemons = new Set<ChildProcess>();
let engine: Engine | undefined;
let images: ImageStore | undefined;
let runcSeq = 0;

function run(cmd: string, argv: readonly string[], env: NodeJS.ProcessEnv = process.env, timeoutMs = 60_000): string {
  const r = spawnSync(cmd, argv, { stdio: ['ignore', 'pipe', 'pipe'], encoding: 'utf8', env, timeout: timeoutMs });
  if (r.error) throw new Error(`${cmd} ${argv.join(' ')}: ${r.error.message}`);
  if (r.status !== 0) throw new Error(`${cmd} ${argv.join(' ')}: exit ${r.status ?? r.signal}: ${r.stderr.trim()}`);
  return r.stdout;
}

/** Milliseconds from spawn to exit of one command, its output discarded (as a user's shell would not wait on it). */
function timedCommand(cmd: string, argv: readonly string[], env: NodeJS.ProcessEnv = process.env): number {
  const t0 = now();
  const r = spawnSync(cmd, argv, { stdio: ['ignore', 'ignore', 'pipe'], encoding: 'utf8', env, timeout: 60_000 });
  const ms = now() - t0;
  if (r.error) throw new Error(`${cmd} ${argv.join(' ')}: ${r.error.message}`);
  if (r.status !== 0) throw new Error(`${cmd} ${argv.join(' ')}: exit ${r.status ?? r.signal}: ${r.stderr.trim()}`);
  return ms;
}

async function setUpEngine(): Promise<Engine> {
  images = await ImageStore.open({ root: engineRoot });
  await importBusybox(images, join(work, 'scratch-engine'));
  rmSync(join(work, 'scratch-engine'), { recursive: true, force: true });
  engine = await Engine.open({ root: engineRoot, runRoot: engineRunRoot, images });
  await engine.recover();
  return engine;
}

function setUpRunc(): void {
  makeRootfs(bundle);
  const spec = defaultSpec();
  spec.process!.terminal = false;
  spec.process!.args = ['true'];
  writeFileSync(join(bundle, 'config.json'), JSON.stringify(spec));
}

/** Private podman storage, the busybox rootfs imported as an image; rlimits lowered as test/compat does (no CAP_SYS_RESOURCE here). */
function setUpPodman(): void {
  mkdirSync(join(podmanDir, 'tmp'), { recursive: true });
  writeFileSync(
    podmanEnv.CONTAINERS_CONF,
    ['[containers]', 'default_ulimits = ["nofile=1024:1024", "nproc=1024:1024"]', '[engine]', 'cgroup_manager = "cgroupfs"', 'events_logger = "file"', ''].join('\n'),
  );
  const rootfs = makeRootfs(join(work, 'scratch-podman'));
  const tar = join(work, 'scratch-podman', 'rootfs.tar');
  run('tar', ['-C', rootfs, '-cf', tar, '.']);
  run('podman', [...podmanGlobal, 'import', tar, podmanImage], podmanEnv);
  rmSync(join(work, 'scratch-podman'), { recursive: true, force: true });
}

// ---- the measured operations ------------------------------------------

/** create → start → wait through the library (request to exit reported), then remove. */
interface LibraryRun {
  toExit: number;
  cycle: number;
  /** Where the time went: create, start, start's return → exit reported, remove. */
  steps: { create: number; start: number; exit: number; remove: number };
}

async function libraryRun(e: Engine): Promise<LibraryRun> {
  const t0 = now();
  const c = await e.create({ image: 'busybox', args: ['true'], options: parseRunOptions({ network: 'none' }) });
  const t1 = now();
  await e.start(c.id);
  const t2 = now();
  const exit = await e.wait(c.id);
  const t3 = now();
  if (exit.code !== 0) throw new Error(`library run: exit ${exit.code}${exit.error ? `: ${exit.error}` : ''}`);
  await e.remove(c.id);
  const t4 = now();
  return { toExit: t3 - t0, cycle: t4 - t0, steps: { create: t1 - t0, start: t2 - t1, exit: t3 - t2, remove: t4 - t3 } };
}

const runcRun = (): number => timedCommand('runc', ['--root', runcRoot, 'run', '--bundle', bundle, `bench-${process.pid}-${runcSeq++}`]);
const podmanRun = (): number => timedCommand('podman', [...podmanGlobal, 'run', '--rm', '--network', 'none', podmanImage, 'true'], podmanEnv);
const berthArgs = (argv: readonly string[]): string[] => ['--root', daemonRoot, '--run-root', daemonRunRoot, '--socket', daemonSocket, ...argv];
const berthRun = (): number => timedCommand(berthCli, berthArgs(['run', '--rm', '--network', 'none', 'busybox', 'true']));
/** The CLI's floor: its start-up and one request to berthd. */
const berthPs = (): number => timedCommand(berthCli, berthArgs(['ps', '--all', '--quiet']));

// ---- daemons ------------------------------------------------------------

interface Daemon {
  child: ChildProcess;
  pid: number;
}

function startDaemon(cmd: string, argv: readonly string[], env: NodeJS.ProcessEnv = process.env): Daemon {
  const child = spawn(cmd, argv, { stdio: ['ignore', 'ignore', 'pipe'], env });
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (d: string) => {
    if (stderr.length < 8192) stderr += d;
  });
  child.once('exit', (code, signal) => {
    daemons.delete(child);
    if (code !== 0 && code !== null && !stopping.has(child)) log(`${cmd} left early: exit ${code ?? signal}: ${stderr.trim().slice(-2000)}`);
  });
  daemons.add(child);
  if (child.pid === undefined) throw new Error(`${cmd}: not started`);
  return { child, pid: child.pid };
}

const stopping = new WeakSet<ChildProcess>();
async function stopDaemon(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  stopping.add(child);
  const exited = once(child, 'exit');
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
  await exited;
  clearTimeout(timer);
}

/** GET /_ping over a unix socket: true on a 200. */
function ping(socketPath: string): Promise<boolean> {
  return new Promise((resolve) => {
    const req = request({ socketPath, path: '/_ping', method: 'GET', timeout: 2000 }, (res) => {
      res.resume();
      resolve(res.statusCode === 200);
    });
    req.on('error', () => resolve(false)).on('timeout', () => req.destroy());
    req.end();
  });
}

async function waitUntil(what: string, check: () => boolean | Promise<boolean>, child: ChildProcess, timeoutMs = 30_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await check())) {
    checkInterrupted();
    if (child.exitCode !== null || child.signalCode !== null) throw new Error(`${what}: the daemon left (exit ${child.exitCode ?? child.signalCode})`);
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(20);
  }
}

/** A process's resident memory (KiB): the whole, its private (anonymous) part, and pages of mapped files (its binary's). */
interface Mem {
  rssKiB: number;
  anonKiB: number;
  fileKiB: number;
}

function memoryOf(pid: number): Mem {
  const text = readFileSync(`/proc/${pid}/status`, 'utf8');
  const field = (name: string): number => {
    const m = new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(text);
    if (!m) throw new Error(`pid ${pid}: no ${name}`);
    return Number(m[1]);
  };
  return { rssKiB: field('VmRSS'), anonKiB: field('RssAnon'), fileKiB: field('RssFile') };
}

const rssKiB = (pid: number): number => memoryOf(pid).rssKiB;

/**
 * berthd asleep (src/api/sleep.ts): once its default --sleep-after has
 * passed without work, its process is berth-idle; its memory then, and how
 * long the next ping takes to be answered by the woken daemon.
 */
async function asleepMemory(d: Daemon): Promise<{ mem: Mem; wakeMs: number }> {
  const deadline = Date.now() + 120_000;
  while (!readlinkSync(`/proc/${d.pid}/exe`).endsWith('/berth-idle')) {
    if (Date.now() > deadline) throw new Error('berthd did not sleep within 120 s of idling');
    await sleep(500);
    checkInterrupted();
  }
  const mem = memoryOf(d.pid);
  const t0 = now();
  if (!(await ping(daemonSocket))) throw new Error('berthd asleep: the ping that should wake it was not answered');
  return { mem, wakeMs: now() - t0 };
}

/** Memory after a daemon answered one ping and then sat idle for 2 s. */
async function idleMemory(d: Daemon): Promise<Mem> {
  await sleep(2000);
  checkInterrupted();
  return memoryOf(d.pid);
}

async function startBerthd(): Promise<Daemon> {
  const store = await ImageStore.open({ root: daemonRoot });
  try {
    await importBusybox(store, join(work, 'scratch-berthd'));
  } finally {
    store.close();
  }
  rmSync(join(work, 'scratch-berthd'), { recursive: true, force: true });
  const d = startDaemon(berthd, ['--root', daemonRoot, '--run-root', daemonRunRoot, '--socket', daemonSocket]);
  await waitUntil('berthd to answer on its socket', () => ping(daemonSocket), d.child);
  return d;
}

async function containerdIdle(): Promise<Mem> {
  const dir = join(work, 'containerd');
  const sock = join(short, 'c.sock');
  mkdirSync(dir, { recursive: true });
  const config = join(dir, 'config.toml');
  writeFileSync(
    config,
    [
      'version = 2',
      `root = "${join(dir, 'root')}"`,
      `state = "${join(short, 'cs')}"`,
      '[grpc]',
      `  address = "${sock}"`,
      '[ttrpc]',
      `  address = "${sock}.ttrpc"`,
      '[plugins."io.containerd.internal.v1.opt"]',
      `  path = "${join(dir, 'opt')}"`,
      '',
    ].join('\n'),
  );
  const d = startDaemon('containerd', ['--config', config, '--log-level', 'error']);
  try {
    await waitUntil('containerd to answer on its socket', () => existsSync(sock) && spawnSync('ctr', ['--address', sock, 'version'], { stdio: 'ignore', timeout: 5000 }).status === 0, d.child);
    return await idleMemory(d);
  } finally {
    await stopDaemon(d.child);
  }
}

async function podmanServiceIdle(): Promise<Mem> {
  const sock = join(short, 'p.sock');
  const d = startDaemon('podman', [...podmanGlobal, 'system', 'service', '--time', '0', `unix://${sock}`], podmanEnv);
  try {
    await waitUntil('podman system service to answer on its socket', () => ping(sock), d.child);
    return await idleMemory(d);
  } finally {
    await stopDaemon(d.child);
  }
}

/** The floor under any daemon written for Node.js: Node's own HTTP server on a unix socket, answering /_ping. */
async function bareNodeIdle(): Promise<Mem> {
  const sock = join(short, 'n.sock');
  const code = `require('node:http').createServer((q, s) => s.end('OK')).listen(${JSON.stringify(sock)})`;
  const d = startDaemon(process.execPath, ['-e', code]);
  try {
    await waitUntil('node to answer on its socket', () => ping(sock), d.child);
    return await idleMemory(d);
  } finally {
    await stopDaemon(d.child);
  }
}

function berthRunAvailable(): boolean {
  return spawnSync(berthCli, ['run', '--help'], { stdio: 'ignore', timeout: 30_000 }).status === 0;
}

// ---- 50 at once ---------------------------------------------------------

interface Concurrent {
  containers: number;
  startedInMs: number;
  monitorRssKiB: { median: number; sum: number; max: number };
  residentRssKiB: number;
}

async function manyRunning(e: Engine): Promise<Concurrent> {
  const ids: string[] = [];
  try {
    const t0 = now();
    for (let i = 0; i < concurrent; i++) {
      checkInterrupted();
      const c = await e.create({ image: 'busybox', args: ['sleep', '600'], options: parseRunOptions({ network: 'none' }) });
      ids.push(c.id);
      await e.start(c.id);
    }
    const startedInMs = now() - t0;
    const monitors = ids.map((id) => {
      const pid = Number(readFileSync(join(engineRunRoot, 'containers', id, 'monitor.pid'), 'utf8').trim());
      if (e.containers.get(id)?.state !== 'running') throw new Error(`container ${id}: not running`);
      return rssKiB(pid);
    });
    return {
      containers: ids.length,
      startedInMs,
      monitorRssKiB: { median: median(monitors), sum: monitors.reduce((a, b) => a + b, 0), max: Math.max(...monitors) },
      residentRssKiB: rssKiB(process.pid),
    };
  } finally {
    for (const id of ids) await e.remove(id, { force: true });
  }
}

// ---- cleanup ------------------------------------------------------------

function unmountUnder(dirs: readonly string[]): string[] {
  const problems: string[] = [];
  const mounts = parseMountInfo(readFileSync('/proc/self/mountinfo', 'utf8'))
    .map((m) => m.mountPoint)
    .filter((p) => dirs.some((d) => p === d || p.startsWith(`${d}/`)))
    .sort((a, b) => b.length - a.length);
  for (const p of mounts) {
    try {
      umount2(p, MNT_DETACH);
    } catch (err) {
      problems.push(`umount ${p}: ${err instanceof Error ? err.message : String(err)}`);
    }
  }
  return problems;
}

async function removeAll(root: string, runRoot: string): Promise<void> {
  const e = await Engine.open({ root, runRoot });
  try {
    await e.recover();
    for (const r of e.containers.list()) await e.remove(r.id, { force: true });
  } finally {
    e.close();
    e.images.close();
  }
}

/** Removes everything this script made; each step runs even when one before it failed. */
async function cleanup(): Promise<string[]> {
  const problems: string[] = [];
  const step = async (what: string, fn: () => unknown): Promise<void> => {
    try {
      await fn();
    } catch (err) {
      problems.push(`${what}: ${err instanceof Error ? err.message : String(err)}`);
    }
  };
  if (engine) {
    const e = engine;
    for (const r of e.containers.list()) await step(`remove ${r.id}`, () => e.remove(r.id, { force: true }));
    await step('engine recover', () => e.recover());
    e.close();
  }
  images?.close();
  for (const child of [...daemons]) await step('stop daemon', () => stopDaemon(child));
  // One the CLI may have started on demand, had ours gone.
  const berthdPaths = { root: daemonRoot, runRoot: daemonRunRoot, socket: daemonSocket };
  if (await daemonHoldsLock(daemonPaths(berthdPaths))) await step('berth system stop', () => stopBerthd(berthdPaths));
  // berthd leaves containers running when it stops: whatever a failed run left in its root goes here.
  if (existsSync(join(daemonRoot, 'berth.db'))) await step('berthd root', () => removeAll(daemonRoot, daemonRunRoot));
  if (existsSync(runcRoot)) {
    for (const id of spawnSync('runc', ['--root', runcRoot, 'list', '-q'], { encoding: 'utf8' }).stdout.split('\n').filter(Boolean)) {
      await step(`runc delete ${id}`, () => run('runc', ['--root', runcRoot, 'delete', '--force', id]));
    }
  }
  if (existsSync(podmanDir)) {
    await step('podman rm', () => run('podman', [...podmanGlobal, 'rm', '--all', '--force', '--time', '0'], podmanEnv));
    await step('podman rmi', () => run('podman', [...podmanGlobal, 'rmi', '--all', '--force'], podmanEnv));
  }
  problems.push(...unmountUnder([work, short]));
  await step('remove temp dirs', () => {
    rmSync(work, { recursive: true, force: true });
    rmSync(short, { recursive: true, force: true });
  });
  return problems;
}

// ---- the run ------------------------------------------------------------

interface Results {
  runs: number;
  /** The private directories this run made (and removed): what a caller can check is gone. */
  dirs: string[];
  library: { toExitMs: number; cycleMs: number; stepsMs: LibraryRun['steps'] };
  runcRunMs: number;
  podmanRunMs: number;
  cli?: { berthRunMs: number; podmanRunMs: number; berthPsMs: number; berthdAfter: Mem } | { skipped: string };
  sequential: { runs: number; libraryTotalMs: number; runcTotalMs: number };
  concurrent?: Concurrent;
  idle: { berthd?: Mem; berthdAsleep?: Mem; wakeMs?: number; berthdSkipped?: string; containerd: Mem; podmanService: Mem; bareNode: Mem };
}

async function main(): Promise<Results> {
  log('setting up: busybox into a private engine store, a runc bundle, private podman storage');
  const e = await setUpEngine();
  setUpRunc();
  setUpPodman();
  checkInterrupted();

  // Part 4 first for berthd: its idle figure is taken before it ran anything; then it serves part 2.
  let daemon: Daemon | undefined;
  let berthdIdle: Mem | undefined;
  let berthdAsleep: Mem | undefined;
  let wakeMs: number | undefined;
  let berthdSkipped: string | undefined;
  if (!existsSync(berthd)) berthdSkipped = 'berthd not available yet';
  else {
    log('starting berthd on private roots');
    daemon = await startBerthd();
    berthdIdle = await idleMemory(daemon);
    log('waiting for berthd to sleep (its default --sleep-after, 60 s), then waking it');
    ({ mem: berthdAsleep, wakeMs } = await asleepMemory(daemon));
  }
  const cliSkipped = !berthRunAvailable() ? 'berth run not available yet' : daemon === undefined ? berthdSkipped : undefined;
  if (cliSkipped) log(`berth run --rm from the shell: skipped (${cliSkipped})`);
  else {
    // The CLI reaches our berthd and the container runs: its output comes back.
    const out = run(berthCli, berthArgs(['run', '--rm', '--network', 'none', 'busybox', 'echo', 'berth-bench']));
    if (out.trim() !== 'berth-bench') throw new Error(`berth run --rm busybox echo berth-bench: printed ${JSON.stringify(out)}`);
  }

  type Tool = 'library' | 'runc' | 'podman' | 'berth' | 'berthPs';
  const tools: Tool[] = cliSkipped ? ['library', 'runc', 'podman'] : ['library', 'runc', 'podman', 'berth', 'berthPs'];
  const samples = { toExit: [] as number[], cycle: [] as number[], runc: [] as number[], podman: [] as number[], berth: [] as number[], berthPs: [] as number[] };
  const steps: LibraryRun['steps'][] = [];
  log(`${runs} interleaved runs of ${tools.join(', ')}`);
  for (let i = -1; i < runs; i++) {
    // Round -1 warms every path up and is not recorded; then each round starts with the next tool.
    const order = tools.map((_, k) => tools[(k + Math.max(i, 0)) % tools.length]!);
    for (const tool of order) {
      checkInterrupted();
      if (tool === 'library') {
        const r = await libraryRun(e);
        if (i >= 0) {
          samples.toExit.push(r.toExit);
          samples.cycle.push(r.cycle);
          steps.push(r.steps);
        }
      } else {
        const ms = { runc: runcRun, podman: podmanRun, berth: berthRun, berthPs }[tool]();
        if (i >= 0) samples[tool].push(ms);
      }
    }
  }
  let berthdAfter: Mem | undefined;
  if (daemon && !cliSkipped) {
    berthdAfter = memoryOf(daemon.pid);
    const left = run(berthCli, berthArgs(['ps', '--all', '--quiet'])).trim();
    if (left !== '') throw new Error(`berth run --rm left containers: ${left.split('\n').join(', ')}`);
  }
  if (daemon) await stopDaemon(daemon.child);

  log(`${sequential} sequential runs, library and runc alternating`);
  let libraryTotal = 0;
  let runcTotal = 0;
  for (let i = 0; i < sequential; i++) {
    checkInterrupted();
    if (i % 2) runcTotal += runcRun();
    libraryTotal += (await libraryRun(e)).cycle;
    if (!(i % 2)) runcTotal += runcRun();
  }

  log(`${concurrent} containers running at once`);
  const many = await manyRunning(e);

  log('idle daemons: containerd, podman system service, a bare Node.js HTTP server');
  const containerd = await containerdIdle();
  const podmanService = await podmanServiceIdle();
  const bareNode = await bareNodeIdle();

  return {
    runs,
    dirs: [work, short],
    library: {
      toExitMs: median(samples.toExit),
      cycleMs: median(samples.cycle),
      stepsMs: { create: median(steps.map((x) => x.create)), start: median(steps.map((x) => x.start)), exit: median(steps.map((x) => x.exit)), remove: median(steps.map((x) => x.remove)) },
    },
    runcRunMs: median(samples.runc),
    podmanRunMs: median(samples.podman),
    cli: cliSkipped || !berthdAfter ? { skipped: cliSkipped ?? 'berthd not available' } : { berthRunMs: median(samples.berth), podmanRunMs: median(samples.podman), berthPsMs: median(samples.berthPs), berthdAfter },
    sequential: { runs: sequential, libraryTotalMs: libraryTotal, runcTotalMs: runcTotal },
    concurrent: many,
    idle: { ...(berthdIdle === undefined ? {} : { berthd: berthdIdle }), ...(berthdAsleep === undefined ? {} : { berthdAsleep, wakeMs: wakeMs! }), ...(berthdSkipped ? { berthdSkipped } : {}), containerd, podmanService, bareNode },
  };
}

function print(r: Results): void {
  const ms = (x: number): string => `${x.toFixed(1)} ms`;
  const mib = (kib: number): string => `${(kib / 1024).toFixed(1)} MiB`;
  const rows: [string, string, string, string][] = [];
  const ratio = (a: number, b: number, goal?: number): string => {
    const q = a / b;
    return `${q.toFixed(2)}${goal === undefined ? '' : ` (goal ≤ ${goal}${q <= goal ? '' : ': not met'})`}`;
  };
  rows.push(['run to exit, library (create → start → wait)', ms(r.library.toExitMs), `runc run ${ms(r.runcRunMs)}`, ratio(r.library.toExitMs, r.runcRunMs, GOALS.libraryVsRunc)]);
  rows.push(['  the same against podman run --rm', '', `podman ${ms(r.podmanRunMs)}`, ratio(r.library.toExitMs, r.podmanRunMs)]);
  const st = r.library.stepsMs;
  rows.push(['  steps (medians): create, start, to exit, remove', `${st.create.toFixed(1)}, ${st.start.toFixed(1)}, ${st.exit.toFixed(1)}, ${st.remove.toFixed(1)} ms`, '', '']);
  rows.push(['whole cycle, library (… → remove)', ms(r.library.cycleMs), `runc run ${ms(r.runcRunMs)}`, ratio(r.library.cycleMs, r.runcRunMs)]);
  if (r.cli && 'skipped' in r.cli) rows.push(['berth run --rm busybox true (shell)', r.cli.skipped, '', '']);
  else if (r.cli) {
    rows.push(['berth run --rm busybox true (shell)', ms(r.cli.berthRunMs), `podman run --rm ${ms(r.cli.podmanRunMs)}`, ratio(r.cli.berthRunMs, r.cli.podmanRunMs, GOALS.cliVsPodman)]);
    rows.push(['  berth ps -aq (the CLI\'s start-up and one request)', ms(r.cli.berthPsMs), '', '']);
    rows.push(['  berthd RSS after those runs (anonymous)', `${mib(r.cli.berthdAfter.rssKiB)} (${mib(r.cli.berthdAfter.anonKiB)})`, '', '']);
  }
  const s = r.sequential;
  rows.push([`${s.runs} sequential runs, library, total`, `${(s.libraryTotalMs / 1000).toFixed(2)} s`, `${s.runs} × runc run ${(s.runcTotalMs / 1000).toFixed(2)} s`, ratio(s.libraryTotalMs, s.runcTotalMs)]);
  if (r.concurrent) {
    const c = r.concurrent;
    rows.push([`${c.containers} running: berth-monitor RSS median`, `${c.monitorRssKiB.median} KiB`, `goal ${GOALS.monitorKiB} KiB`, ratio(c.monitorRssKiB.median, GOALS.monitorKiB, 1)]);
    rows.push([`${c.containers} running: monitor RSS sum (max)`, `${mib(c.monitorRssKiB.sum)} (${c.monitorRssKiB.max} KiB)`, '', '']);
    rows.push([`${c.containers} running: resident process RSS`, mib(c.residentRssKiB), `started in ${(c.startedInMs / 1000).toFixed(2)} s`, '']);
  }
  const i = r.idle;
  const parts = (m: Mem): string => `${mib(m.rssKiB)} (${mib(m.anonKiB)})`;
  const refs: [string, Mem][] = [['containerd', i.containerd], ['podman service', i.podmanService], ['bare Node.js server', i.bareNode]];
  refs.forEach(([name, m], k) => {
    const label = k === 0 ? 'idle daemon RSS (anonymous part)' : '';
    if (i.berthd === undefined) rows.push([label, k === 0 ? (i.berthdSkipped ?? 'skipped') : '', `${name} ${parts(m)}`, '']);
    else rows.push([label, k === 0 ? `berthd awake ${parts(i.berthd)}` : '', `${name} ${parts(m)}`, `${ratio(i.berthd.rssKiB, m.rssKiB)} (${(i.berthd.anonKiB / m.anonKiB).toFixed(2)})`]);
  });
  if (i.berthdAsleep !== undefined) {
    rows.push(['  berthd asleep (berth-idle, after --sleep-after 60s)', parts(i.berthdAsleep), `containerd ${parts(i.containerd)}`, ratio(i.berthdAsleep.rssKiB, i.containerd.rssKiB, GOALS.berthdVsContainerd)]);
    rows.push(['  its wake: the first ping answered', ms(i.wakeMs ?? NaN), '', '']);
  }
  const widths = [0, 1, 2].map((k) => Math.max(...rows.map((row) => row[k]!.length)));
  console.log(`berth engine against runc, podman and containerd; medians of ${r.runs} interleaved runs`);
  for (const row of rows) console.log(`${row[0].padEnd(widths[0]!)}  ${row[1].padStart(widths[1]!)}  ${row[2].padEnd(widths[2]!)}  ${row[3]}`);
}

let results: Results | undefined;
let failed = false;
try {
  results = await main();
} catch (err) {
  failed = true;
  process.stderr.write(`bench/engine: ${err instanceof Error ? err.message : String(err)}\n`);
} finally {
  const problems = await cleanup();
  for (const p of problems) process.stderr.write(`bench/engine: cleanup: ${p}\n`);
  if (problems.length) failed = true;
}
if (results) {
  if (json) console.log(JSON.stringify(results));
  else print(results);
}
process.exitCode = failed ? 1 : interrupted ? 130 : 0;
