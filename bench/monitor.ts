/**
 * Memory of the per-container monitor: berth-monitor (driving
 * build/berth-runtime) against podman's conmon (driving runc), each
 * watching N busybox containers that print a line every 0.2 s.
 *
 * After a few seconds of output, each monitor's VmRSS (/proc/PID/status)
 * and Pss (/proc/PID/smaps_rollup) are read; the median and the sum per
 * tool are printed, and the ratio berth/conmon. Run as root.
 *
 *   build/node bench/monitor.ts [--containers 10] [--seconds 3] [--json]
 *
 * Everything started here (containers, monitors, temp dirs) is removed at
 * the end, also on failure, in bounded time.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { startMonitor } from '../src/engine/monitor/spawn.ts';
import { defaultSpec } from '../src/oci/default-spec.ts';
import { makeRootfs } from '../test/helpers/runtime.ts';
import { median } from './stats.ts';

const args = process.argv.slice(2);
const option = (name: string): string | undefined => (args.includes(name) ? args[args.indexOf(name) + 1] : undefined);
const count = Number(option('--containers') ?? 10) || 10;
const seconds = Number(option('--seconds') ?? 3) || 3;
const json = args.includes('--json');
const repo = join(import.meta.dirname, '..');
const berthRuntime = join(repo, 'build', 'berth-runtime');
const berthMonitor = join(repo, 'build', 'berth-monitor');
const conmon = '/usr/bin/conmon';
const runc = '/usr/sbin/runc';

interface Mem {
  rssKiB: number;
  pssKiB: number;
}

/** VmRSS and Pss of a process, in KiB. */
function memoryOf(pid: number): Mem {
  const field = (text: string, name: string): number => {
    const m = new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(text);
    if (!m) throw new Error(`pid ${pid}: no ${name}`);
    return Number(m[1]);
  };
  return { rssKiB: field(readFileSync(`/proc/${pid}/status`, 'utf8'), 'VmRSS'), pssKiB: field(readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8'), 'Pss') };
}

const alive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};


async function waitUntil(what: string, check: () => boolean, timeoutMs = 10_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(50);
  }
}

function run(cmd: string, argv: string[]): void {
  const r = spawnSync(cmd, argv, { stdio: ['ignore', 'ignore', 'pipe'], encoding: 'utf8', timeout: 10_000 });
  if (r.error) throw new Error(`${cmd}: ${r.error.message}`);
  if (r.status !== 0) throw new Error(`${cmd} ${argv.join(' ')}: exit ${r.status ?? r.signal}: ${r.stderr.trim()}`);
}

const work = mkdtempSync(join(tmpdir(), 'berth-bench-monitor-'));
const bundle = join(work, 'bundle');
makeRootfs(bundle);
const spec = defaultSpec();
spec.process!.terminal = false;
spec.process!.args = ['sh', '-c', 'while true; do echo tick; sleep 0.2; done'];
writeFileSync(join(bundle, 'config.json'), JSON.stringify(spec));

interface Started {
  runtime: string;
  root: string;
  id: string;
  monitorPid: number;
  log: string;
}
const tools = {
  berth: { runtime: berthRuntime, root: join(work, 'berth-state'), started: [] as Started[] },
  conmon: { runtime: runc, root: join(work, 'runc-state'), started: [] as Started[] },
};
type Tool = keyof typeof tools;

async function startBerth(i: number): Promise<void> {
  const t = tools.berth;
  const id = `bench-mon-berth-${process.pid}-${i}`;
  const runDir = join(work, 'berth-run', id);
  mkdirSync(runDir, { recursive: true, mode: 0o700 });
  const { monitorPid } = await startMonitor({
    runtime: t.runtime, root: t.root, bundle, id, runDir, monitor: berthMonitor,
    log: { path: join(runDir, 'log'), maxSize: 10 * 1024 * 1024, maxFiles: 2, lineMax: 16 * 1024 },
  });
  t.started.push({ runtime: t.runtime, root: t.root, id, monitorPid, log: join(runDir, 'log') });
  run(t.runtime, ['--root', t.root, 'start', id]);
}

async function startConmon(i: number): Promise<void> {
  const t = tools.conmon;
  const id = `bench-mon-conmon-${process.pid}-${i}`;
  const dir = join(work, 'conmon-run', id);
  mkdirSync(join(dir, 'exits'), { recursive: true, mode: 0o700 });
  mkdirSync(join(dir, 'sockets'), { recursive: true, mode: 0o700 });
  const pidFile = join(dir, 'pid');
  const conmonPidFile = join(dir, 'conmon.pid');
  // conmon daemonizes: its first process leaves once the daemon is forked; the daemon runs `runc create`.
  run(conmon, [
    '-c', id, '-u', id, '-n', id, '-r', t.runtime, '-b', bundle, '-p', pidFile, '-P', conmonPidFile,
    '-l', `k8s-file:${join(dir, 'log')}`, '--exit-dir', join(dir, 'exits'), '--socket-dir-path', join(dir, 'sockets'),
    '--runtime-arg', `--root=${t.root}`, '--log-level', 'error',
  ]);
  await waitUntil(`${id}: conmon pid file`, () => existsSync(conmonPidFile) && readFileSync(conmonPidFile, 'utf8').trim() !== '');
  const monitorPid = Number(readFileSync(conmonPidFile, 'utf8').trim());
  t.started.push({ runtime: t.runtime, root: t.root, id, monitorPid, log: join(dir, 'log') });
  await waitUntil(`${id}: container pid file`, () => existsSync(pidFile) && readFileSync(pidFile, 'utf8').trim() !== '');
  run(t.runtime, ['--root', t.root, 'start', id]);
}

/** Deletes every container and waits for its monitor to leave (SIGKILL after 5 s). */
async function cleanup(): Promise<string[]> {
  const problems: string[] = [];
  for (const t of Object.values(tools)) {
    for (const s of t.started) {
      const r = spawnSync(s.runtime, ['--root', s.root, 'delete', '--force', s.id], { stdio: ['ignore', 'ignore', 'pipe'], encoding: 'utf8', timeout: 10_000 });
      if (r.status !== 0) problems.push(`${s.runtime} delete --force ${s.id}: ${r.error?.message ?? `exit ${r.status ?? r.signal}: ${r.stderr.trim()}`}`);
    }
  }
  const monitors = Object.values(tools).flatMap((t) => t.started.map((s) => s.monitorPid));
  const end = Date.now() + 5000;
  while (monitors.some(alive) && Date.now() < end) await sleep(50);
  for (const pid of monitors.filter(alive)) {
    problems.push(`monitor ${pid} still running after 5 s: killed`);
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // Gone meanwhile.
    }
  }
  rmSync(work, { recursive: true, force: true });
  return problems;
}

interface Summary {
  monitors: number;
  rssKiB: { median: number; sum: number };
  pssKiB: { median: number; sum: number };
}
const summary = (ms: Mem[]): Summary => ({
  monitors: ms.length,
  rssKiB: { median: median(ms.map((m) => m.rssKiB)), sum: ms.reduce((a, m) => a + m.rssKiB, 0) },
  pssKiB: { median: median(ms.map((m) => m.pssKiB)), sum: ms.reduce((a, m) => a + m.pssKiB, 0) },
});

let failed = false;
const results: Partial<Record<Tool, Summary>> = {};
try {
  for (let i = 0; i < count; i++) await startBerth(i);
  for (let i = 0; i < count; i++) await startConmon(i);
  await sleep(seconds * 1000);
  for (const name of Object.keys(tools) as Tool[]) {
    const t = tools[name];
    const dead = t.started.filter((s) => !alive(s.monitorPid));
    if (dead.length) throw new Error(`${name}: monitor of ${dead.map((s) => s.id).join(', ')} exited early`);
    const silent = t.started.filter((s) => !existsSync(s.log) || !readFileSync(s.log, 'utf8').includes(' stdout F tick'));
    if (silent.length) throw new Error(`${name}: no output logged for ${silent.map((s) => s.id).join(', ')}`);
    results[name] = summary(t.started.map((s) => memoryOf(s.monitorPid)));
  }
} catch (err) {
  failed = true;
  process.stderr.write(`bench/monitor: ${err instanceof Error ? err.message : String(err)}\n`);
} finally {
  const problems = await cleanup();
  for (const p of problems) process.stderr.write(`bench/monitor: cleanup: ${p}\n`);
  if (problems.length) failed = true;
}

const b = results.berth;
const c = results.conmon;
const ratio = b && c ? {
  rssMedian: b.rssKiB.median / c.rssKiB.median, rssSum: b.rssKiB.sum / c.rssKiB.sum,
  pssMedian: b.pssKiB.median / c.pssKiB.median, pssSum: b.pssKiB.sum / c.pssKiB.sum,
} : undefined;
if (json) {
  process.stdout.write(`${JSON.stringify({ containers: count, seconds, berth: b, conmon: c, ratio })}\n`);
} else if (b || c) {
  process.stdout.write(`${count} containers each, after ${seconds} s of output (KiB)\n`);
  process.stdout.write(`${'monitor'.padEnd(14)}${'RSS median'.padStart(12)}${'RSS sum'.padStart(12)}${'PSS median'.padStart(12)}${'PSS sum'.padStart(12)}\n`);
  for (const [name, s] of [['berth-monitor', b], ['conmon', c]] as const) {
    if (s) process.stdout.write(`${name.padEnd(14)}${s.rssKiB.median.toFixed(0).padStart(12)}${String(s.rssKiB.sum).padStart(12)}${s.pssKiB.median.toFixed(0).padStart(12)}${String(s.pssKiB.sum).padStart(12)}\n`);
  }
  if (ratio) process.stdout.write(`${'berth/conmon'.padEnd(14)}${ratio.rssMedian.toFixed(2).padStart(12)}${ratio.rssSum.toFixed(2).padStart(12)}${ratio.pssMedian.toFixed(2).padStart(12)}${ratio.pssSum.toFixed(2).padStart(12)}\n`);
}
process.exitCode = failed ? 1 : 0;
