/**
 * Restart policies across a restart of berthd (root only; a real daemon,
 * its own roots), by docker's rules: at a daemon start `always` and
 * `unless-stopped` containers that died meanwhile run again, except an
 * `unless-stopped` one a user stopped (remembered across the restart);
 * `on-failure:N` keeps counting across the restart and stops at N. And
 * `berth system stop` leaves containers running: the next berthd adopts
 * them, with the lines they wrote meanwhile in `berth logs`.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { createContainer, daemonFixture, inspect, logText, until, type Daemon, type DaemonFixture } from '../../helpers/berthd-process.ts';
import { assertNoLeaks } from '../../helpers/engine-leaks.ts';
import { buildDir } from '../../../src/paths.ts';

let fx: DaemonFixture;
before(async () => {
  fx = await daemonFixture();
});
after(async () => {
  await fx?.cleanup();
});

async function started(d: Daemon, args: string[], flags: Parameters<typeof createContainer>[2]): Promise<string> {
  const id = await createContainer(d.client, args, flags);
  await d.client.json('POST', `/containers/${id}/start`);
  return id;
}

/** The container's process killed from the host (as if it crashed), and its exit recorded by its monitor. */
async function crash(id: string, pid: number): Promise<void> {
  process.kill(pid, 'SIGKILL');
  await until(`${id}'s exit file`, () => existsSync(join(fx.runRoot, 'containers', id, 'exit')));
}

function berth(...args: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(join(buildDir(), 'berth.cjs'), ['--root', fx.root, '--run-root', fx.runRoot, '--socket', fx.socket, ...args], { encoding: 'utf8', timeout: 60_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

test('kill -9 of berthd, then containers die: always and unless-stopped run again at the next start, a user-stopped unless-stopped stays stopped', async (t) => {
  const d = await fx.start();
  const always = await started(d, ['sleep', '600'], { restart: 'always' });
  const unless = await started(d, ['sleep', '600'], { restart: 'unless-stopped' });
  const stoppedUnless = await started(d, ['sleep', '600'], { restart: 'unless-stopped' });
  const never = await started(d, ['sleep', '600'], {});
  await d.client.json('POST', `/containers/${stoppedUnless}/stop`, { query: { t: 1 } });
  const pids = new Map<string, number>();
  for (const id of [always, unless, never]) pids.set(id, (await inspect(d.client, id)).State.Pid);
  await d.kill9();
  for (const id of [always, unless, never]) await crash(id, pids.get(id)!);

  const next = await fx.start();
  for (const id of [always, unless]) {
    // Restarted after docker's back-off: `restarting` first, then running.
    await until(`${id} to run again`, async () => (await inspect(next.client, id)).State.Status === 'running');
    const s = (await inspect(next.client, id)).State;
    assert.notEqual(s.Pid, pids.get(id), `${id === always ? 'always' : 'unless-stopped'}: a new process`);
    assert.ok(existsSync(`/proc/${s.Pid}`));
  }
  const n = (await inspect(next.client, never)).State;
  assert.equal(n.Status, 'exited', 'a container without a policy stays exited');
  assert.equal(n.ExitCode, 137);
  assert.equal((await inspect(next.client, stoppedUnless)).State.Status, 'exited', "the user's stop of an unless-stopped container is remembered");

  // Stopped by the user now, through the restarted daemon: the next start keeps unless-stopped stopped, restarts always.
  for (const id of [always, unless]) await next.client.json('POST', `/containers/${id}/stop`, { query: { t: 1 } });
  await next.kill9();
  const third = await fx.start();
  await until('always to run again at a daemon start even after a stop, as docker', async () => (await inspect(third.client, always)).State.Status === 'running');
  for (const id of [unless, stoppedUnless]) assert.equal((await inspect(third.client, id)).State.Status, 'exited');
  for (const id of [always, unless, stoppedUnless, never]) await third.client.json('DELETE', `/containers/${id}`, { query: { force: true } });
  await assertNoLeaks(t, fx.root, fx.runRoot, [always, unless, stoppedUnless, never]);
  await third.stop();
});

test('on-failure:3 keeps counting across a kill -9 of berthd: four runs in all, then it stays exited', async (t) => {
  const d = await fx.start();
  const id = await started(d, ['sh', '-c', 'echo run; sleep 0.3; exit 3'], { restart: 'on-failure:3' });
  await until('the first restart', async () => (await inspect(d.client, id)).RestartCount >= 1);
  await d.kill9();
  const next = await fx.start();
  await until('three restarts and the last exit', async () => {
    const c = await inspect(next.client, id);
    return c.RestartCount === 3 && c.State.Status === 'exited';
  });
  // No fourth restart is pending: the policy's count is spent (docker shows a pending one as restarting).
  const c = await inspect(next.client, id);
  assert.equal(c.RestartCount, 3);
  assert.equal(c.State.Status, 'exited');
  assert.equal(c.State.Restarting, false);
  assert.equal(c.State.ExitCode, 3);
  assert.equal(await logText(next.client, id), 'run\n'.repeat(4), 'the command ran four times');
  await next.client.json('DELETE', `/containers/${id}`);
  await assertNoLeaks(t, fx.root, fx.runRoot, [id]);
  await next.stop();
});

test('berth system stop leaves containers running; the next berthd adopts them and berth logs has what they wrote meanwhile', async (t) => {
  const d = await fx.start();
  const id = await started(d, ['sh', '-c', 'i=0; while :; do echo "line $i"; echo $i > /tick; i=$((i+1)); sleep 0.1; done'], { name: 'ticker' });
  await until('a first line', async () => (await logText(d.client, id)).startsWith('line 0\n'));
  const pid = (await inspect(d.client, id)).State.Pid;
  const stop = berth('system', 'stop');
  assert.equal(stop.status, 0, stop.stderr);
  await d.exited;
  assert.ok(existsSync(`/proc/${pid}`), 'the container still runs');
  const tick = (): number => Number(readFileSync(join(fx.root, 'containers', id, 'rootfs', 'tick'), 'utf8'));
  const atStop = tick();
  await until('ten lines written while no berthd runs', () => tick() >= atStop + 10);

  const next = await fx.start();
  const s = (await inspect(next.client, id)).State;
  assert.equal(s.Running, true);
  assert.equal(s.Pid, pid);
  const logs = berth('logs', 'ticker');
  assert.equal(logs.status, 0, logs.stderr);
  const lines = logs.stdout.split('\n').filter((l) => l !== '');
  assert.ok(lines.length >= atStop + 10, `berth logs has the lines written while no berthd ran (${lines.length} lines)`);
  lines.forEach((l, i) => assert.equal(l, `line ${i}`));
  await next.client.json('DELETE', `/containers/${id}`, { query: { force: true } });
  await assertNoLeaks(t, fx.root, fx.runRoot, [id]);
  await next.stop();
});
