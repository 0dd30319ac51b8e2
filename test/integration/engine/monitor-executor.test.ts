/**
 * berth-monitor's --executor mode driven directly, with a stand-in executor
 * (a shell script that leaves one child waiting on a fifo, as the real
 * executor leaves the container waiting for start): the report, the pid
 * learned on RUN/ctl, and `abort`.
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, closeSync, constants, existsSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { afterEach, test } from 'node:test';
import { until } from '../../helpers/api.ts';

const MONITOR = join(import.meta.dirname, '../../../build/berth-monitor');
const cleanups: (() => void)[] = [];
afterEach(() => {
  for (const c of cleanups.splice(0).reverse()) c();
});

function zombie(pid: number): boolean {
  try {
    return /^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return false;
  }
}

/** Running: a process whose parent has not reaped it yet counts as gone. */
function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  return !zombie(pid);
}

function tell(runDir: string, line: string): void {
  const fd = openSync(join(runDir, 'ctl'), constants.O_WRONLY | constants.O_NONBLOCK);
  writeSync(fd, `${line}\n`);
  closeSync(fd);
}

interface Started {
  runDir: string;
  monitor: number;
  executor: number;
  /** The stand-in container: waits until `release()`, then exits 9. */
  child: number;
  release(): void;
  report: () => string;
}

async function startMonitor(): Promise<Started> {
  const dir = mkdtempSync(join(tmpdir(), 'berth-monexec-'));
  const runDir = mkdtempSync('/tmp/bm-');
  cleanups.push(() => {
    rmSync(dir, { recursive: true, force: true });
    rmSync(runDir, { recursive: true, force: true });
  });
  mkdirSync(runDir, { recursive: true, mode: 0o700 });
  const fifo = join(dir, 'go');
  assert.equal(spawnSync('mkfifo', [fifo]).status, 0);
  const script = join(dir, 'executor');
  writeFileSync(script, `#!/bin/sh\n[ "$1 $2" = "4 5" ] || exit 3\n( read x < "${fifo}"; exit 9 ) &\necho $! > "${dir}/child"\n`);
  chmodSync(script, 0o755);
  const plan = openSync('/dev/null', 'r');
  const m = spawn(MONITOR, ['--executor', script, '--id', 'monexec', '--run-dir', runDir, '--report-fd', '3'], {
    stdio: ['ignore', 'ignore', 'inherit', 'pipe', 'pipe', plan],
    env: { PATH: '/usr/bin:/bin' },
  });
  closeSync(plan);
  let report = '';
  (m.stdio[3] as Readable).on('data', (b: Buffer) => (report += b.toString()));
  await until('the executor\'s exit in the report', () => /\nexit \d+\n/.test(report));
  const [, executor, monitor] = /^pid (\d+) (\d+)\n/.exec(report)!.map(Number);
  await until('the child\'s pid', () => existsSync(join(dir, 'child')) && readFileSync(join(dir, 'child'), 'utf8').endsWith('\n'));
  const child = Number(readFileSync(join(dir, 'child'), 'utf8'));
  const release = (): void => {
    if (alive(child)) closeSync(openSync(fifo, 'w'));
  };
  cleanups.push(() => {
    release();
    if (alive(monitor!)) process.kill(monitor!, 'SIGKILL');
  });
  (m.stdio[4] as Readable).destroy();
  return { runDir, monitor: monitor!, executor: executor!, child, release, report: () => report };
}

test('--executor reports the executor\'s pid and exit; the container\'s pid, told on ctl, gets its exit written', { timeout: 30_000 }, async () => {
  const s = await startMonitor();
  assert.match(s.report(), /^pid \d+ \d+\nexit 0\n$/);
  assert.notEqual(s.executor, s.child);
  // The child's pid and its exit reach the stopped monitor together: the pid must be read before it gives up.
  process.kill(s.monitor, 'SIGSTOP');
  try {
    tell(s.runDir, `pid ${s.child}`);
    s.release();
    await until('the child to exit', () => zombie(s.child));
  } finally {
    process.kill(s.monitor, 'SIGCONT');
  }
  await until('the exit file', () => existsSync(join(s.runDir, 'exit')));
  assert.equal(readFileSync(join(s.runDir, 'exit'), 'utf8'), 'exit 9\n');
  await until('the monitor to quit', () => !alive(s.monitor));
});

test('--executor: told `abort`, the monitor quits writing no exit and removes its attach socket and ctl', { timeout: 30_000 }, async () => {
  const s = await startMonitor();
  assert.ok(existsSync(join(s.runDir, 'attach')));
  tell(s.runDir, 'abort');
  await until('the monitor to quit', () => !alive(s.monitor));
  assert.equal(existsSync(join(s.runDir, 'exit')), false);
  assert.equal(existsSync(join(s.runDir, 'attach')), false);
  assert.equal(existsSync(join(s.runDir, 'ctl')), false);
});

test('--executor: an executor that leaves nothing (no child, no pid told) makes the monitor quit writing no exit', { timeout: 30_000 }, async () => {
  const s = await startMonitor();
  s.release();
  await until('the monitor to quit', () => !alive(s.monitor));
  assert.equal(existsSync(join(s.runDir, 'exit')), false);
});

test('--executor: the monitor makes its log, attach socket and ctl while the executor starts; when that fails, the executor is killed and nothing is reported', { timeout: 30_000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'berth-monexec-'));
  const runDir = mkdtempSync('/tmp/bm-');
  cleanups.push(() => {
    rmSync(dir, { recursive: true, force: true });
    rmSync(runDir, { recursive: true, force: true });
  });
  // The stand-in executor writes its pid, then waits: it must not be left running.
  const script = join(dir, 'executor');
  writeFileSync(script, `#!/bin/sh\necho $$ > "${dir}/executor.pid"\nexec sleep 60\n`);
  chmodSync(script, 0o755);
  const plan = openSync('/dev/null', 'r');
  const log = join(dir, 'missing', 'container.log');
  const m = spawn(MONITOR, ['--executor', script, '--id', 'monexec', '--run-dir', runDir, '--log', log, '--log-max-size', '1000', '--log-max-files', '1', '--log-line-max', '100', '--report-fd', '3'], {
    stdio: ['ignore', 'ignore', 'pipe', 'pipe', 'pipe', plan],
    env: { PATH: '/usr/bin:/bin' },
  });
  closeSync(plan);
  let report = '';
  let stderr = '';
  (m.stdio[3] as Readable).on('data', (b: Buffer) => (report += b.toString()));
  m.stderr!.on('data', (b: Buffer) => (stderr += b.toString()));
  await until('the monitor to give up', () => stderr.includes(log) && (m.stdio[3] as Readable).closed);
  assert.match(stderr, /berth-monitor: .*container\.log: No such file or directory/);
  assert.equal(report, '', 'no `pid` report: the caller sees the monitor fail');
  // The executor had started (it wrote its pid) or had not; either way it is not left.
  await until('the executor to be gone', () => !existsSync(join(dir, 'executor.pid')) || !alive(Number(readFileSync(join(dir, 'executor.pid'), 'utf8'))));
  assert.equal(existsSync(join(runDir, 'ctl')), false, 'no ctl was made');
  (m.stdio[4] as Readable).destroy();
});
