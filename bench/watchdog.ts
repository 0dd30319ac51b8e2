/**
 * berth-watchdog (native/watchdog): its start-up and what it adds to a
 * request, against busybox httpd in the same run.
 *
 * - start to ready: from spawn() to the first 200 of /_/health, polled on
 *   fresh connections; beside it, spawn() to the exit of `busybox true`
 *   (the cost of starting any static program from Node.js here); the
 *   difference is mostly the polling's own connections. The watchdog's
 *   start alone is better seen with `hyperfine -N` against `busybox true`,
 *   its port taken so that it exits at bind (README, Functions);
 * - per request, each on a new connection (busybox httpd keeps none
 *   alive), sequential: the watchdog forking `cat` (streaming) against
 *   busybox httpd running a CGI script that runs `cat`; the watchdog's static
 *   mode against busybox httpd serving the same file;
 * - the listener's resident memory after the requests.
 *
 *   build/node bench/watchdog.ts [--starts N] [--requests N]
 */
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';

const REPO = join(import.meta.dirname, '..');
const WATCHDOG = join(REPO, 'build', 'berth-watchdog');
const { values } = parseArgs({ options: { starts: { type: 'string', default: '50' }, requests: { type: 'string', default: '1000' } } });
const STARTS = Number(values.starts);
const REQUESTS = Number(values.requests);
const BUSYBOX = spawnSync('sh', ['-c', 'command -v busybox'], { encoding: 'utf8' }).stdout.trim();

const dir = mkdtempSync(join(tmpdir(), 'berth-bench-wd-'));
mkdirSync(join(dir, 'cgi-bin'));
writeFileSync(join(dir, 'page.txt'), 'a static page\n');
writeFileSync(join(dir, 'cgi-bin', 'cat'), '#!/bin/sh\nprintf "Content-Type: text/plain\\r\\n\\r\\n"\nexec cat\n', { mode: 0o755 });

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const p99 = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(xs.length * 0.99))]!;
const ms = (ns: bigint): number => Number(ns) / 1e6;

function get(port: number, path: string, body?: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, method: body === undefined ? 'GET' : 'POST', agent: false, headers: body === undefined ? {} : { 'Content-Length': String(body.length) } }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode!));
    });
    req.on('error', reject);
    req.end(body);
  });
}

let nextPort = 20000 + Math.floor(Math.random() * 20000);

async function startToReady(): Promise<number> {
  const port = nextPort++;
  const t0 = process.hrtime.bigint();
  const p = spawn(WATCHDOG, [], { env: { PATH: process.env['PATH'], port: String(port), fprocess: 'cat', suppress_lock: 'true' }, stdio: 'ignore' });
  for (;;) {
    const status = await get(port, '/_/health').catch(() => 0);
    if (status === 200) break;
  }
  const t = ms(process.hrtime.bigint() - t0);
  const exited = new Promise((r) => p.on('exit', r));
  p.kill('SIGKILL');
  await exited;
  return t;
}

async function spawnTrue(): Promise<number> {
  const t0 = process.hrtime.bigint();
  const p = spawn(BUSYBOX, ['true'], { stdio: 'ignore' });
  await new Promise((r) => p.on('exit', r));
  return ms(process.hrtime.bigint() - t0);
}

async function serve(cmd: string, args: string[], env: Record<string, string>, port: number): Promise<{ stop(): Promise<void>; pid: number }> {
  const p = spawn(cmd, args, { env: { PATH: process.env['PATH'] ?? '', ...env }, stdio: 'ignore' });
  for (;;) if ((await get(port, '/page.txt').catch(() => 0)) !== 0) break;
  return {
    pid: p.pid!,
    async stop() {
      const exited = new Promise((r) => p.on('exit', r));
      p.kill('SIGKILL');
      await exited;
    },
  };
}

async function latencies(port: number, path: string, body?: string): Promise<number[]> {
  const out: number[] = [];
  for (let i = 0; i < REQUESTS; i++) {
    const t0 = process.hrtime.bigint();
    const status = await get(port, path, body);
    out.push(ms(process.hrtime.bigint() - t0));
    if (status !== 200) throw new Error(`${path} on ${port}: ${status}`);
  }
  return out;
}

try {
  const starts: number[] = [];
  const trues: number[] = [];
  for (let i = 0; i < STARTS; i++) {
    starts.push(await startToReady());
    trues.push(await spawnTrue());
  }
  console.log(`start to ready (spawn -> /_/health 200), ${STARTS} starts: median ${median(starts).toFixed(2)} ms, p99 ${p99(starts).toFixed(2)} ms`);
  console.log(`  spawn -> exit of busybox true: median ${median(trues).toFixed(2)} ms (the watchdog's own share: ~${(median(starts) - median(trues)).toFixed(2)} ms)`);

  const body = 'x'.repeat(100);
  const wdPort = nextPort++;
  const wd = await serve(WATCHDOG, [], { port: String(wdPort), fprocess: 'cat', suppress_lock: 'true', mode: 'static', static_path: dir }, wdPort);
  const wdStatic = await latencies(wdPort, '/page.txt');
  await wd.stop();
  const wd2Port = nextPort++;
  const wd2 = await serve(WATCHDOG, [], { port: String(wd2Port), fprocess: 'cat', suppress_lock: 'true' }, wd2Port);
  const wdFork = await latencies(wd2Port, '/', body);
  const rss = Number(/^VmRSS:\s+(\d+)/m.exec(readFileSync(`/proc/${wd2.pid}/status`, 'utf8'))?.[1]);
  await wd2.stop();
  const bbPort = nextPort++;
  const bb = await serve(BUSYBOX, ['httpd', '-f', '-p', `127.0.0.1:${bbPort}`, '-h', dir], {}, bbPort);
  const bbStatic = await latencies(bbPort, '/page.txt');
  const bbCgi = await latencies(bbPort, '/cgi-bin/cat', body);
  await bb.stop();
  const row = (what: string, xs: number[]): string => `  ${what}: median ${median(xs).toFixed(3)} ms, p99 ${p99(xs).toFixed(3)} ms`;
  console.log(`per request, ${REQUESTS} sequential, each on a new connection:`);
  console.log(row('watchdog streaming, fork of cat', wdFork));
  console.log(row('busybox httpd, CGI script running cat', bbCgi));
  console.log(row('watchdog static file', wdStatic));
  console.log(row('busybox httpd static file', bbStatic));
  console.log(`watchdog listener resident memory after ${REQUESTS} requests: ${rss} KiB`);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
