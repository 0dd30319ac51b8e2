/**
 * berthd killed with SIGKILL (root only; a real daemon process, its own
 * roots): containers outlive it and a new berthd adopts them (same pids,
 * listed, logs intact and still growing, stop and wait report exit codes),
 * creates caught half made exist fully or not at all, an exit that happens
 * while no daemon runs is reported, and nothing is left behind: no
 * snapshot, mount, directory, runtime state, monitor, cgroup, volume or
 * row that no record accounts for (test/helpers/engine-leaks.ts).
 *
 * To hit the create window every time, the daemon that gets killed runs
 * with BERTH_TEST_CREATE_DELAY_MS (src/engine/engine.ts): each create
 * holds with all its parts made and its record still `creating`.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { after, before, test } from 'node:test';
import { REMOVE_VOLUMES } from '../../../src/engine/engine.ts';
import { createContainer, daemonFixture, inspect, logText, until, waitExit, type Daemon, type DaemonFixture } from '../../helpers/berthd-process.ts';
import { assertNoLeaks, engineState } from '../../helpers/engine-leaks.ts';

const RUNNING = 20;
const IN_FLIGHT = 5;
const TICKER = 'trap "exit 3" TERM; i=0; while :; do echo "line $i"; i=$((i+1)); sleep 0.1; done';

let fx: DaemonFixture;
const ids = new Set<string>();
before(async () => {
  fx = await daemonFixture();
});
after(async () => {
  await fx?.cleanup();
});

/** The ticker's lines are "line 0", "line 1", ... with none missing, none twice; how many. */
function countTicks(text: string, what: string): number {
  const lines = text.split('\n').filter((l) => l !== '');
  lines.forEach((l, i) => assert.equal(l, `line ${i}`, `${what}: line ${i} of its log`));
  return lines.length;
}

async function runTicker(d: Daemon, name: string): Promise<string> {
  const id = await createContainer(d.client, ['sh', '-c', TICKER], { name });
  ids.add(id);
  await d.client.json('POST', `/containers/${id}/start`);
  return id;
}

test(`kill -9 of berthd while ${RUNNING} containers run and ${IN_FLIGHT} are being created: all adopted, each create whole or gone, nothing leaked`, async (t) => {
  const first = await fx.start();
  const running: string[] = [];
  for (let i = 0; i < RUNNING; i++) running.push(await runTicker(first, `tick-${i}`));
  // Handed over once cleanly (containers keep running), so that the daemon killed below holds its creates.
  await first.stop();
  const d = await fx.start({ BERTH_TEST_CREATE_DELAY_MS: '120000' });
  const pids = new Map<string, number>();
  for (const id of running) {
    const s = (await inspect(d.client, id)).State;
    assert.equal(s.Running, true, `tick container ${id} runs after the clean hand-over`);
    pids.set(id, s.Pid);
  }
  const before = new Map<string, number>();
  for (const id of running) before.set(id, countTicks(await logText(d.client, id), id));

  const creates = Array.from({ length: IN_FLIGHT }, (_, i) =>
    createContainer(d.client, ['sh', '-c', 'echo made; sleep 600'], { name: `inflight-${i}`, volume: ['/data'] }).then(
      (id) => ({ id }),
      (err: unknown) => ({ err }),
    ),
  );
  // Every create is half made: record `creating`, snapshot mounted, spec written, anonymous volume made.
  let half: string[] = [];
  await until(`${IN_FLIGHT} creates held half made`, () => {
    const s = engineState(fx.root, fx.runRoot);
    half = [...s.records].filter(([, st]) => st === 'creating').map(([id]) => id);
    return half.length === IN_FLIGHT && half.every((id) => existsSync(join(fx.root, 'containers', id, 'config.json')));
  });
  for (const id of half) ids.add(id);
  assert.ok(engineState(fx.root, fx.runRoot).rows.anonymousVolumes >= IN_FLIGHT, 'the half-made creates made their anonymous volumes');
  await d.kill9();
  const answers = await Promise.all(creates);
  assert.ok(answers.every((a) => 'err' in a), 'no create was answered: each was cut off by the kill');

  const after = await fx.start();
  const listed = (await after.client.json('GET', '/containers/json')) as { Id: string; State: string }[];
  assert.deepEqual(listed.map((c) => c.Id).sort(), [...running].sort(), 'exactly the running containers are listed as running');
  for (const id of running) {
    const s = (await inspect(after.client, id)).State;
    assert.equal(s.Running, true, `${id} still runs`);
    assert.equal(s.Pid, pids.get(id), `${id} keeps its pid`);
    assert.ok(existsSync(`/proc/${s.Pid}`), `${id}'s process ${s.Pid} exists`);
  }
  // Each of the in-flight creates: whole (it starts and runs) or not there at all.
  for (let i = 0; i < IN_FLIGHT; i++) {
    const found = await after.client.request('GET', `/containers/inflight-${i}/json`);
    if (found.status === 404) continue;
    assert.equal(found.status, 200);
    const id = (JSON.parse(found.body.toString()) as { Id: string }).Id;
    await after.client.json('POST', `/containers/${id}/start`);
    await until(`inflight-${i} to say "made"`, async () => (await logText(after.client, id)) === 'made\n');
    await after.client.json('DELETE', `/containers/${id}`, { query: { force: true, v: true } });
  }
  await assertNoLeaks(t, fx.root, fx.runRoot, ids);

  // Logs intact (every line, in order, also those written while no daemon ran) and still growing.
  for (const id of running) {
    const now = countTicks(await logText(after.client, id), id);
    assert.ok(now >= before.get(id)!, `${id}: its log kept its ${before.get(id)} lines`);
    await until(`${id}'s log to grow`, async () => countTicks(await logText(after.client, id), id) > now);
  }

  // wait and stop work on adopted containers and report the exit code (the trap's 3).
  const waits = running.map((id) => waitExit(after.client, id));
  for (const id of running) await after.client.json('POST', `/containers/${id}/stop`, { query: { t: 10 } });
  for (const w of await Promise.all(waits)) assert.equal(w.StatusCode, 3);
  for (const id of running) {
    const s = (await inspect(after.client, id)).State;
    assert.equal(s.Status, 'exited');
    assert.equal(s.ExitCode, 3);
    await after.client.json('DELETE', `/containers/${id}`);
  }
  await assertNoLeaks(t, fx.root, fx.runRoot, ids);
  assert.deepEqual(engineState(fx.root, fx.runRoot).rows, { containers: 0, containerVolumes: 0, volumes: 0, anonymousVolumes: 0 });
  await after.stop();
});

test('kill -9 of berthd while containers exit: the exit codes are reported by the next berthd', async (t) => {
  const d = await fx.start();
  const script = 'while [ ! -e /go ]; do sleep 0.05; done; exit 7';
  const atKill = await createContainer(d.client, ['sh', '-c', script], { name: 'exit-at-kill' });
  const whileDown = await createContainer(d.client, ['sh', '-c', script.replace('7', '8')], { name: 'exit-while-down' });
  for (const id of [atKill, whileDown]) {
    ids.add(id);
    await d.client.json('POST', `/containers/${id}/start`);
  }
  const go = (id: string): void => writeFileSync(join(fx.root, 'containers', id, 'rootfs', 'go'), '');
  // One exits as the daemon dies, the other once it is gone.
  go(atKill);
  await d.kill9();
  go(whileDown);
  await until('both monitors to record the exits', () => [atKill, whileDown].every((id) => existsSync(join(fx.runRoot, 'containers', id, 'exit'))));

  const next = await fx.start();
  assert.equal((await waitExit(next.client, atKill)).StatusCode, 7);
  assert.equal((await waitExit(next.client, whileDown)).StatusCode, 8);
  for (const [id, code] of [[atKill, 7], [whileDown, 8]] as const) {
    const s = (await inspect(next.client, id)).State;
    assert.equal(s.Status, 'exited');
    assert.equal(s.ExitCode, code);
    await next.client.json('DELETE', `/containers/${id}`);
  }
  await assertNoLeaks(t, fx.root, fx.runRoot, ids);
  await next.stop();
});

test('kill -9 of berthd while containers are being started: each runs or stays created with nothing of its start left, and starts later', async (t) => {
  const STARTS = 8;
  let cut = 0;
  // The window (monitor up, record not yet running) is held open by BERTH_TEST_START_DELAY_MS (src/engine/engine.ts).
  {
    const d = await fx.start({ BERTH_TEST_START_DELAY_MS: '120000' });
    const batch: string[] = [];
    for (let i = 0; i < STARTS; i++) batch.push(await createContainer(d.client, ['sleep', '600']));
    for (const id of batch) ids.add(id);
    const starts = batch.map((id) => d.client.json('POST', `/containers/${id}/start`).catch(() => undefined));
    await until('every start held with its monitor up', () => batch.every((id) => existsSync(join(fx.runRoot, 'containers', id, 'monitor.pid'))), 60_000);
    await d.kill9();
    await Promise.all(starts);
    const atKill = engineState(fx.root, fx.runRoot);
    cut += [...atKill.monitors.keys()].filter((id) => atKill.records.get(id) === 'created').length;

    const next = await fx.start();
    await assertNoLeaks(t, fx.root, fx.runRoot, ids);
    for (const id of batch) {
      const s = (await inspect(next.client, id)).State;
      assert.ok(s.Status === 'running' || s.Status === 'created', `${id}: ${s.Status}`);
      if (s.Status === 'created') await next.client.json('POST', `/containers/${id}/start`);
      assert.equal((await inspect(next.client, id)).State.Status, 'running');
      await next.client.json('DELETE', `/containers/${id}`, { query: { force: true } });
    }
    await assertNoLeaks(t, fx.root, fx.runRoot, ids);
    await next.stop();
  }
  t.diagnostic(`starts caught half done: ${cut}`);
  assert.ok(cut > 0, 'no start was caught between its monitor and its record: the window was not hit');
});

test('kill -9 of berthd during run --rm cycles and rm -f -v of running containers: nothing of them is left but whole containers', async (t) => {
  for (let round = 0; round < 3; round++) {
    const d = await fx.start();
    const doomed: string[] = [];
    for (let i = 0; i < 4; i++) doomed.push(await runTicker(d, `doomed-${round}-${i}`));
    const rmIds = new Set<string>();
    let cycles = 0;
    let stop = false;
    const cycle = async (): Promise<void> => {
      while (!stop) {
        try {
          const id = await createContainer(d.client, ['true'], { rm: true, volume: ['/data'] });
          ids.add(id);
          rmIds.add(id);
          await d.client.json('POST', `/containers/${id}/start`);
          cycles++;
        } catch {
          return;
        }
      }
    };
    const workers = [cycle(), cycle()];
    await until('a few cycles', () => cycles >= 2 + round * 3);
    const removals = doomed.map((id) => d.client.json('DELETE', `/containers/${id}`, { query: { force: true, v: true } }).catch(() => undefined));
    await until('the removals to begin', () => doomed.some((id) => !existsSync(join(fx.runRoot, 'containers', id, 'attach'))), 10_000).catch(() => undefined);
    await d.kill9();
    stop = true;
    await Promise.all([...workers, ...removals]);

    const next = await fx.start();
    try {
      // An --rm container that exited around the kill is removed; one whose start was cut off stays created.
      await until('the --rm containers that exited meanwhile to be removed', () => {
        const s = engineState(fx.root, fx.runRoot);
        return [...rmIds].every((id) => (s.records.get(id) ?? 'created') === 'created');
      });
      await assertNoLeaks(t, fx.root, fx.runRoot, ids);
      // What is left is whole: removed with its volumes through the API, nothing stays.
      for (const id of engineState(fx.root, fx.runRoot).records.keys()) await next.client.json('DELETE', `/containers/${id}`, { query: { force: true, v: true } });
      await assertNoLeaks(t, fx.root, fx.runRoot, ids);
      assert.deepEqual(engineState(fx.root, fx.runRoot).rows, { containers: 0, containerVolumes: 0, volumes: 0, anonymousVolumes: 0 });
    } finally {
      await next.stop();
    }
  }
});

test('the next berthd finishes what a crash cut between two steps: rm -v after its record said removing, a snapshot directory without a record', async (t) => {
  const d = await fx.start();
  const withV = await createContainer(d.client, ['true'], { volume: ['/data'] });
  const withoutV = await createContainer(d.client, ['true'], { volume: ['/data'] });
  for (const id of [withV, withoutV]) ids.add(id);
  const volumeOf = async (id: string): Promise<string> => ((await inspect(d.client, id)) as unknown as { Mounts: { Name: string }[] }).Mounts[0]!.Name;
  const [volWithV, volWithoutV] = [await volumeOf(withV), await volumeOf(withoutV)];
  await d.kill9();
  // As a crash leaves them: both removals past their `removing` record, one asked with -v; a snapshot's directory made, its record not written.
  const db = new DatabaseSync(join(fx.root, 'berth.db'));
  db.prepare("UPDATE engine_containers SET state = 'removing' WHERE id IN (?, ?)").run(withV, withoutV);
  db.close();
  writeFileSync(join(fx.root, 'containers', withV, REMOVE_VOLUMES), '');
  mkdirSync(join(fx.root, 'snapshots', '987654', 'fs'), { recursive: true });
  // Volume directories whose records a crash lost: an anonymous one (a create or an rm -v cut short) and a named one.
  const lostAnonymous = 'e'.repeat(64);
  mkdirSync(join(fx.root, 'volumes', lostAnonymous, '_data'), { recursive: true });
  mkdirSync(join(fx.root, 'volumes', 'crash-named', '_data'), { recursive: true });
  writeFileSync(join(fx.root, 'volumes', 'crash-named', '_data', 'kept'), 'data');

  const next = await fx.start();
  for (const id of [withV, withoutV]) assert.equal((await next.client.request('GET', `/containers/${id}/json`)).status, 404);
  const volumes = ((await next.client.json('GET', '/volumes')) as { Volumes: { Name: string }[] }).Volumes.map((v) => v.Name);
  assert.ok(!volumes.includes(volWithV), 'rm -v: the anonymous volume went with its container');
  assert.ok(volumes.includes(volWithoutV), 'rm without -v: the anonymous volume stays, as docker keeps it');
  assert.equal(existsSync(join(fx.root, 'snapshots', '987654')), false);
  assert.equal(existsSync(join(fx.root, 'volumes', lostAnonymous)), false, 'the anonymous volume without a record is removed');
  assert.ok(volumes.includes('crash-named'), 'the named volume without a record is adopted, as docker adopts it');
  assert.equal(readFileSync(join(fx.root, 'volumes', 'crash-named', '_data', 'kept'), 'utf8'), 'data');
  await next.client.json('DELETE', '/volumes/crash-named');
  await next.client.json('DELETE', `/volumes/${volWithoutV}`);
  await assertNoLeaks(t, fx.root, fx.runRoot, ids);
  await next.stop();
});
