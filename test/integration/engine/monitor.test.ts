/**
 * berth-monitor with real busybox containers through berth-runtime: the
 * output lands in the CRI-format log with its streams, the exit status is
 * recorded, the monitor outlives a SIGKILL of whoever started it, attach
 * sees live output and feeds stdin, a fast writer does not grow the
 * monitor, rotation keeps at most N files. Root only.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import { attach, resize } from '../../../src/engine/monitor/attach.ts';
import { readExit, type ExitStatus } from '../../../src/engine/monitor/exit-file.ts';
import { readLog, type LogRecord } from '../../../src/engine/monitor/log-reader.ts';
import { startMonitor, type MonitorOptions } from '../../../src/engine/monitor/spawn.ts';
import { alive, monitorPids } from '../../helpers/monitors.ts';
import { makeBundle, onCleanup, RUNTIME_BIN, RuntimeFixture, tempDir, uniqueId, waitFor } from '../../helpers/runtime.ts';

interface Started {
  opts: MonitorOptions;
  rt: RuntimeFixture;
  id: string;
  pid: number;
  monitorPid: number;
}

type Limits = Omit<MonitorOptions['log'], 'path'>;
const LIMITS: Limits = { maxSize: 1 << 20, maxFiles: 3, lineMax: 16384 };

function options(t: TestContext, rt: RuntimeFixture, args: string[], extra: Partial<MonitorOptions> = {}, limits = LIMITS): MonitorOptions {
  const bundle = makeBundle(t, { args });
  const dir = tempDir(t, 'berth-monitor-');
  const runDir = join(dir, 'run');
  mkdirSync(runDir, { mode: 0o700 });
  return {
    runtime: RUNTIME_BIN, root: rt.root, bundle: bundle.dir, id: rt.track(uniqueId('mon')), runDir,
    log: { path: join(dir, 'ctr.log'), ...limits }, ...extra,
  };
}

/** Creates through a monitor; the monitor is killed after the test if it is still there. */
async function create(t: TestContext, args: string[], extra: Partial<MonitorOptions> = {}, limits = LIMITS): Promise<Started> {
  const rt = new RuntimeFixture(t);
  const opts = options(t, rt, args, extra, limits);
  const { pid, monitorPid } = await startMonitor(opts);
  onCleanup(t, async () => {
    await rt.run(['delete', '--force', opts.id]);
    await waitFor('the monitor to exit', () => (alive(monitorPid) ? undefined : true)).catch(() => process.kill(monitorPid, 'SIGKILL'));
  });
  return { opts, rt, id: opts.id, pid, monitorPid };
}

async function start(s: Started): Promise<void> {
  const r = await s.rt.run(['start', s.id]);
  assert.equal(r.code, 0, r.stderr);
}

function exited(s: Started): Promise<ExitStatus> {
  return waitFor('the exit file', () => readExit(s.opts.runDir), 20_000);
}

async function records(s: Started): Promise<LogRecord[]> {
  const out: LogRecord[] = [];
  for await (const r of readLog(s.opts.log.path, { maxFiles: s.opts.log.maxFiles })) out.push(r);
  return out;
}

const text = (rs: LogRecord[], stream: string): string =>
  rs.filter((r) => r.stream === stream).map((r) => r.bytes.toString() + (r.partial ? '' : '\n')).join('');

test('output lands in the log with its streams, and the exit code is recorded', async (t) => {
  const s = await create(t, ['sh', '-c', 'echo out1; echo err1 >&2; printf "no newline"; exit 7']);
  assert.ok(alive(s.pid), 'the container process runs once reported');
  assert.equal(readFileSync(`/proc/${s.pid}/status`, 'utf8').match(/^PPid:\s+(\d+)/m)?.[1], String(s.monitorPid), 'the container is the monitor\'s child');
  await start(s);
  assert.deepEqual(await exited(s), { code: 7 });
  const rs = await records(s);
  assert.equal(text(rs, 'stdout'), 'out1\nno newline');
  assert.equal(text(rs, 'stderr'), 'err1\n');
  assert.ok(rs.every((r) => r.time > 1_600_000_000_000_000_000n), 'records carry their time');
  await waitFor('the monitor to exit', () => (alive(s.monitorPid) ? undefined : true));
  assert.equal(existsSync(join(s.opts.runDir, 'attach')), false, 'the attach socket is removed');
});

test('a container killed by a signal has the signal recorded', async (t) => {
  // From outside: the container's init ignores a SIGKILL sent from inside its own pid namespace.
  const s = await create(t, ['sleep', '100']);
  await start(s);
  assert.equal((await s.rt.run(['kill', s.id, 'KILL'])).code, 0);
  assert.deepEqual(await exited(s), { signal: 9 });
});

test('a failing create is reported with the runtime\'s status and message', async (t) => {
  const rt = new RuntimeFixture(t);
  const opts = options(t, rt, ['true']);
  opts.bundle = join(opts.runDir, 'no-such-bundle');
  await assert.rejects(startMonitor(opts), (err: Error & { code?: string }) => {
    assert.equal(err.code, 'runtime_create_failed');
    assert.match(err.message, /create exited [1-9]/);
    return true;
  });
  assert.deepEqual(readdirSync(opts.runDir).filter((f) => f === 'attach' || f === 'ctl'), [], 'no socket or fifo is left behind');
});

test('the monitor survives a SIGKILL of the process that started it and still records the exit', async (t) => {
  const rt = new RuntimeFixture(t);
  const opts = options(t, rt, ['sh', '-c', 'read x; echo got $x; exit 3'], { stdin: true });
  // The starter: a separate Node process that prints the report and then waits to be killed.
  const script = `import { startMonitor } from ${JSON.stringify(join(import.meta.dirname, '../../../src/engine/monitor/spawn.ts'))};
    const r = await startMonitor(${JSON.stringify(opts)}); console.log(JSON.stringify(r)); setInterval(() => {}, 1000);`;
  const starter = spawn(process.execPath, ['--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
  onCleanup(t, () => starter.kill('SIGKILL'));
  const line = await new Promise<string>((resolve) => starter.stdout.once('data', (b: Buffer) => resolve(b.toString())));
  const { pid, monitorPid } = JSON.parse(line) as { pid: number; monitorPid: number };
  onCleanup(t, async () => {
    await rt.run(['delete', '--force', opts.id]);
    await waitFor('the monitor to exit', () => (alive(monitorPid) ? undefined : true)).catch(() => process.kill(monitorPid, 'SIGKILL'));
  });
  starter.kill('SIGKILL');
  await new Promise((r) => starter.once('exit', r));
  assert.ok(alive(monitorPid) && alive(pid), 'monitor and container outlive the starter');
  const s: Started = { opts, rt, id: opts.id, pid, monitorPid };
  await start(s);
  const a = await attach(opts.runDir, () => undefined);
  a.write('hello\n');
  assert.deepEqual(await exited(s), { code: 3 });
  a.close();
  assert.equal(text(await records(s), 'stdout'), 'got hello\n');
});

test('attach sees live output and sends stdin', async (t) => {
  const s = await create(t, ['sh', '-c', 'echo ready; while read line; do echo "echo:$line"; echo "err:$line" >&2; done; exit 0'], { stdin: true });
  let seen = { stdout: '', stderr: '' };
  const a = await attach(s.opts.runDir, (stream, b) => (seen = { ...seen, [stream]: seen[stream] + b.toString() }));
  onCleanup(t, () => a.close());
  await start(s);
  await waitFor('ready on attach', () => (seen.stdout.includes('ready\n') ? true : undefined));
  a.write('one\n');
  await waitFor('the echo', () => (seen.stdout.includes('echo:one\n') && seen.stderr.includes('err:one\n') ? true : undefined));
  const st = statSync(join(s.opts.runDir, 'attach'));
  assert.equal(st.mode & 0o777, 0o600, 'the attach socket is for its owner only');
  await s.rt.run(['kill', s.id, 'KILL']);
  assert.deepEqual(await exited(s), { signal: 9 });
  assert.match(text(await records(s), 'stdout'), /ready\necho:one\n/);
});

test('an attached writer the container does not read does not stall its output', async (t) => {
  // Before: the monitor blocked writing stdin into a full pipe, and the output stopped with it.
  const s = await create(t, ['sh', '-c', 'while true; do echo tick; sleep 0.05; done'], { stdin: true });
  let ticks = 0;
  const a = await attach(s.opts.runDir, (_stream, b) => (ticks += b.toString().split('tick').length - 1));
  onCleanup(t, () => a.close());
  await start(s);
  a.write(Buffer.alloc(1 << 20, 0x61));
  await waitFor('a tick', () => (ticks > 0 ? true : undefined));
  const after = ticks;
  await waitFor('more ticks after a megabyte of unread stdin', () => (ticks > after + 3 ? true : undefined));
  assert.equal((await s.rt.run(['kill', s.id, 'KILL'])).code, 0);
  assert.deepEqual(await exited(s), { signal: 9 });
  const end = await a.closed;
  assert.ok(end === undefined || /ECONNRESET|EPIPE/.test(end.message), `the attachment ends with the monitor: ${end?.message}`);
});

test('with a terminal: the monitor holds the master, resize reaches the container, attach is raw', async (t) => {
  const rt = new RuntimeFixture(t);
  const opts = options(t, rt, ['sh', '-c', 'stty size; read x; echo "got:$x"'], { terminal: true, stdin: true });
  const spec = JSON.parse(readFileSync(join(opts.bundle, 'config.json'), 'utf8')) as { process: { terminal: boolean } };
  spec.process.terminal = true;
  writeFileSync(join(opts.bundle, 'config.json'), JSON.stringify(spec));
  const { pid, monitorPid } = await startMonitor(opts);
  onCleanup(t, async () => {
    await rt.run(['delete', '--force', opts.id]);
    await waitFor('the monitor to exit', () => (alive(monitorPid) ? undefined : true)).catch(() => process.kill(monitorPid, 'SIGKILL'));
  });
  const s: Started = { opts, rt, id: opts.id, pid, monitorPid };
  resize(opts.runDir, 40, 100);
  let seen = '';
  const a = await attach(opts.runDir, (stream, b) => (seen += `${stream}:${b.toString()}`), true);
  onCleanup(t, () => a.close());
  await start(s);
  await waitFor('the size', () => (seen.includes('40 100') ? true : undefined));
  a.write('hi\r');
  assert.deepEqual(await exited(s), { code: 0 });
  assert.match(seen, /^stdout:/, 'terminal output is raw, all of it on stdout');
  const logged = text(await records(s), 'stdout');
  assert.match(logged, /40 100\r?\n/);
  assert.match(logged, /got:hi/);
});

/** The resident set in KiB; 0 once the process is gone (or a zombie, which has none). */
function rssKiB(pid: number): number {
  try {
    return Number(/^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0);
  } catch {
    return 0;
  }
}

test('a fast writer keeps the monitor\'s memory bounded, and rotation keeps at most N files', async (t) => {
  const limits = { maxSize: 256 * 1024, maxFiles: 3, lineMax: 4096 };
  // 64 MiB of short lines, then 256 KiB without a newline (cut into partial records).
  const s = await create(t, ['sh', '-c', 'yes 0123456789abcdefghijklmnopqrstuvwxyz | head -c 67108864; head -c 262144 /dev/zero | tr "\\0" "#"'], {}, limits);
  await start(s);
  let maxRss = 0;
  await waitFor('the exit file', () => {
    maxRss = Math.max(maxRss, rssKiB(s.monitorPid));
    return readExit(s.opts.runDir);
  }, 120_000);
  t.diagnostic(`monitor VmRSS peak while writing: ${maxRss} KiB`);
  assert.ok(maxRss > 0 && maxRss < 4096, `monitor RSS ${maxRss} KiB`);
  const dir = join(s.opts.log.path, '..');
  const files = readdirSync(dir).filter((f) => f.startsWith('ctr.log'));
  assert.deepEqual(files.sort(), ['ctr.log', 'ctr.log.1', 'ctr.log.2']);
  for (const f of files) assert.ok(statSync(join(dir, f)).size <= limits.maxSize, `${f} within the size cap`);
  const rs = await records(s);
  // The long line (its first record also ends the last short line head cut in the middle).
  const long = rs.filter((r) => r.bytes.includes(0x23));
  assert.ok(long.length >= 256 * 1024 / limits.lineMax && long.every((r) => r.partial && r.bytes.length <= limits.lineMax), 'the long line is cut into partial records of at most lineMax');
  assert.equal(long.reduce((n, r) => n + r.bytes.filter((b) => b === 0x23).length, 0), 256 * 1024, 'the long line is whole across its records');
});

test('no monitor, fd or mount is left after the tests', () => {
  assert.deepEqual(monitorPids(), []);
  assert.doesNotMatch(readFileSync('/proc/self/mountinfo', 'utf8'), /berth-bundle-/);
});
