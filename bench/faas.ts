/**
 * Functions (issue 13): the cold start and warm requests through berthd's
 * gateway, against podman, in one run.
 *
 *   1. cold start: from a request for a function at zero replicas (no
 *      container of it exists) to the first byte of its answer, for three
 *      functions: a static binary serving :8080 itself (a tiny C server,
 *      linked statically, alone in its image), a shell function (busybox,
 *      the watchdog forking `cat`) and a Node.js function (node-base with
 *      a server on :3000 behind the watchdog's http mode); against `podman
 *      run -d` of the same image (the watchdog bind-mounted the same way),
 *      from the command's start to the first answer of the container's
 *      address, polled every millisecond once podman returned; beside them
 *      Node.js's own start-up on the host (started with posix_spawn, as a
 *      shell starts it, to the first answer of the same server). The
 *      gateway's cold-start phases (BERTH_TRACE's, logged by berthd as
 *      `function cold start`) are printed as medians;
 *   2. warm: requests per second through the gateway (`ab -k -c 16`,
 *      --requests for the static function, a quarter as many for the two
 *      that run a process per request or proxy through the watchdog)
 *      against the same replica's server reached directly at its address,
 *      and the p50/p99 of sequential requests on a kept-alive connection
 *      both ways (the gateway's added latency). Warm calls go through
 *      berth-relay (native/relay, src/faas/relay.ts), not Node.js: ab's
 *      HTTP/1.0 keep-alive requests are relayed over kept-alive HTTP/1.1
 *      connections to the replica (a chunked answer unchunked and sent
 *      with its length). Directly, ab reaches the watchdog over HTTP/1.0,
 *      and its http mode closes such a connection after each answer, so
 *      the Node.js function can be faster through the gateway.
 *
 * Between cold starts the function is scaled to zero (no process of it
 * runs; the gateway keeps one replica prepared, created and primed: its
 * monitor and its process blocked before execve, its namespace attached)
 * and the pool of network namespaces (berthd's default, 2) refills, as it
 * would while a function sits idle. Runs alternate which tool goes first. The daemon is a
 * test daemon (its own root, bridge and /24); every container, image and
 * directory made here is removed at the end, also on failure or Ctrl-C.
 * Run as root.
 *
 *   build/node bench/faas.ts [--runs 10] [--requests 20000] [--only cold|warm] [--faas-primed-max N] [--json]
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { createServer, type AddressInfo } from 'node:net';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { importImage } from '../src/image/copy/import.ts';
import type { ImageStore } from '../src/image/store/store.ts';
import { gatewayClient, type GatewayClient } from '../test/helpers/faas.ts';
import { startDaemon, type TestDaemon } from '../test/helpers/daemon.ts';
import { reapSoon, spawnProgram } from '../src/sys/spawn.ts';
import { collectYoung } from '../src/young-gc.ts';
import { removePodmanAndWork } from './cleanup.ts';
import { median, now } from './stats.ts';

const args = process.argv.slice(2);
const option = (name: string): string | undefined => (args.includes(name) ? args[args.indexOf(name) + 1] : undefined);
const json = args.includes('--json');
const runs = Number(option('--runs') ?? 10) || 10;
const requests = Number(option('--requests') ?? 20000) || 20000;
/** --only cold|warm: one half (while working on it). */
const only = option('--only');
/** --faas-primed-max N: berthd's (0: the prepared replica is only created, not primed: the path before priming). */
const primedMax = option('--faas-primed-max');
const GOALS = { staticP50Ms: 10, staticP99Ms: 25, nodeOverStartMs: 5, warmVsDirect: 0.8 } as const;

const REPO = join(import.meta.dirname, '..');
const BERTH = join(REPO, 'bin', 'berth');
const WATCHDOG = join(REPO, 'build', 'berth-watchdog');
const work = mkdtempSync(join(tmpdir(), 'berth-bench-faas-'));
const podmanDir = join(work, 'podman');
const podmanGlobal = ['--root', join(podmanDir, 'root'), '--runroot', join(podmanDir, 'run'), '--tmpdir', join(podmanDir, 'tmp')];
const podmanEnv = { ...process.env, CONTAINERS_CONF: join(podmanDir, 'containers.conf') };
const POOL = 2;

const log = (line: string): void => {
  if (!json) process.stderr.write(`bench/faas: ${line}\n`);
};

// ---- the functions ---------------------------------------------------------

/** A static HTTP server: a process per connection, kept alive, "hello\n" to every request. */
const STATIC_SERVER_C = String.raw`
#define _GNU_SOURCE
#include <netinet/in.h>
#include <signal.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
static const char ok[] = "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 6\r\nConnection: keep-alive\r\n\r\nhello\n";
int main(void) {
  signal(SIGCHLD, SIG_IGN);
  int one = 1, l = socket(AF_INET, SOCK_STREAM, 0);
  struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(8080) };
  setsockopt(l, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  if (bind(l, (struct sockaddr *)&a, sizeof a) || listen(l, 1024)) return 1;
  for (;;) {
    int c = accept(l, 0, 0);
    if (c < 0) continue;
    if (fork() == 0) {
      char b[16384];
      size_t n = 0;
      close(l);
      for (;;) {
        ssize_t k = read(c, b + n, sizeof b - n);
        if (k <= 0) _exit(0);
        n += k;
        for (char *e; (e = memmem(b, n, "\r\n\r\n", 4)) != 0;) {
          size_t used = e + 4 - b;
          if (write(c, ok, sizeof ok - 1) < 0) _exit(0);
          memmove(b, b + used, n - used);
          n -= used;
        }
        if (n == sizeof b) _exit(0);
      }
    }
    close(c);
  }
}
`;

const NODE_SERVER_JS = `require('node:http').createServer((q, s) => s.end('hello\\n')).listen(Number(process.env.PORT || process.argv[2] || 3000));\n`;

interface Fn {
  name: string;
  label: string;
  image: string;
  /** The deployment's fields beyond service and image. */
  deploy: { envProcess?: string; envVars?: Record<string, string> };
}

const FNS: Fn[] = [
  { name: 'fn-static', label: 'static binary (C, :8080)', image: 'faas-static:latest', deploy: {} },
  { name: 'fn-shell', label: 'shell (busybox cat, watchdog)', image: 'busybox:latest', deploy: { envProcess: 'cat' } },
  {
    name: 'fn-node',
    label: 'Node.js (node-base, watchdog http)',
    image: 'faas-node:latest',
    deploy: { envProcess: 'node /home/app/server.js', envVars: { mode: 'http', upstream_url: 'http://127.0.0.1:3000' } },
  },
];

function run(cmd: string, argv: readonly string[], env: NodeJS.ProcessEnv = process.env): string {
  const r = spawnSync(cmd, argv, { stdio: ['ignore', 'pipe', 'pipe'], encoding: 'utf8', env, timeout: 300_000, maxBuffer: 64 << 20 });
  if (r.error) throw new Error(`${cmd} ${argv.join(' ')}: ${r.error.message}`);
  if (r.status !== 0) throw new Error(`${cmd} ${argv.join(' ')}: exit ${r.status ?? r.signal}: ${r.stderr.trim()}`);
  return r.stdout;
}

/** The bench's images, in the daemon's store before it starts; each also saved as a docker-archive for podman. */
async function prepareImages(images: ImageStore, scratch: string): Promise<void> {
  mkdirSync(scratch, { recursive: true });
  const staticRoot = join(scratch, 'static');
  mkdirSync(staticRoot);
  writeFileSync(join(scratch, 'server.c'), STATIC_SERVER_C);
  run('gcc', ['-static', '-O2', '-Wall', '-Werror', '-o', join(staticRoot, 'server'), join(scratch, 'server.c')]);
  await importImage(images, staticRoot, { names: ['faas-static:latest'], config: { Cmd: ['/server'] } });

  run(join(REPO, 'scripts', 'make-base-images.sh'), ['--root', images.root, 'node-base']);
  const bundle = join(scratch, 'node');
  run(BERTH, ['--root', images.root, '--quiet', 'image', 'unpack', 'node-base:latest', bundle]);
  mkdirSync(join(bundle, 'rootfs', 'home', 'app'), { recursive: true });
  writeFileSync(join(bundle, 'rootfs', 'home', 'app', 'server.js'), NODE_SERVER_JS);
  await importImage(images, join(bundle, 'rootfs'), { names: ['faas-node:latest'], config: { Cmd: ['node', '/home/app/server.js'], Env: ['PATH=/usr/local/bin:/usr/bin:/bin'] } });
  rmSync(bundle, { recursive: true, force: true });
  writeFileSync(join(work, 'server.js'), NODE_SERVER_JS);

  for (const f of FNS) run(BERTH, ['--root', images.root, '--quiet', 'save', '-o', join(work, `${f.name}.tar`), f.image]);
}

// ---- HTTP -------------------------------------------------------------------

/** One GET: resolves at the answer's first byte (its status line and headers) with the status, after reading the rest. */
function get(url: string, agent: Agent | false, timeoutMs = 60_000): Promise<{ status: number; firstByteMs: number; body: string }> {
  const t0 = now();
  return new Promise((resolve, reject) => {
    const req = request(url, { agent, timeout: timeoutMs }, (res) => {
      const firstByteMs = now() - t0;
      const chunks: Buffer[] = [];
      res.on('data', (b: Buffer) => chunks.push(b));
      res.once('end', () => resolve({ status: res.statusCode ?? 0, firstByteMs, body: Buffer.concat(chunks).toString() }));
      res.once('error', reject);
    });
    req.once('timeout', () => req.destroy(new Error(`${url}: no answer within ${timeoutMs} ms`)));
    req.once('error', reject);
    req.end();
  });
}

/** Polls `url` every millisecond until it answers 200; milliseconds since `t0`. */
async function firstAnswer(url: string, t0: number, deadlineMs = 30_000): Promise<number> {
  for (const end = now() + deadlineMs; now() < end; ) {
    const r = await get(url, false, 200).catch(() => undefined);
    if (r?.status === 200) return now() - t0;
    await new Promise((resolve) => setTimeout(resolve, 1));
  }
  throw new Error(`${url}: no 200 within ${deadlineMs} ms`);
}

function percentile(xs: readonly number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length === 0 ? NaN : s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)]!;
}

async function until<T>(what: string, probe: () => Promise<T | undefined> | T | undefined, ms = 60_000): Promise<T> {
  for (const end = Date.now() + ms; Date.now() < end; await new Promise((r) => setTimeout(r, 10))) {
    const v = await probe();
    if (v !== undefined) return v;
  }
  throw new Error(`timed out waiting for ${what}`);
}

// ---- berth ------------------------------------------------------------------

interface Ctr {
  Id: string;
  State?: string;
  NetworkSettings?: { Networks?: Record<string, { IPAddress?: string }> };
}

async function replicasOf(d: TestDaemon, fn: string): Promise<Ctr[]> {
  const filters = JSON.stringify({ label: [`com.openfaas.function=${fn}`] });
  return (await d.client.json('GET', '/containers/json', { query: { all: true, filters } })) as Ctr[];
}

async function scale(gw: GatewayClient, fn: string, replicas: number): Promise<void> {
  const r = await gw.fetch(`/system/scale-function/${fn}`, { method: 'POST', body: JSON.stringify({ serviceName: fn, replicas }) });
  if (r.status !== 202) throw new Error(`scale ${fn} to ${replicas}: ${r.status} ${await r.text()}`);
}

/** At zero: no container of the function runs (one is prepared: created, never started), and the pool of namespaces is full again. */
async function toZero(d: TestDaemon, gw: GatewayClient, fn: string): Promise<void> {
  await scale(gw, fn, 0);
  await until(`${fn} at zero`, async () => ((await replicasOf(d, fn)).every((c) => c.State === 'created') ? true : undefined));
  // The prepared replica follows the last one's removal (a build without it makes none: 2 s, then on).
  await until(`${fn}'s prepared replica`, async () => ((await replicasOf(d, fn)).length === 1 ? true : undefined), 2_000).catch(() => undefined);
  // ...and primed (its monitor and blocked process up, its namespace taken): a build without priming makes none (2 s, then on).
  const primed = async (): Promise<true | undefined> => {
    const [c] = await replicasOf(d, fn);
    return c !== undefined && existsSync(join(d.runRoot, 'containers', c.Id, 'primed')) ? true : undefined;
  };
  await until(`${fn}'s prepared replica to be primed`, primed, 2_000).catch(() => undefined);
  const dir = join(d.runRoot, 'netns');
  await until('the pool to refill', () => (existsSync(dir) && readdirSync(dir).length >= POOL ? true : undefined), 20_000);
}

/** The phases berthd logged for the cold starts of `fn` (each phase's time since the request arrived). */
function loggedPhases(d: TestDaemon, fn: string): Record<string, number>[] {
  const out: Record<string, number>[] = [];
  for (const line of d.log().split('\n')) {
    if (!line.includes('"function cold start"')) continue;
    const f = JSON.parse(line) as { function?: string; ms?: Record<string, number> };
    if (f.function === fn && f.ms !== undefined) out.push(f.ms);
  }
  return out;
}

async function berthCold(d: TestDaemon, gw: GatewayClient, fn: Fn): Promise<number> {
  await toZero(d, gw, fn.name);
  // This process's own scavenge (2-8 ms here) must not land inside what it times: the young generation starts empty.
  collectYoung();
  const r = await get(`${gw.base}/function/${fn.name}`, false);
  if (r.status !== 200) throw new Error(`cold ${fn.name}: ${r.status} ${r.body}`);
  return r.firstByteMs;
}

// ---- podman -------------------------------------------------------------------

function setUpPodman(): Map<string, string> {
  mkdirSync(join(podmanDir, 'tmp'), { recursive: true });
  writeFileSync(podmanEnv.CONTAINERS_CONF, ['[containers]', 'default_ulimits = ["nofile=1024:1024", "nproc=1024:1024"]', '[engine]', 'cgroup_manager = "cgroupfs"', 'events_logger = "file"', ''].join('\n'));
  const names = new Map<string, string>();
  for (const f of FNS) {
    const out = run('podman', [...podmanGlobal, 'load', '--input', join(work, `${f.name}.tar`)], podmanEnv);
    const m = /Loaded image(?:\(s\))?: (\S+)/.exec(out);
    names.set(f.name, m?.[1] ?? `localhost/${f.image}`);
  }
  return names;
}

let podmanSeq = 0;
const podmanBase = 200 + Math.floor(Math.random() * 50);

function podmanRunArgs(fn: Fn, image: string, name: string, ip: string): string[] {
  const watchdog = fn.deploy.envProcess !== undefined;
  const env = Object.entries(fn.deploy.envVars ?? {}).flatMap(([k, v]) => ['-e', `${k}=${v}`]);
  return [
    ...podmanGlobal, 'run', '-d', '--name', name, '--network', 'bridge', '--ip', ip, ...env,
    ...(watchdog ? ['-v', `${WATCHDOG}:/.berth/watchdog:ro`, '--entrypoint', '/.berth/watchdog', '-e', `fprocess=${fn.deploy.envProcess}`, '-e', 'port=8080'] : []),
    image,
  ];
}

/** `podman run -d` of the function's image, then its address polled until it answers: milliseconds from the command's start. */
async function podmanCold(fn: Fn, image: string): Promise<number> {
  const seq = podmanSeq++;
  const name = `berth-bench-faas-${process.pid}-${seq}`;
  const ip = `10.88.${podmanBase}.${10 + (seq % 200)}`;
  collectYoung();
  const t0 = now();
  await new Promise<void>((resolve, reject) => {
    const p = spawn('podman', podmanRunArgs(fn, image, name, ip), { stdio: ['ignore', 'ignore', 'pipe'], env: podmanEnv });
    let err = '';
    p.stderr.on('data', (b: Buffer) => (err += b.toString()));
    p.once('error', reject);
    p.once('exit', (code) => (code === 0 ? resolve() : reject(new Error(`podman run ${name}: exit ${code}: ${err.trim()}`))));
  });
  try {
    return await firstAnswer(`http://${ip}:8080/`, t0);
  } finally {
    run('podman', [...podmanGlobal, 'rm', '-f', '-t', '0', name], podmanEnv);
  }
}

/** A loopback port nothing listens on now (the kernel's choice; a random one in the ephemeral range once met a client's socket). */
async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve, reject) => server.once('error', reject).listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/**
 * Node.js's own start-up here: `node server.js` on the host to its first
 * answer, started with posix_spawn(3) as a shell would: Node.js's
 * child_process forks this process first, whose page tables (100-200 MiB
 * here) cost it 2-4 ms that are no part of Node.js's start-up.
 */
async function nodeStart(): Promise<number> {
  const port = await freePort();
  collectYoung();
  const t0 = now();
  const node = join(REPO, 'build', 'node');
  const { pid } = spawnProgram(node, [node, join(work, 'server.js'), String(port)], [null, null, null]);
  try {
    return await firstAnswer(`http://127.0.0.1:${port}/`, t0);
  } finally {
    process.kill(pid, 'SIGKILL');
    reapSoon(pid);
  }
}

// ---- warm ----------------------------------------------------------------------

function ab(url: string, n: number): number {
  const out = run('ab', ['-q', '-k', '-n', String(n), '-c', '16', url]);
  const failed = /Failed requests:\s+(\d+)/.exec(out);
  if (failed !== null && failed[1] !== '0') throw new Error(`ab ${url}: ${failed[1]} failed requests: ${/\(Connect.*\)/.exec(out)?.[0] ?? ''}`);
  const non2xx = /Non-2xx responses:\s+(\d+)/.exec(out);
  if (non2xx !== null) throw new Error(`ab ${url}: ${non2xx[1]} answers not 2xx`);
  const m = /Requests per second:\s+([\d.]+)/.exec(out);
  if (m === null) throw new Error(`ab ${url}: no figure in its output`);
  return Number(m[1]);
}

/** Sequential GETs on one kept-alive connection: each one's time to its first byte. */
async function latencies(url: string, n: number): Promise<number[]> {
  const agent = new Agent({ keepAlive: true, maxSockets: 1 });
  try {
    const out: number[] = [];
    for (let i = 0; i < n; i++) {
      const r = await get(url, agent);
      if (r.status !== 200) throw new Error(`${url}: ${r.status}`);
      out.push(r.firstByteMs);
    }
    return out;
  } finally {
    agent.destroy();
  }
}

// ---- the run ---------------------------------------------------------------------

interface ColdResult {
  berth: { p50: number; p99: number; all: number[] };
  podman: { p50: number; p99: number };
  phases: Record<string, number>;
}

interface Results {
  runs: number;
  load: { before: number[]; after: number[] };
  cold: Record<string, ColdResult>;
  nodeStartMs: number;
  warm: Record<string, { gatewayRps: number; directRps: number; ratio: number; gatewayP50: number; gatewayP99: number; directP50: number; directP99: number; addedP99: number }>;
}

let daemon: TestDaemon | undefined;

async function main(): Promise<Results> {
  const before = loadavg();
  log('==> images (static C server, busybox, node-base + server.js), a berthd with its gateway, podman');
  daemon = await startDaemon({ gateway: true, networkPool: POOL, logLevel: 'info', prepare: prepareImages, ...(primedMax === undefined ? {} : { args: ['--faas-primed-max', primedMax] }) });
  const d = daemon;
  const gw = gatewayClient(d.gateway!, d.root);
  const podmanImages = setUpPodman();

  for (const f of FNS) {
    const r = await gw.deploy({ service: f.name, image: f.image, ...f.deploy });
    if (r.status !== 202) throw new Error(`deploy ${f.name}: ${r.status} ${await r.text()}`);
  }
  // Warm-up: each function answers once (images' snapshots made, code loaded), and podman runs each image once.
  for (const f of FNS) {
    await until(`${f.name} to answer`, async () => ((await get(`${gw.base}/function/${f.name}`, false).catch(() => undefined))?.status === 200 ? true : undefined));
    await berthCold(d, gw, f);
    await podmanCold(f, podmanImages.get(f.name)!);
  }
  const warmupPhases = new Map(FNS.map((f) => [f.name, loggedPhases(d, f.name).length]));

  const cold: Results['cold'] = {};
  const nodeStarts: number[] = [];
  for (const f of only === 'warm' ? [] : FNS) {
    log(`==> ${runs} cold starts of ${f.name} (${f.label}): berth's gateway and podman run, alternating`);
    const b: number[] = [];
    const p: number[] = [];
    for (let i = 0; i < runs; i++) {
      const steps: (() => Promise<void>)[] = [async () => void b.push(await berthCold(d, gw, f)), async () => void p.push(await podmanCold(f, podmanImages.get(f.name)!))];
      if (f.name === 'fn-node') steps.push(async () => void nodeStarts.push(await nodeStart()));
      if (i % 2 === 1) steps.reverse();
      for (const s of steps) await s();
    }
    const logged = loggedPhases(d, f.name).slice(warmupPhases.get(f.name));
    const names = [...new Set(logged.flatMap((x) => Object.keys(x)))];
    const phases = Object.fromEntries(names.map((n) => [n, median(logged.map((x) => x[n]).filter((v): v is number => v !== undefined))]));
    cold[f.name] = { berth: { p50: median(b), p99: percentile(b, 99), all: b }, podman: { p50: median(p), p99: percentile(p, 99) }, phases };
    log(`    berth p50 ${median(b).toFixed(1)} ms, podman p50 ${median(p).toFixed(1)} ms`);
  }

  const warm: Results['warm'] = {};
  for (const f of only === 'cold' ? [] : FNS) {
    log(`==> warm ${f.name}: ab -k -c 16 through the gateway and direct, 3 times each; 1000 sequential requests for latency`);
    await scale(gw, f.name, 1);
    const [ctr] = await until(`${f.name} to run one replica`, async () => {
      const list = await replicasOf(d, f.name);
      return list.length === 1 ? list : undefined;
    });
    const address = Object.values(ctr!.NetworkSettings?.Networks ?? {})[0]?.IPAddress;
    if (address === undefined || address === '') throw new Error(`${f.name}: replica has no address`);
    const urls = { gateway: `${gw.base}/function/${f.name}`, direct: `http://${address}:8080/` };
    await until(`${f.name} ready`, async () => ((await get(urls.gateway, false).catch(() => undefined))?.status === 200 ? true : undefined));
    const rps = { gateway: [] as number[], direct: [] as number[] };
    const lat = { gateway: [] as number[], direct: [] as number[] };
    for (let i = 0; i < 3; i++) {
      const order: ('gateway' | 'direct')[] = i % 2 === 0 ? ['gateway', 'direct'] : ['direct', 'gateway'];
      // A process per request (the shell; Node.js behind the watchdog's proxy) answers far fewer a second: a quarter as many asked.
      for (const k of order) rps[k].push(ab(urls[k], f.name === 'fn-static' ? requests : Math.ceil(requests / 4)));
    }
    for (const k of ['gateway', 'direct'] as const) lat[k] = await latencies(urls[k], 1000);
    const g = median(rps.gateway);
    const dr = median(rps.direct);
    warm[f.name] = {
      gatewayRps: g,
      directRps: dr,
      ratio: g / dr,
      gatewayP50: percentile(lat.gateway, 50),
      gatewayP99: percentile(lat.gateway, 99),
      directP50: percentile(lat.direct, 50),
      directP99: percentile(lat.direct, 99),
      addedP99: percentile(lat.gateway, 99) - percentile(lat.direct, 99),
    };
  }
  return { runs, load: { before, after: loadavg() }, cold, nodeStartMs: median(nodeStarts), warm };
}

async function cleanup(): Promise<string[]> {
  const problems: string[] = [];
  // The functions first: a replica the gateway brings up while the daemon stops would be left behind.
  if (daemon?.gateway !== undefined) {
    const gw = gatewayClient(daemon.gateway, daemon.root);
    for (const f of FNS) await gw.fetch('/system/functions', { method: 'DELETE', body: JSON.stringify({ functionName: f.name }) }).catch(() => undefined);
  }
  await daemon?.stop().catch((err: unknown) => problems.push(`daemon: ${String(err)}`));
  removePodmanAndWork({ dir: podmanDir, global: podmanGlobal, env: podmanEnv }, work, problems);
  return problems;
}

function print(r: Results): void {
  const ms = (x: number): string => `${x.toFixed(1)} ms`;
  const goal = (ok: boolean, text: string): string => `(goal ${text}${ok ? '' : ': not met'})`;
  const load = (l: number[]): string => l.map((x) => x.toFixed(2)).join(' ');
  console.log(`functions: cold starts (p50/p99 of ${r.runs}) and warm requests; load ${load(r.load.before)} → ${load(r.load.after)}`);
  const rows: [string, string, string][] = [];
  for (const f of FNS) {
    const c = r.cold[f.name];
    if (c === undefined) continue;
    let g = '';
    if (f.name === 'fn-static') g = goal(c.berth.p50 <= GOALS.staticP50Ms && c.berth.p99 <= GOALS.staticP99Ms, `≤ ${GOALS.staticP50Ms}/${GOALS.staticP99Ms} ms`);
    if (f.name === 'fn-node') g = goal(c.berth.p50 <= r.nodeStartMs + GOALS.nodeOverStartMs, `≤ node's start-up ${ms(r.nodeStartMs)} + ${GOALS.nodeOverStartMs} ms`);
    rows.push([`cold ${f.label}`, `${ms(c.berth.p50)} / ${ms(c.berth.p99)}`, `podman run ${ms(c.podman.p50)} / ${ms(c.podman.p99)}: ${(c.berth.p50 / c.podman.p50).toFixed(3)} ${g}`]);
  }
  for (const f of FNS) {
    const w = r.warm[f.name];
    if (w === undefined) continue;
    rows.push([`warm req/s ${f.label}`, w.gatewayRps.toFixed(0), `direct ${w.directRps.toFixed(0)}: ${w.ratio.toFixed(2)} ${goal(w.ratio >= GOALS.warmVsDirect, `≥ ${GOALS.warmVsDirect}`)}`]);
    rows.push([`  latency p50/p99 gateway, direct`, `${ms(w.gatewayP50)} / ${ms(w.gatewayP99)}`, `${ms(w.directP50)} / ${ms(w.directP99)}: p99 added ${ms(w.addedP99)}`]);
  }
  const w0 = Math.max(...rows.map((x) => x[0].length));
  const w1 = Math.max(...rows.map((x) => x[1].length));
  for (const [a, b, c] of rows) console.log(`${a.padEnd(w0)}  ${b.padStart(w1)}  ${c}`);
  console.log('cold-start phases (medians, ms since the request arrived):');
  for (const f of FNS) if (r.cold[f.name] !== undefined) console.log(`  ${f.name}: ${Object.entries(r.cold[f.name]!.phases).map(([k, v]) => `${k} ${v.toFixed(1)}`).join(', ')}`);
}

let results: Results | undefined;
let failed = false;
// Ctrl-C, or a SIGTERM (timeout(1), a cancelled job): berthd's replicas, its bridge and podman's containers go all the same.
for (const sig of ['SIGINT', 'SIGTERM'] as const) {
  process.once(sig, () => {
    void cleanup().then(() => process.exit(sig === 'SIGINT' ? 130 : 143));
  });
}
try {
  results = await main();
} catch (err) {
  failed = true;
  process.stderr.write(`bench/faas: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
} finally {
  for (const p of await cleanup()) {
    failed = true;
    process.stderr.write(`bench/faas: cleanup: ${p}\n`);
  }
}
if (results) {
  if (json) console.log(JSON.stringify(results));
  else print(results);
}
process.exit(failed ? 1 : 0);
