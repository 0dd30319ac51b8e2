/**
 * The real docker CLI against berthd and against podman's Docker-compatible
 * service (`podman system service`), in one run, both started by this
 * script on private paths (test/helpers/daemon.ts, podman-service.ts):
 *
 *   1. `docker run --rm busybox true`: median of --runs;
 *   2. N sequential `docker run --rm busybox true` (100), total;
 *   3. `docker ps -a` with N containers existing (100, made by `docker
 *      create`: created, not running), median of --runs;
 *   4. `docker logs ID > /dev/null` of a container that wrote 100 MB (lines
 *      of 100 bytes), median of --runs; the bytes each returns are printed
 *      too (berth keeps 3 × 10 MiB of a container's log);
 *   5. exec round-trip: `docker exec ID true` into a running container,
 *      median of --runs; then each side's own command line, `berth exec`
 *      against `podman exec` (on the service's roots).
 *
 * The two daemons alternate which goes first in each round, so drift hits
 * both alike; each container runs on the daemon's default network, as a
 * user's would. Ratios berth/podman are printed with the goals
 * (≤ 0.25 for run --rm, ≤ 0.5 for the rest) and the load average. Run as
 * root.
 *
 *   build/node bench/docker-api.ts [--runs 10] [--quick] [--json] [--only PART,...]
 *
 * --quick: the smoke test's size (3 runs, 10 sequential runs, 10
 * containers, 10 MB of log). --only: just these parts (runRm, sequential,
 * ps, logs, exec), e.g. `--only exec --runs 20`. Everything both daemons made is removed at the
 * end, also on failure or Ctrl-C.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { BERTH, startDaemon, type TestDaemon } from '../test/helpers/daemon.ts';
import { startPodmanService, type PodmanService } from '../test/helpers/podman-service.ts';
import { median, now } from './stats.ts';

const args = process.argv.slice(2);
const option = (name: string): string | undefined => (args.includes(name) ? args[args.indexOf(name) + 1] : undefined);
const quick = args.includes('--quick');
const json = args.includes('--json');
const runs = Number(option('--runs') ?? (quick ? 3 : 10)) || 10;
const sequential = quick ? 10 : 100;
const containers = quick ? 10 : 100;
const logMB = quick ? 10 : 100;
const PARTS = ['runRm', 'sequential', 'ps', 'logs', 'exec'] as const;
type Part = (typeof PARTS)[number];
const only = option('--only')?.split(',');
for (const p of only ?? []) if (!(PARTS as readonly string[]).includes(p)) throw new Error(`--only: unknown part "${p}" (parts: ${PARTS.join(', ')})`);
const wanted = (p: Part): boolean => only === undefined || only.includes(p);

/** The goals of issue 12: berth's time over podman's service's. */
const GOALS = { runRm: 0.25, sequential: 0.5, ps: 0.5, logs: 0.5, exec: 0.5 } as const;

const log = (line: string): void => {
  if (!json) process.stderr.write(`bench/docker-api: ${line}\n`);
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

type Name = 'berth' | 'podman';
interface Side {
  name: Name;
  env: NodeJS.ProcessEnv;
}

const config = mkdtempSync(join(tmpdir(), 'berth-bench-docker-'));
let berthd: TestDaemon | undefined;
let podman: PodmanService | undefined;

function sideOf(name: Name, socket: string): Side {
  return { name, env: { ...process.env, DOCKER_HOST: `unix://${socket}`, DOCKER_CONFIG: config, DOCKER_CONTEXT: '' } };
}

function docker(s: Side, argv: readonly string[], timeoutMs = 300_000): string {
  const r = spawnSync('docker', argv, { env: s.env, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: timeoutMs, maxBuffer: 64 * 1024 * 1024 });
  if (r.error) throw new Error(`${s.name}: docker ${argv.join(' ')}: ${r.error.message}`);
  if (r.status !== 0) throw new Error(`${s.name}: docker ${argv.join(' ')}: exit ${r.status ?? r.signal}: ${r.stderr.trim()}`);
  return r.stdout;
}

/** Milliseconds from spawn to exit of one docker command, its output to /dev/null. */
function timed(s: Side, argv: readonly string[]): number {
  const t0 = now();
  const r = spawnSync('docker', argv, { env: s.env, encoding: 'utf8', stdio: ['ignore', 'ignore', 'pipe'], timeout: 300_000 });
  const ms = now() - t0;
  if (r.error) throw new Error(`${s.name}: docker ${argv.join(' ')}: ${r.error.message}`);
  if (r.status !== 0) throw new Error(`${s.name}: docker ${argv.join(' ')}: exit ${r.status ?? r.signal}: ${r.stderr.trim()}`);
  return ms;
}

/** Each round runs `fn` on both sides, alternating which goes first; round -1 warms up and is not kept. */
function interleaved(sides: readonly Side[], rounds: number, fn: (s: Side) => number): Record<Name, number[]> {
  const out: Record<Name, number[]> = { berth: [], podman: [] };
  for (let i = -1; i < rounds; i++) {
    const order = i % 2 ? sides : [...sides].reverse();
    for (const s of order) {
      checkInterrupted();
      const ms = fn(s);
      if (i >= 0) out[s.name].push(ms);
    }
  }
  return out;
}

interface Pair {
  berthMs: number;
  podmanMs: number;
}

interface Results {
  runs: number;
  /** The private directories this run made (and removed): what a caller can check is gone. */
  dirs: string[];
  load: { before: number[]; after: number[] };
  /** Each part is there unless --only left it out. */
  runRm?: Pair;
  sequential?: Pair & { runs: number };
  ps?: Pair & { containers: number };
  logs?: Pair & { writtenBytes: number; berthBytes: number; podmanBytes: number };
  exec?: Pair;
  /** `berth exec` against berthd, `podman exec` (its own CLI) on the service's roots. */
  execCli?: Pair;
}

const pair = (x: Record<Name, number[]>): Pair => ({ berthMs: median(x.berth), podmanMs: median(x.podman) });

function partRunRm(sides: readonly Side[]): Pair {
  log(`docker run --rm busybox true: ${runs} interleaved runs`);
  return pair(interleaved(sides, runs, (s) => timed(s, ['run', '--rm', 'busybox', 'true'])));
}

function partSequential(sides: readonly Side[]): Pair & { runs: number } {
  log(`${sequential} sequential runs on each`);
  const total: Record<Name, number> = { berth: 0, podman: 0 };
  for (let i = 0; i < sequential; i++) {
    for (const s of i % 2 ? sides : [...sides].reverse()) {
      checkInterrupted();
      total[s.name] += timed(s, ['run', '--rm', 'busybox', 'true']);
    }
  }
  return { runs: sequential, berthMs: total.berth, podmanMs: total.podman };
}

function partPs(sides: readonly Side[]): Pair & { containers: number } {
  log(`docker ps -a with ${containers} created containers`);
  for (const s of sides) {
    for (let i = 0; i < containers; i++) {
      checkInterrupted();
      docker(s, ['create', '--label', 'bench=ps', 'busybox', 'true']);
    }
    const listed = docker(s, ['ps', '-aq']).trim().split('\n').length;
    if (listed !== containers) throw new Error(`${s.name}: docker ps -aq listed ${listed} containers, expected ${containers}`);
  }
  const ps = pair(interleaved(sides, runs, (s) => timed(s, ['ps', '-a'])));
  for (const s of sides) docker(s, ['container', 'prune', '--force', '--filter', 'label=bench=ps']);
  return { containers, ...ps };
}

function partLogs(sides: readonly Side[]): Pair & { writtenBytes: number; berthBytes: number; podmanBytes: number } {
  log(`docker logs of ${logMB} MB`);
  const line = 'x'.repeat(99);
  const writtenBytes = logMB * 1_000_000;
  const logIds: Record<Name, string> = { berth: '', podman: '' };
  for (const s of sides) {
    // Both keep the whole log (berth's default rotation would keep 30 MiB of it): the same bytes come back from each.
    logIds[s.name] = docker(s, ['run', '-d', '--log-opt', `max-size=${2 * logMB}m`, 'busybox', 'sh', '-c', `yes ${line} | head -c ${writtenBytes}`]).trim();
    const code = docker(s, ['wait', logIds[s.name]], 600_000).trim();
    if (code !== '0') throw new Error(`${s.name}: the log writer exited ${code}`);
  }
  const bytes = (s: Side): number => {
    const r = spawnSync('sh', ['-c', `docker logs ${logIds[s.name]} | wc -c`], { env: s.env, encoding: 'utf8', timeout: 300_000 });
    return Number(r.stdout.trim());
  };
  const [berthBytes, podmanBytes] = [bytes(sides[0]!), bytes(sides[1]!)];
  const logs = pair(interleaved(sides, runs, (s) => timed(s, ['logs', logIds[s.name]])));
  for (const s of sides) docker(s, ['rm', logIds[s.name]]);
  return { writtenBytes, berthBytes, podmanBytes, ...logs };
}

/** Milliseconds of one command line of the side's own (`berth exec` against berthd, `podman exec` on the service's roots). */
function timedCli(s: Side, argv: readonly string[]): number {
  const t0 = now();
  if (s.name === 'podman') {
    podman!.podman(argv);
    return now() - t0;
  }
  const r = spawnSync(BERTH, ['--root', berthd!.root, '--run-root', berthd!.runRoot, '--socket', berthd!.socket, ...argv], { encoding: 'utf8', stdio: ['ignore', 'ignore', 'pipe'], timeout: 300_000 });
  const ms = now() - t0;
  if (r.status !== 0) throw new Error(`berth ${argv.join(' ')}: exit ${r.status ?? r.signal}: ${r.stderr.trim()}`);
  return ms;
}

function partExec(sides: readonly Side[]): { docker: Pair; cli: Pair } {
  log(`docker exec ID true, then berth exec / podman exec ID true: ${runs} interleaved runs each`);
  const execIds: Record<Name, string> = { berth: '', podman: '' };
  for (const s of sides) execIds[s.name] = docker(s, ['run', '-d', 'busybox', 'sleep', '600']).trim();
  const exec = pair(interleaved(sides, runs, (s) => timed(s, ['exec', execIds[s.name], 'true'])));
  const cli = pair(interleaved(sides, runs, (s) => timedCli(s, ['exec', execIds[s.name], 'true'])));
  for (const s of sides) docker(s, ['rm', '--force', execIds[s.name]]);
  return { docker: exec, cli };
}

async function main(): Promise<Results> {
  const before = loadavg();
  log('starting berthd and podman system service on private paths');
  berthd = await startDaemon({ networkPool: 2, logLevel: 'info' });
  const b = sideOf('berth', berthd.socket);
  const archive = join(config, 'busybox.tar');
  docker(b, ['save', '--output', archive, 'busybox']);
  podman = await startPodmanService(archive);
  const sides = [b, sideOf('podman', podman.socket)];
  for (const s of sides) {
    const out = docker(s, ['run', '--rm', 'busybox', 'echo', 'bench']);
    if (out !== 'bench\n') throw new Error(`${s.name}: docker run --rm busybox echo bench printed ${JSON.stringify(out)}`);
  }
  const dirs = [config, dirname(berthd.root), berthd.runRoot, podman.dir];
  return {
    runs,
    dirs,
    ...(wanted('runRm') ? { runRm: partRunRm(sides) } : {}),
    ...(wanted('sequential') ? { sequential: partSequential(sides) } : {}),
    ...(wanted('ps') ? { ps: partPs(sides) } : {}),
    ...(wanted('logs') ? { logs: partLogs(sides) } : {}),
    ...(wanted('exec') ? ((e) => ({ exec: e.docker, execCli: e.cli }))(partExec(sides)) : {}),
    load: { before, after: loadavg() },
  };
}

function print(r: Results): void {
  const ms = (x: number): string => (x >= 10_000 ? `${(x / 1000).toFixed(2)} s` : `${x.toFixed(1)} ms`);
  const ratio = (p: Pair, goal: number): string => {
    const q = p.berthMs / p.podmanMs;
    return `${q.toFixed(2)} (goal ≤ ${goal}${q <= goal ? '' : ': not met'})`;
  };
  const mb = (n: number): string => `${(n / 1e6).toFixed(1)} MB`;
  const rows: [string, string, string, string][] = [];
  if (r.runRm) rows.push(['docker run --rm busybox true (median)', ms(r.runRm.berthMs), ms(r.runRm.podmanMs), ratio(r.runRm, GOALS.runRm)]);
  if (r.sequential) rows.push([`${r.sequential.runs} sequential run --rm (total)`, ms(r.sequential.berthMs), ms(r.sequential.podmanMs), ratio(r.sequential, GOALS.sequential)]);
  if (r.ps) rows.push([`docker ps -a, ${r.ps.containers} created containers (median)`, ms(r.ps.berthMs), ms(r.ps.podmanMs), ratio(r.ps, GOALS.ps)]);
  if (r.logs) {
    rows.push([`docker logs, ${mb(r.logs.writtenBytes)} written (median)`, `${ms(r.logs.berthMs)} (${mb(r.logs.berthBytes)})`, `${ms(r.logs.podmanMs)} (${mb(r.logs.podmanBytes)})`, ratio(r.logs, GOALS.logs)]);
    rows.push(['  per MB returned', `${(r.logs.berthMs / (r.logs.berthBytes / 1e6)).toFixed(2)} ms`, `${(r.logs.podmanMs / (r.logs.podmanBytes / 1e6)).toFixed(2)} ms`, ((r.logs.berthMs / r.logs.berthBytes) / (r.logs.podmanMs / r.logs.podmanBytes)).toFixed(2)]);
  }
  if (r.exec) rows.push(['docker exec ID true (median)', ms(r.exec.berthMs), ms(r.exec.podmanMs), ratio(r.exec, GOALS.exec)]);
  if (r.execCli) rows.push(['berth exec / podman exec ID true (median)', ms(r.execCli.berthMs), ms(r.execCli.podmanMs), ratio(r.execCli, GOALS.exec)]);
  const widths = [0, 1, 2].map((k) => Math.max(...rows.map((row) => row[k]!.length)));
  const load = (l: number[]): string => l.map((x) => x.toFixed(2)).join(' ');
  console.log(`docker CLI against berthd and podman system service; medians of ${r.runs} interleaved runs; load ${load(r.load.before)} → ${load(r.load.after)}`);
  console.log(`${''.padEnd(widths[0]!)}  ${'berthd'.padStart(widths[1]!)}  ${'podman'.padStart(widths[2]!)}  berth/podman`);
  for (const row of rows) console.log(`${row[0].padEnd(widths[0]!)}  ${row[1].padStart(widths[1]!)}  ${row[2].padStart(widths[2]!)}  ${row[3]}`);
}

let results: Results | undefined;
let failed = false;
try {
  results = await main();
} catch (err) {
  failed = true;
  process.stderr.write(`bench/docker-api: ${err instanceof Error ? err.message : String(err)}\n`);
} finally {
  const problems: string[] = [];
  try {
    problems.push(...((await podman?.stop()) ?? []));
  } catch (err) {
    problems.push(`podman: ${err instanceof Error ? err.message : String(err)}`);
  }
  try {
    await berthd?.stop();
  } catch (err) {
    problems.push(`berthd: ${err instanceof Error ? err.message : String(err)}`);
  }
  rmSync(config, { recursive: true, force: true });
  for (const p of problems) process.stderr.write(`bench/docker-api: cleanup: ${p}\n`);
  if (problems.length) failed = true;
}
if (results) {
  if (json) console.log(JSON.stringify(results));
  else print(results);
}
process.exitCode = failed ? 1 : interrupted ? 130 : 0;
