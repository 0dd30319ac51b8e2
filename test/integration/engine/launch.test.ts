/**
 * How a container is launched: by default the engine runs the runtime's
 * create in its own process and berth-monitor execs the executor
 * (src/engine/monitor/host.ts), so no runtime command runs; with
 * EngineOptions.runtime the monitor runs that runtime's `create` command.
 * Both ways the container's process is the monitor's child, and a SIGKILL
 * of the process that created it leaves it to the next engine.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { after, before, test } from 'node:test';
import type { Engine } from '../../../src/engine/engine.ts';
import { resize } from '../../../src/engine/monitor/attach.ts';
import { runDir } from '../../../src/engine/paths.ts';
import { parseRunOptions, type RunFlags } from '../../../src/engine/spec/options.ts';
import { until } from '../../helpers/api.ts';
import { testEngine, type TestEngine } from '../../helpers/engine.ts';

const REPO = join(import.meta.dirname, '../../..');
const RUNTIME_BIN = join(REPO, 'bin', 'berth-runtime');
const NODE = process.execPath;

let te: TestEngine;
before(async () => {
  te = await testEngine();
});
after(async () => {
  await te?.cleanup();
});

function ppid(pid: number): number {
  return Number(/^PPid:\s*(\d+)$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1]);
}

function monitorPid(engine: Engine, id: string): number {
  return Number(readFileSync(join(runDir(engine.paths, id), 'monitor.pid'), 'utf8').trim());
}

/** The berth-monitor processes serving container `id`. */
function monitorsOf(id: string): string[] {
  return readdirSync('/proc').filter((p) => {
    if (!/^\d+$/.test(p)) return false;
    try {
      return readlinkSync(`/proc/${p}/exe`).endsWith('/berth-monitor') && readFileSync(`/proc/${p}/cmdline`, 'utf8').includes(id);
    } catch {
      return false;
    }
  });
}

async function started(engine: Engine, name: string, script: string, flags: RunFlags = {}, openStdin = false): Promise<string> {
  const c = await engine.create({ image: 'busybox', args: ['sh', '-c', script], options: parseRunOptions({ network: 'none', name, ...flags }), openStdin });
  await engine.start(c.id);
  return c.id;
}

/** The container's process is the monitor's child; its output is logged and its exit code recorded. */
async function checkLaunch(engine: Engine, name: string): Promise<string> {
  const id = await started(engine, name, 'echo from-$$; read line; exit 5', {}, true);
  const pid = engine.view(id).record.pid!;
  const monitor = monitorPid(engine, id);
  assert.equal(ppid(pid), monitor, `the container (pid ${pid}) is the monitor's (pid ${monitor}) child`);
  assert.ok(readlinkSync(`/proc/${monitor}/exe`).endsWith('/berth-monitor'));
  // The exit file only hands the exit to the engine, which commits it before reporting it: no fsync there.
  assert.ok(readFileSync(`/proc/${monitor}/cmdline`, 'utf8').split('\0').includes('--no-sync'), 'the monitor writes the exit without fsync');
  await engine.kill(id, 9);
  const exited = await engine.wait(id);
  assert.equal(exited.code, 137);
  await until('the log line', () => readFileSync(engine.view(id).paths.log, 'utf8').includes('from-1'));
  return id;
}

test('by default no runtime command runs: the monitor execs the executor and is the container\'s parent', { timeout: 60_000 }, async () => {
  const id = await checkLaunch(te.engine, 'launch-lib');
  // A runtime command's create writes the pid file the monitor reads (RUN/pid); in-process, there is none.
  assert.equal(existsSync(join(runDir(te.engine.paths, id), 'pid')), false);
  await te.engine.remove(id);
});

test('containers that exit as soon as they start have their exit recorded (the pid reaches the monitor before their exit does)', { timeout: 120_000 }, async () => {
  for (let i = 0; i < 10; i++) {
    const id = await started(te.engine, `launch-quick-${i}`, `exit ${i + 1}`);
    assert.equal((await te.engine.wait(id)).code, i + 1);
    assert.equal(readFileSync(join(runDir(te.engine.paths, id), 'exit'), 'utf8'), `exit ${i + 1}\n`);
    await te.engine.remove(id);
  }
});

test('with a terminal the monitor gets the pty master from the in-process create: resize reaches the container', { timeout: 60_000 }, async () => {
  const script = 'until [ "$(stty size)" = "30 100" ]; do sleep 0.05; done; tty; exit 3';
  const c = await te.engine.create({ image: 'busybox', args: ['sh', '-c', script], options: parseRunOptions({ network: 'none', name: 'launch-tty' }), tty: true });
  await te.engine.start(c.id);
  resize(runDir(te.engine.paths, c.id), 30, 100);
  assert.equal((await te.engine.wait(c.id)).code, 3);
  await until('the log line', () => readFileSync(te.engine.view(c.id).paths.log, 'utf8').includes('/dev/pts/'));
  await te.engine.remove(c.id);
});

test('with EngineOptions.runtime the monitor runs its create command, and is the container\'s parent', { timeout: 60_000 }, async () => {
  const engine = await te.reopen({ runtime: RUNTIME_BIN });
  const id = await checkLaunch(engine, 'launch-cmd');
  assert.equal(existsSync(join(runDir(engine.paths, id), 'pid')), true, 'the runtime command wrote RUN/pid');
  await engine.remove(id);
  engine.close();
});

test('a create that fails in-process leaves no monitor and no exit file behind', { timeout: 60_000 }, async () => {
  // A file bound over a directory: the executor's mount step fails, after the monitor started it.
  const scratch = mkdtempSync(join(tmpdir(), 'berth-launch-'));
  writeFileSync(join(scratch, 'file'), 'x');
  try {
    const c = await te.engine.create({ image: 'busybox', args: ['true'], options: parseRunOptions({ network: 'none', name: 'launch-fail', volume: [`${join(scratch, 'file')}:/bin`] }) });
    await assert.rejects(te.engine.start(c.id), /\(mount\).*"\/bin".*not a directory/);
    await until('its monitor to quit', () => monitorsOf(c.id).length === 0);
    assert.equal(existsSync(join(runDir(te.engine.paths, c.id), 'exit')), false);
    assert.equal(te.engine.view(c.id).record.state, 'exited');
    await te.engine.remove(c.id);
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
});

test('a SIGKILL of the creating process (berthd) leaves the container to the next engine, still the monitor\'s child', { timeout: 60_000 }, async () => {
  // Another process opens the engine on the same roots, starts a container, says its id and is killed.
  const script = `
    import { Engine } from ${JSON.stringify(pathToFileURL(join(REPO, 'src/engine/engine.ts')).href)};
    import { parseRunOptions } from ${JSON.stringify(pathToFileURL(join(REPO, 'src/engine/spec/options.ts')).href)};
    const e = await Engine.open({ root: ${JSON.stringify(te.root)}, runRoot: ${JSON.stringify(te.runRoot)} });
    const c = await e.create({ image: 'busybox', args: ['sh', '-c', 'trap "exit 42" TERM; while :; do sleep 0.1; done'], options: parseRunOptions({ network: 'none', name: 'launch-kill9' }) });
    await e.start(c.id);
    process.stdout.write(c.id + '\\n');
    setInterval(() => undefined, 1000);
  `;
  const child = spawn(NODE, ['--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  child.stdout.on('data', (b: Buffer) => (out += b.toString()));
  try {
    await until('the other process to start its container', () => out.includes('\n') || child.exitCode !== null, 30_000);
  } finally {
    child.kill('SIGKILL');
  }
  if (child.exitCode === null && child.signalCode === null) await once(child, 'exit');
  const id = out.trim();
  assert.match(id, /^[0-9a-f]{64}$/, `the other process said ${JSON.stringify(out)}`);
  const fresh = await te.reopen();
  const report = await fresh.recover();
  assert.ok(report.adopted.includes(id), JSON.stringify(report));
  const pid = fresh.view(id).record.pid!;
  assert.equal(ppid(pid), monitorPid(fresh, id), 'still the monitor\'s child');
  const stopped = await fresh.stop(id, { timeout: 10 });
  assert.equal(stopped.exitCode, 42);
  await fresh.remove(id);
  fresh.close();
});

test('an image\'s config is read from the store once, each create getting its own copy of it', { timeout: 60_000 }, async (t) => {
  const images = te.engine.images;
  const readConfig = images.readConfig.bind(images);
  let reads = 0;
  images.readConfig = async (img) => {
    reads++;
    return readConfig(img);
  };
  t.after(() => {
    images.readConfig = readConfig;
  });
  const ids: string[] = [];
  t.after(async () => {
    for (const id of ids) await te.engine.remove(id, { force: true });
  });
  for (const name of ['config-once-1', 'config-once-2', 'config-once-3']) {
    const c = await te.engine.create({ image: 'busybox', args: ['true'], options: parseRunOptions({ network: 'none', name, label: [`${name}=x`] }) });
    ids.push(c.id);
    // The image's labels and this create's own, and no other create's: the copy was not shared.
    assert.deepEqual(Object.keys(c.labels).filter((k) => k.startsWith('config-once-')), [name]);
  }
  assert.ok(reads <= 1, `the config was read ${reads} times for three creates`);
});

/** This process's open fds on its own cgroup.procs files: the cgroup-join warming (runtime/cgroups/warm.ts) holds one. */
function warmingFds(): string[] {
  return readdirSync('/proc/self/fd').filter((fd) => {
    try {
      return /\/cgroup\.procs$/.test(readlinkSync(`/proc/self/fd/${fd}`));
    } catch {
      return false;
    }
  });
}

test('a create keeps the cgroup join warm from its first step until a moment after it, then stops', { timeout: 60_000 }, async (t) => {
  await until('no warming left from before', () => warmingFds().length === 0);
  const c = await te.engine.create({ image: 'busybox', args: ['true'], options: parseRunOptions({ network: 'none', name: 'warm-create' }) });
  t.after(() => te.engine.remove(c.id, { force: true }));
  assert.ok(warmingFds().length >= 1, 'warming when the create returns, so a start right after finds the join fast');
  await until('the warming to stop by itself', () => warmingFds().length === 0);
});
