/**
 * What the network costs a container, against podman, in one run:
 *
 *   1. run to exit through berthd's API (create → start → wait → remove) of
 *      `busybox true` with --network none, on the default network without
 *      the pool, and with the pool (a namespace attached before it is
 *      asked for); what the pool's network adds to a start is measured on
 *      the daemon with the pool against --network none on that same daemon,
 *      in a loop of their own (three times --runs pairs, which goes first
 *      alternating), each run starting once the pool is full and its
 *      refill (CNI's ADD, which outlasts the namespace's appearance) is
 *      done. Measured in one loop with the other daemon's runs, the pooled
 *      run came right after a bridged run without the pool every other
 *      round and its baseline never did: that run's teardown (CNI's DEL,
 *      the veth and namespace the kernel frees after it) fell on the
 *      pooled run: over 100 rounds the pool's cost came out 1.3 and 2.1 ms
 *      that way, 1.2 and 1.1 ms in a loop of its own;
 *   2. `berth run --rm busybox true` from the shell on the default network
 *      (with and without the pool) and with --network none, against
 *      `podman run --rm --network bridge` of the same image;
 *   3. HTTP requests per second (ab) to busybox httpd in a container through
 *      a published port on 127.0.0.1, against the same server reached at
 *      the container's own address and run on the host itself. Each request
 *      is a new connection whose server side the server closes, so each
 *      leaves a TIME_WAIT in the server's namespace for 60 s; once a client
 *      reuses a source port still waiting there (the host has 28,232), its
 *      SYN waits out a retransmission. So each way in has a container of
 *      its own, and 3 rounds of 6,000 requests stay below the port range:
 *      20,000 a round measured the TIME_WAIT collisions (700 req/s at the
 *      address after the published port's round), not the network.
 *
 * Runs alternate which goes first; medians with the goals (bridged
 * run ≤ 0.25× podman's, the pool's network ≤ 2 ms, published ≥ 0.9×
 * direct). Each berthd is a test daemon (its own root, bridge and /24),
 * stopped and removed at the end, also on failure. Run as root.
 *
 *   build/node bench/network.ts [--runs 10] [--quick] [--json]
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readlinkSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { createContainer } from '../test/helpers/berthd-process.ts';
import { startDaemon, type TestDaemon } from '../test/helpers/daemon.ts';
import { makeRootfs } from '../test/helpers/runtime.ts';
import { removePodmanAndWork } from './cleanup.ts';
import { median } from './stats.ts';

const args = process.argv.slice(2);
const option = (name: string): string | undefined => (args.includes(name) ? args[args.indexOf(name) + 1] : undefined);
const quick = args.includes('--quick');
const json = args.includes('--json');
const runs = Number(option('--runs') ?? (quick ? 3 : 10)) || 10;
/** The pool's cost is a difference of about a millisecond between runs of ~20: three times the pairs. */
const poolRuns = 3 * runs;
const requests = quick ? 2000 : 6000;
const GOALS = { bridgedVsPodman: 0.25, poolAddsMs: 2, publishedVsDirect: 0.9 } as const;

const work = mkdtempSync(join(tmpdir(), 'berth-bench-net-'));
const podmanDir = join(work, 'podman');
const podmanGlobal = ['--root', join(podmanDir, 'root'), '--runroot', join(podmanDir, 'run'), '--tmpdir', join(podmanDir, 'tmp')];
const podmanEnv = { ...process.env, CONTAINERS_CONF: join(podmanDir, 'containers.conf') };
const podmanImage = 'localhost/berth-bench-busybox:latest';
const log = (line: string): void => {
  if (!json) process.stderr.write(`${line}\n`);
};

function run(cmd: string, argv: readonly string[], env: NodeJS.ProcessEnv = process.env): string {
  const r = spawnSync(cmd, argv, { stdio: ['ignore', 'pipe', 'pipe'], encoding: 'utf8', env, timeout: 120_000 });
  if (r.error) throw new Error(`${cmd} ${argv.join(' ')}: ${r.error.message}`);
  if (r.status !== 0) throw new Error(`${cmd} ${argv.join(' ')}: exit ${r.status ?? r.signal}: ${r.stderr.trim()}`);
  return r.stdout;
}

function timed(cmd: string, argv: readonly string[], env: NodeJS.ProcessEnv = process.env): number {
  const t0 = performance.now();
  run(cmd, argv, env);
  return performance.now() - t0;
}

function setUpPodman(): void {
  mkdirSync(join(podmanDir, 'tmp'), { recursive: true });
  writeFileSync(podmanEnv.CONTAINERS_CONF, ['[containers]', 'default_ulimits = ["nofile=1024:1024", "nproc=1024:1024"]', '[engine]', 'cgroup_manager = "cgroupfs"', 'events_logger = "file"', ''].join('\n'));
  const rootfs = makeRootfs(join(work, 'scratch-podman'));
  const tar = join(work, 'scratch-podman', 'rootfs.tar');
  run('tar', ['-C', rootfs, '-cf', tar, '.']);
  run('podman', [...podmanGlobal, 'import', tar, podmanImage], podmanEnv);
  rmSync(join(work, 'scratch-podman'), { recursive: true, force: true });
}

/** create → start → wait → remove through the API: milliseconds from the create request to the exit reported, and the whole cycle. */
async function apiRun(d: TestDaemon, network: string): Promise<{ toExit: number; cycle: number }> {
  const t0 = performance.now();
  const id = await createContainer(d.client, ['true'], { network });
  await d.client.json('POST', `/containers/${id}/start`);
  await d.client.json('POST', `/containers/${id}/wait`);
  const toExit = performance.now() - t0;
  await d.client.json('DELETE', `/containers/${id}`, { query: { force: true } });
  return { toExit, cycle: performance.now() - t0 };
}

/** Whether a CNI plugin runs (a refill's ADD, a release's DEL): /proc/PID/exe under berth's plugin directory. */
function cniBusy(): boolean {
  for (const pid of readdirSync('/proc').filter((p) => /^\d+$/.test(p))) {
    try {
      if (readlinkSync(`/proc/${pid}/exe`).startsWith('/usr/lib/cni/')) return true;
    } catch {
      // Gone, or a kernel thread.
    }
  }
  return false;
}

/**
 * Waits until the daemon's pool holds `size` namespaces again and its refill is done (its refill runs in
 * the background: a namespace is there before CNI's ADD on it has ended), as after a moment without starts.
 */
async function poolReady(d: TestDaemon, size: number): Promise<void> {
  const dir = join(d.runRoot, 'netns');
  for (const end = Date.now() + 10_000; Date.now() < end; await new Promise((r) => setTimeout(r, 20))) {
    if (existsSync(dir) && readdirSync(dir).length >= size && !cniBusy()) return;
  }
  throw new Error('the pool did not refill within 10 s');
}

function ab(url: string): number {
  const out = run('ab', ['-q', '-n', String(requests), '-c', '16', url]);
  const m = /Requests per second:\s+([\d.]+)/.exec(out);
  if (m === null) throw new Error(`ab ${url}: no figure in its output`);
  return Number(m[1]);
}

interface Results {
  runs: number;
  poolRuns: number;
  /** poolNone: --network none on the daemon with the pool, the baseline of the pool's cost. */
  apiToExitMs: { none: number; bridge: number; pooled: number; poolNone: number };
  apiCycleMs: { none: number; bridge: number; pooled: number };
  cliMs: { none: number; bridge: number; pooled: number; podmanBridge: number };
  httpRps: { published: number; containerAddress: number; host: number };
}

const daemons: TestDaemon[] = [];
const hostServers: number[] = [];

async function main(): Promise<Results> {
  log('==> daemons (without and with the pool) and podman');
  const plain = await startDaemon({ networkPool: 0 });
  daemons.push(plain);
  const pooled = await startDaemon({ networkPool: 2 });
  daemons.push(pooled);
  setUpPodman();
  // Warm-up: the bridges exist and the code is loaded before anything is timed.
  await apiRun(plain, 'bridge');
  await apiRun(pooled, 'bridge');
  run('podman', [...podmanGlobal, 'run', '--rm', '--network', 'bridge', podmanImage, 'true'], podmanEnv);

  log(`==> ${runs} runs to exit through the API: none, bridge (no pool)`);
  const api = { none: [] as number[], bridge: [] as number[], pooled: [] as number[], poolNone: [] as number[] };
  const cycles = { none: [] as number[], bridge: [] as number[], pooled: [] as number[], poolNone: [] as number[] };
  const measure = async (which: keyof typeof api): Promise<void> => {
    // Both of the pooled daemon's runs start from a full pool whose refill is done, as after a moment without starts.
    if (which === 'pooled' || which === 'poolNone') await poolReady(pooled, 2);
    const r = which === 'pooled' ? await apiRun(pooled, 'bridge') : which === 'poolNone' ? await apiRun(pooled, 'none') : await apiRun(plain, which);
    api[which].push(r.toExit);
    cycles[which].push(r.cycle);
  };
  for (let i = 0; i < runs; i++) for (const which of i % 2 === 0 ? (['none', 'bridge'] as const) : (['bridge', 'none'] as const)) await measure(which);
  log(`==> ${poolRuns} runs to exit through the API on the daemon with the pool: bridge from the pool, none`);
  for (let i = 0; i < poolRuns; i++) for (const which of i % 2 === 0 ? (['pooled', 'poolNone'] as const) : (['poolNone', 'pooled'] as const)) await measure(which);

  log(`==> ${runs} × berth run --rm (none, bridge, pooled) against podman run --rm --network bridge`);
  const cli = { none: [] as number[], bridge: [] as number[], pooled: [] as number[], podmanBridge: [] as number[] };
  const berthArgs = (d: TestDaemon, network: string): string[] => ['--root', d.root, '--run-root', d.runRoot, '--socket', d.socket, 'run', '--rm', '--network', network, 'busybox', 'true'];
  const berth = join(import.meta.dirname, '..', 'bin', 'berth');
  for (let i = 0; i < runs; i++) {
    const steps: [keyof typeof cli, () => number][] = [
      ['none', () => timed(berth, berthArgs(plain, 'none'))],
      ['bridge', () => timed(berth, berthArgs(plain, 'bridge'))],
      ['pooled', () => timed(berth, berthArgs(pooled, 'bridge'))],
      ['podmanBridge', () => timed('podman', [...podmanGlobal, 'run', '--rm', '--network', 'bridge', podmanImage, 'true'], podmanEnv)],
    ];
    if (i % 2 === 1) steps.reverse();
    for (const [name, fn] of steps) {
      if (name === 'pooled') await poolReady(pooled, 2);
      cli[name].push(fn());
    }
  }

  log(`==> ${requests} HTTP requests (ab -c 16): published port, the container's address, the host`);
  const www = join(work, 'www');
  mkdirSync(www, { recursive: true });
  writeFileSync(join(www, 'index.html'), 'x'.repeat(1024));
  const on = ['--root', plain.root, '--run-root', plain.runRoot, '--socket', plain.socket];
  const serve = (publish: string[]): string => run(berth, [...on, 'run', '-d', ...publish, '-v', `${www}:/www:ro`, 'busybox', 'httpd', '-f', '-p', '80', '-h', '/www']).trim();
  const published = serve(['-p', '127.0.0.1::80']);
  const port = /:(\d+)\s*$/.exec(run(berth, [...on, 'port', published, '80']))![1]!;
  const address = run(berth, [...on, 'inspect', '--format', '{{.NetworkSettings.IPAddress}}', serve([])]).trim();
  const hostPort = 20000 + Math.floor(Math.random() * 10000);
  const host = spawnSync('busybox', ['httpd', '-p', `127.0.0.1:${hostPort}`, '-h', www]);
  if (host.status !== 0) throw new Error('busybox httpd on the host did not start');
  hostServers.push(hostPort);
  const waitServing = async (url: string): Promise<void> => {
    for (const end = Date.now() + 10_000; Date.now() < end; await new Promise((r) => setTimeout(r, 50))) {
      if ((await fetch(url).then((r) => r.ok).catch(() => false)) === true) return;
    }
    throw new Error(`${url} did not answer`);
  };
  const urls = { published: `http://127.0.0.1:${port}/`, containerAddress: `http://${address}/`, host: `http://127.0.0.1:${hostPort}/` };
  for (const u of Object.values(urls)) await waitServing(u);
  const rps = { published: [] as number[], containerAddress: [] as number[], host: [] as number[] };
  for (let i = 0; i < 3; i++) {
    const order: (keyof typeof rps)[] = i % 2 === 0 ? ['published', 'containerAddress', 'host'] : ['host', 'containerAddress', 'published'];
    for (const k of order) rps[k].push(ab(urls[k]));
  }
  return {
    runs,
    poolRuns,
    apiToExitMs: { none: median(api.none), bridge: median(api.bridge), pooled: median(api.pooled), poolNone: median(api.poolNone) },
    apiCycleMs: { none: median(cycles.none), bridge: median(cycles.bridge), pooled: median(cycles.pooled) },
    cliMs: { none: median(cli.none), bridge: median(cli.bridge), pooled: median(cli.pooled), podmanBridge: median(cli.podmanBridge) },
    httpRps: { published: median(rps.published), containerAddress: median(rps.containerAddress), host: median(rps.host) },
  };
}

async function cleanup(): Promise<string[]> {
  const problems: string[] = [];
  for (const p of hostServers) spawnSync('pkill', ['-f', `httpd -p 127.0.0.1:${p}`]);
  for (const d of daemons) await d.stop().catch((err: unknown) => problems.push(`daemon: ${String(err)}`));
  removePodmanAndWork({ dir: podmanDir, global: podmanGlobal, env: podmanEnv }, work, problems);
  return problems;
}

function print(r: Results): void {
  const ms = (x: number): string => `${x.toFixed(1)} ms`;
  const plus = (x: number): string => (x < 0 ? `−${ms(-x)}` : `+${ms(x)}`);
  const goal = (q: number, g: number, under = true): string => `${q.toFixed(2)} (goal ${under ? '≤' : '≥'} ${g}${(under ? q <= g : q >= g) ? '' : ': not met'})`;
  const rows: [string, string, string][] = [
    ['run to exit via the API, --network none', ms(r.apiToExitMs.none), ''],
    ['  default network, no pool', ms(r.apiToExitMs.bridge), plus(r.apiToExitMs.bridge - r.apiToExitMs.none)],
    ['  default network, from the pool', ms(r.apiToExitMs.pooled), plus(r.apiToExitMs.pooled - r.apiToExitMs.none)],
    [
      '  the same daemon, --network none',
      ms(r.apiToExitMs.poolNone),
      `the pool's network adds ${ms(r.apiToExitMs.pooled - r.apiToExitMs.poolNone)} (goal ≤ ${GOALS.poolAddsMs} ms${r.apiToExitMs.pooled - r.apiToExitMs.poolNone <= GOALS.poolAddsMs ? '' : ': not met'})`,
    ],
    ['whole cycle via the API (… → removed): none, bridge, pooled', `${ms(r.apiCycleMs.none)}, ${ms(r.apiCycleMs.bridge)}, ${ms(r.apiCycleMs.pooled)}`, ''],
    ['berth run --rm, --network none', ms(r.cliMs.none), `vs podman bridged ${ms(r.cliMs.podmanBridge)}: ${(r.cliMs.none / r.cliMs.podmanBridge).toFixed(2)}`],
    // The goal is for berthd's default, the pool (next row); this one shows what the pool saves.
    ['berth run --rm, default network, no pool', ms(r.cliMs.bridge), `vs podman bridged: ${(r.cliMs.bridge / r.cliMs.podmanBridge).toFixed(2)}`],
    ['berth run --rm, default network, pool', ms(r.cliMs.pooled), `vs podman bridged: ${goal(r.cliMs.pooled / r.cliMs.podmanBridge, GOALS.bridgedVsPodman)}`],
    ['HTTP req/s through a published port', r.httpRps.published.toFixed(0), `vs the container's address ${r.httpRps.containerAddress.toFixed(0)}: ${goal(r.httpRps.published / r.httpRps.containerAddress, GOALS.publishedVsDirect, false)}`],
    ['  the same server on the host', r.httpRps.host.toFixed(0), `published/host: ${(r.httpRps.published / r.httpRps.host).toFixed(2)}`],
  ];
  const w0 = Math.max(...rows.map((x) => x[0].length));
  const w1 = Math.max(...rows.map((x) => x[1].length));
  console.log(`berth's network against podman's; medians of ${r.runs} interleaved runs (${r.poolRuns} for the pool's pair)`);
  for (const [a, b, c] of rows) console.log(`${a.padEnd(w0)}  ${b.padStart(w1)}  ${c}`);
}

let results: Results | undefined;
let failed = false;
// Ctrl-C, or a SIGTERM (timeout(1), a cancelled job): what it made goes all the same.
for (const sig of ['SIGINT', 'SIGTERM'] as const) {
  process.once(sig, () => {
    void cleanup().then(() => process.exit(sig === 'SIGINT' ? 130 : 143));
  });
}
try {
  results = await main();
} catch (err) {
  failed = true;
  process.stderr.write(`bench/network: ${err instanceof Error ? err.message : String(err)}\n`);
} finally {
  for (const p of await cleanup()) {
    failed = true;
    process.stderr.write(`bench/network: cleanup: ${p}\n`);
  }
}
if (results) {
  if (json) console.log(JSON.stringify(results));
  else print(results);
}
process.exit(failed ? 1 : 0);
