/**
 * A primed container (engine.prime, as root): carried through the first
 * half of its start (rootfs, run dir, network on the default bridge,
 * berth-monitor, the runtime's create) and held there, its record still
 * `created`. Its start is only the runtime's start and the program's output
 * and exit are those of a plain start; rm leaves no process, monitor,
 * runtime state, cgroup, mount, namespace or lease; stop does nothing (it
 * is created), kill is refused; a killed process makes the start go the
 * whole way; an engine that vanished with it primed (a kill -9 of berthd)
 * leaves it to the next, which un-primes it and can start it. The engine
 * runs in this process with a network layer on a bridge and /24 of its own.
 */
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test, type TestContext } from 'node:test';
import { PRIMED_MARKER, type Engine } from '../../../src/engine/engine.ts';
import { runDir } from '../../../src/engine/paths.ts';
import { parseRunOptions } from '../../../src/engine/spec/options.ts';
import { isBerthError } from '../../../src/errors.ts';
import { readLeases } from '../../../src/network/cni/leases.ts';
import { NetworkLayer } from '../../../src/network/layer.ts';
import { until } from '../../helpers/api.ts';
import { findLeaks, monitorsOf } from '../../helpers/engine-leaks.ts';
import { testEngine, type TestEngine } from '../../helpers/engine.ts';
import { useTestNetwork } from '../../helpers/test-network.ts';

let te: TestEngine;
/** The engine in use (a test may open another, as a restarted berthd does). */
let current: Engine | undefined;
const layers: NetworkLayer[] = [];
const ids = new Set<string>();

before(async () => {
  const { bridge, bip } = useTestNetwork();
  te = await testEngine({
    network: (db, paths) => {
      const layer = new NetworkLayer(db, { ...paths, poolSize: 0, defaultBridge: bridge, defaultBip: bip });
      layers.push(layer);
      return layer;
    },
  });
  await te.engine.recover();
});

after(async () => {
  await te?.cleanup();
  for (const l of layers) await l.close().catch(() => undefined);
});

/** A process that runs (a zombie, exited and not yet reaped by init, does not). */
function alive(pid: number): boolean {
  try {
    return !/^\d+ \(.*\) Z /.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return false;
  }
}

/** A created container, removed after the test whatever happens (a failed test leaves nothing primed to the next). */
async function created(t: TestContext, name: string, script: string): Promise<string> {
  const c = await te.engine.create({ image: 'busybox', args: ['sh', '-c', script], options: parseRunOptions({ name }) });
  ids.add(c.id);
  t.after(async () => {
    const last = current ?? te.engine;
    if (last.containers.get(c.id) !== undefined) await last.remove(c.id, { force: true });
  });
  return c.id;
}

/** The primed container's process (blocked before execve) and its monitor, checked to be there. */
async function primedParts(engine: Engine, id: string): Promise<{ pid: number; monitor: number }> {
  const rec = await engine.runtimeRecord(id, { starting: true });
  assert.equal(rec.status, 'created', "the runtime's state: created");
  assert.ok(alive(rec.pid), 'its process waits');
  const monitor = Number(readFileSync(join(runDir(engine.paths, id), 'monitor.pid'), 'utf8'));
  assert.ok(alive(monitor), 'its monitor runs');
  assert.deepEqual(monitorsOf(te.runRoot).get(id), [monitor]);
  return { pid: rec.pid, monitor };
}

/** The default network's leases (CNI's are by sandbox, not container: with no pool, each is one of this file's containers). */
function leases(engine: Engine): string[] {
  const net = engine.network!.defaultNetwork().id;
  return readLeases(join(te.root, 'network', 'ipam'), net).map((l) => l.ip);
}

function netnsFiles(): string[] {
  const dir = join(te.runRoot, 'netns');
  return existsSync(dir) ? readdirSync(dir) : [];
}

function logText(engine: Engine, id: string): string {
  return readFileSync(engine.view(id).paths.log, 'utf8');
}

test('prime, then start: only the runtime start is left; the program runs on its network, its output and exit code are right', { timeout: 60_000 }, async (t) => {
  const e = te.engine;
  const id = await created(t, 'prime-start', 'echo "from-primed $(grep -c eth0 /proc/net/dev)"; exit 3');
  const primePhases: string[] = [];
  await e.prime(id, (p) => primePhases.push(p));
  assert.deepEqual(primePhases, ['rootfs and run dir', 'network', 'monitor and runtime create', 'primed']);
  assert.equal(e.find(id).state, 'created', 'the record stays created');
  assert.ok(e.isPrimed(id));
  assert.ok(existsSync(join(runDir(e.paths, id), PRIMED_MARKER)));
  const { pid } = await primedParts(e, id);
  assert.equal(leases(e).length, 1, 'its address is leased');
  await e.prime(id);
  assert.equal((await e.runtimeRecord(id, { starting: true })).pid, pid, 'priming again changes nothing');
  const startPhases: string[] = [];
  const running = await e.start(id, (p) => startPhases.push(p));
  assert.deepEqual(startPhases, ['runtime start']);
  assert.equal(running.pid, pid, 'the primed process is the one that runs');
  assert.equal(e.isPrimed(id), false);
  assert.equal((await e.wait(id)).code, 3);
  await until('the log line', () => logText(e, id).includes('from-primed 1'));
  await until('the network released at its exit', () => leases(e).length === 0);
  await e.remove(id);
  assert.deepEqual(findLeaks(te.root, te.runRoot, ids), []);
});

test('prime, then rm: its process, monitor, runtime state, cgroup, mounts, namespace and lease all go', { timeout: 60_000 }, async (t) => {
  const e = te.engine;
  const id = await created(t, 'prime-rm', 'echo never');
  await e.prime(id);
  const { pid, monitor } = await primedParts(e, id);
  assert.equal(netnsFiles().length, 1);
  await e.remove(id);
  assert.equal(alive(pid), false, 'the blocked process is gone');
  assert.equal(alive(monitor), false, 'the monitor is gone');
  assert.deepEqual(netnsFiles(), [], 'no namespace');
  assert.deepEqual(leases(e), [], 'no lease');
  assert.equal(existsSync(runDir(e.paths, id)), false);
  assert.deepEqual(findLeaks(te.root, te.runRoot, ids), []);
  const rows = e.containers.db.prepare('SELECT count(*) AS n FROM engine_sandboxes').get();
  assert.equal(Number(rows?.['n']), 0, 'no sandbox row');
});

test('stop of a primed container does nothing (it is created, as docker has it) and kill is refused; unprime leaves it plainly created', { timeout: 60_000 }, async (t) => {
  const e = te.engine;
  const id = await created(t, 'prime-stop', 'exit 0');
  await e.prime(id);
  const { pid } = await primedParts(e, id);
  assert.equal((await e.stop(id, { timeout: 1 })).state, 'created');
  assert.ok(e.isPrimed(id) && alive(pid), 'still primed');
  await assert.rejects(e.kill(id, 15), (err: unknown) => isBerthError(err, 'container_not_running'));
  await e.unprime(id);
  assert.equal(e.isPrimed(id), false);
  assert.equal(alive(pid), false);
  assert.equal(monitorsOf(te.runRoot).get(id), undefined);
  assert.deepEqual(leases(e), []);
  assert.equal(e.find(id).state, 'created');
  await e.start(id);
  assert.equal((await e.wait(id)).code, 0);
  await e.remove(id);
  assert.deepEqual(findLeaks(te.root, te.runRoot, ids), []);
});

test('its process killed while primed: the start un-primes it and goes the whole way', { timeout: 60_000 }, async (t) => {
  const e = te.engine;
  const id = await created(t, 'prime-killed', 'echo second-life; exit 4');
  await e.prime(id);
  const { pid, monitor } = await primedParts(e, id);
  process.kill(pid, 'SIGKILL');
  await until('the monitor to go with its process', () => !alive(monitor));
  const phases: string[] = [];
  await e.start(id, (p) => phases.push(p));
  assert.equal(phases[0], 'primed lost');
  assert.ok(phases.includes('monitor and runtime create'));
  assert.equal((await e.wait(id)).code, 4);
  await until('the log line', () => logText(e, id).includes('second-life'));
  await e.remove(id);
  assert.deepEqual(findLeaks(te.root, te.runRoot, ids), []);
});

test('the engine vanishes with a container primed (kill -9 of berthd): the next un-primes it, leaking nothing, and it starts', { timeout: 90_000 }, async (t) => {
  const old = te.engine;
  const id = await created(t, 'prime-crash', 'echo after-crash; exit 6');
  await old.prime(id);
  const { pid, monitor } = await primedParts(old, id);
  // What a SIGKILL leaves: no watcher, no cleanup; the monitor and the blocked process run on.
  old.close();
  const e = await te.reopen();
  current = e;
  const report = await e.recover();
  assert.ok(report.cleaned.includes(id), JSON.stringify(report));
  assert.equal(alive(pid), false, 'the blocked process is gone');
  assert.equal(alive(monitor), false, 'the monitor is gone');
  assert.equal(e.isPrimed(id), false);
  assert.equal(e.find(id).state, 'created');
  assert.deepEqual(leases(e), [], 'its lease released by the network recovery');
  assert.deepEqual(netnsFiles(), [], 'its namespace too');
  assert.equal(existsSync(join(runDir(e.paths, id), PRIMED_MARKER)), false);
  assert.deepEqual(findLeaks(te.root, te.runRoot, ids), []);
  // Primed again by the new engine, then started: the program runs once.
  await e.prime(id);
  await primedParts(e, id);
  await e.start(id);
  assert.equal((await e.wait(id)).code, 6);
  await until('the log line', () => logText(e, id).includes('after-crash'));
  await e.remove(id);
  assert.deepEqual(findLeaks(te.root, te.runRoot, ids), []);
});
