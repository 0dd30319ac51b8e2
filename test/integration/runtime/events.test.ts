/**
 * `berth-runtime events` on real containers (root, cgroup v1): the OOM kill
 * of a process above memory.limit reported as runc's oom event, stats
 * carrying the container's real usage and limits, the stream ending with
 * the container, and runc's refusals.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test, type TestContext } from 'node:test';
import type { Spec } from '../../../src/oci/runtime-spec.ts';
import { kernelOffers } from '../../helpers/cgroup-probe.ts';
import { berthOnly, makeBundle, RUNTIME_BIN, RuntimeFixture, tempDir, uniqueId, waitFor } from '../../helpers/runtime.ts';

interface Event {
  type: string;
  id: string;
  data?: {
    cpu: { usage: { total?: number; kernel: number; user: number }; throttling: { periods?: number; throttledPeriods?: number } };
    memory: { usage: { limit: number; usage?: number; max?: number; failcnt: number }; raw?: Record<string, number> };
    pids: { current?: number; limit?: number };
    cpuset: { cpus?: number[] };
    blkio: object;
    hugetlb: object;
  };
}

async function detached(t: TestContext, rt: RuntimeFixture, args: string[], edit: (spec: Spec) => void = () => undefined): Promise<string> {
  const bundle = makeBundle(t, { args, edit });
  const id = rt.track(uniqueId());
  const r = await rt.run(['run', '--detach', '--bundle', bundle.dir, id]);
  assert.equal(r.code, 0, r.stderr);
  return id;
}

/** `events` running in the background: its parsed lines as they come, and its end. */
function streamEvents(t: TestContext, rt: RuntimeFixture, args: string[]): { events: Event[]; exited: Promise<{ code: number | null; stderr: string }> } {
  const child = spawn(RUNTIME_BIN, ['--root', rt.root, 'events', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  t.after(() => child.kill('SIGKILL'));
  const events: Event[] = [];
  let partial = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => {
    partial += chunk.toString();
    const lines = partial.split('\n');
    partial = lines.pop() ?? '';
    for (const line of lines) events.push(JSON.parse(line) as Event);
  });
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise<{ code: number | null; stderr: string }>((resolve) => child.once('close', (code) => resolve({ code, stderr })));
  return { events, exited };
}

/** Waits for a promise with a deadline. */
async function settled<T>(what: string, promise: Promise<T>, timeoutMs = 10_000): Promise<T> {
  let value: { v: T } | undefined;
  void promise.then((v) => (value = { v }));
  return (await waitFor(what, () => value, timeoutMs)).v;
}

/** runc 1.1's stream goes on after its container stopped; berth's ends with it. */
const RUNC_STREAM = 'runc 1.1 keeps streaming events after the container stopped';

describe('berth-runtime events (root, cgroup v1)', () => {
  test('a process above memory.limit is OOM-killed: an oom event, then the stream ends with the container', { skip: berthOnly(RUNC_STREAM) }, async (t) => {
    const rt = new RuntimeFixture(t);
    const shared = tempDir(t, 'berth-oom-');
    mkdirSync(join(shared, 'w'));
    const limit = 32 * 2 ** 20;
    // dd's 64 MiB buffer, filled from /dev/zero, cannot fit in 32 MiB (no swap either).
    const id = await detached(t, rt, ['sh', '-c', 'while [ ! -e /w/go ]; do sleep 0.02; done; exec dd if=/dev/zero of=/dev/null bs=64M count=1'], (spec) => {
      spec.linux!.resources = { ...spec.linux!.resources, memory: { limit, ...(kernelOffers('memory', 'memory.memsw.limit_in_bytes') ? { swap: limit } : {}) } };
      spec.mounts!.push({ destination: '/w', type: 'bind', source: join(shared, 'w'), options: ['rbind', 'rw'] });
    });
    const stream = streamEvents(t, rt, ['--interval', '100ms', id]);
    // A stats event means the OOM watch is on (it starts before the first interval).
    await waitFor('the first stats event', () => (stream.events.length > 0 ? true : undefined));
    const first = stream.events[0];
    assert.equal(first?.type, 'stats');
    assert.equal(first.id, id);
    assert.equal(first.data?.memory.usage.limit, limit);

    writeFileSync(join(shared, 'w', 'go'), '');
    const end = await settled('events to end', stream.exited, 30_000);
    assert.equal(end.code, 0, end.stderr);
    const ooms = stream.events.filter((e) => e.type === 'oom');
    assert.deepEqual(ooms, [{ type: 'oom', id }]);
    assert.equal((await rt.state(id)).status, 'stopped');
    // The kernel's own count agrees.
    const state = JSON.parse(readFileSync(join(rt.root, id, 'state.json'), 'utf8')) as { cgroup: { dirs: Record<string, string> } };
    const oomControl = readFileSync(join(state.cgroup.dirs['memory'] ?? '', 'memory.oom_control'), 'utf8');
    assert.match(oomControl, /^oom_kill 1$/m);
  });

  test('events --stats: one line of real numbers, then exit', async (t) => {
    const rt = new RuntimeFixture(t);
    const id = await detached(t, rt, ['sh', '-c', 'sleep 1000 & exec sleep 1000'], (spec) => {
      spec.linux!.resources = { ...spec.linux!.resources, memory: { limit: 256 * 2 ** 20 }, pids: { limit: 50 }, cpu: { cpus: '0' } };
    });
    const r = await rt.run(['events', '--stats', id]);
    assert.equal(r.code, 0, r.stderr);
    const lines = r.stdout.trim().split('\n');
    assert.equal(lines.length, 1);
    const e = JSON.parse(lines[0] ?? '') as Event;
    assert.equal(e.type, 'stats');
    assert.equal(e.id, id);
    const d = e.data;
    assert.ok(d);
    assert.deepEqual(Object.keys(d), ['cpu', 'cpuset', 'memory', 'pids', 'blkio', 'hugetlb', 'intel_rdt', 'network_interfaces']);
    assert.ok((d.memory.usage.usage ?? 0) > 0, 'memory in use');
    assert.ok((d.memory.usage.max ?? 0) >= (d.memory.usage.usage ?? 0));
    assert.equal(d.memory.usage.limit, 256 * 2 ** 20);
    assert.ok((d.pids.current ?? 0) >= 1, 'at least one process');
    assert.equal(d.pids.limit, 50);
    assert.ok((d.cpu.usage.total ?? 0) > 0, 'cpu time used');
    assert.deepEqual(d.cpuset.cpus, [0]);
    assert.equal(typeof d.memory.raw?.['rss'], 'number');
    t.diagnostic(`memory ${d.memory.usage.usage} bytes, ${d.pids.current} pids, cpu ${d.cpu.usage.total} ns`);
  });

  test('the stream gives stats every interval and ends when the container is killed', { skip: berthOnly(RUNC_STREAM) }, async (t) => {
    const rt = new RuntimeFixture(t);
    const id = await detached(t, rt, ['sleep', '1000']);
    const stream = streamEvents(t, rt, ['--interval=50ms', id]);
    await waitFor('three stats events', () => (stream.events.length >= 3 ? true : undefined));
    assert.ok(stream.events.every((e) => e.type === 'stats' && e.id === id));
    assert.equal((await rt.run(['kill', id, 'KILL'])).code, 0);
    const end = await settled('events to end', stream.exited);
    assert.equal(end.code, 0, end.stderr);
    assert.ok(!stream.events.some((e) => e.type === 'oom'));
  });

  test('refusals as runc words them: a stopped container, a missing one, a bad interval', { skip: berthOnly('berth names the container, and a usage error exits 2 (runc: 1, after looking the container up)') }, async (t) => {
    const rt = new RuntimeFixture(t);
    const id = await detached(t, rt, ['true']);
    await waitFor('the container to stop', async () => ((await rt.state(id)).status === 'stopped' ? true : undefined));
    for (const args of [['--stats', id], [id]]) {
      const r = await rt.run(['events', ...args]);
      assert.equal(r.code, 1);
      assert.match(r.stderr, new RegExp(`container "${id}": not running`));
    }
    const missing = await rt.run(['events', '--stats', 'no-such-container']);
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /container "no-such-container": does not exist/);
    const zero = await rt.run(['events', '--interval', '0s', id]);
    assert.equal(zero.code, 2);
    assert.match(zero.stderr, /duration interval must be greater than 0/);
    const bad = await rt.run(['events', '--interval', '5', id]);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /--interval: "5" is not a duration/);
  });
});
