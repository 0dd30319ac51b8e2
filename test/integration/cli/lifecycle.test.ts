/**
 * The container lifecycle through the real command line and a real
 * berthd, as root: create/start/stop/restart/kill -s/rm -f, wait, rename,
 * pause/unpause (processes frozen, seen from inside), update (the cgroup
 * changes), --stop-signal/--stop-timeout (seen through the container's
 * signal trap), --label (inspect).
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { show, startDaemon, until, type TestDaemon } from '../../helpers/daemon.ts';

let d: TestDaemon;
before(async () => {
  d = await startDaemon();
});
after(async () => {
  await d?.stop();
});

const state = async (name: string): Promise<string> => (await d.ok(['inspect', '-f', '{{.State.Status}}', name])).trim();

test('create, start, stop, restart, kill -s, rm -f', async () => {
  const id = (await d.ok(['create', '--name', 'life', '--label', 'tier=web', '--label', 'team=a', 'busybox', 'sh', '-c', 'echo started; trap "echo got-USR1" USR1; while :; do sleep 0.1; done'])).trim();
  assert.equal(await state('life'), 'created');
  assert.equal((await d.ok(['inspect', '-f', '{{json .Config.Labels}}', 'life'])).trim(), '{"team":"a","tier":"web"}');
  assert.equal(await d.ok(['start', 'life']), 'life\n');
  assert.equal(await state('life'), 'running');
  const pid1 = (await d.ok(['inspect', '-f', '{{.State.Pid}}', id])).trim();

  assert.equal(await d.ok(['kill', '-s', 'USR1', 'life']), 'life\n');
  await until('the trap to run', async () => ((await d.ok(['logs', 'life'])).includes('got-USR1') ? true : undefined));
  assert.equal(await state('life'), 'running');

  assert.equal(await d.ok(['stop', '-t', '1', 'life']), 'life\n');
  assert.equal(await state('life'), 'exited');
  assert.equal((await d.ok(['inspect', '-f', '{{.State.ExitCode}}', 'life'])).trim(), '137', 'sh ignores TERM in its loop: KILL after the timeout');

  assert.equal(await d.ok(['restart', '-t', '1', 'life']), 'life\n');
  assert.equal(await state('life'), 'running');
  assert.notEqual((await d.ok(['inspect', '-f', '{{.State.Pid}}', id])).trim(), pid1);
  assert.equal((await d.ok(['logs', 'life'])).split('started').length - 1, 2, 'it ran twice');

  const refused = await d.berth(['rm', 'life']);
  assert.equal(refused.code, 1, show(refused));
  assert.match(refused.stderr, /life/);
  assert.equal(await d.ok(['rm', '-f', 'life']), 'life\n');
  assert.equal((await d.berth(['inspect', id])).code, 1);
  const missing = await d.berth(['start', 'no-such-container']);
  assert.equal(missing.code, 1);
  assert.match(missing.stderr, /no-such-container/);
});

test('--stop-signal and --stop-timeout: stop sends that signal and waits that long', async () => {
  await d.ok(['run', '-d', '--name', 'graceful', '--stop-signal', 'USR2', 'busybox', 'sh', '-c', 'trap "echo got-USR2; exit 3" USR2; while :; do sleep 0.1; done']);
  await d.ok(['stop', 'graceful']);
  assert.match(await d.ok(['logs', 'graceful']), /got-USR2/);
  assert.match((await d.ok(['inspect', '-f', '{{.State.ExitCode}} {{.Config.StopSignal}}', 'graceful'])).trim(), /^3 (SIG)?USR2$/);

  await d.ok(['run', '-d', '--name', 'stubborn', '--stop-timeout', '1', 'busybox', 'sh', '-c', 'trap "echo ignored-TERM" TERM; while :; do sleep 0.1; done']);
  assert.equal((await d.ok(['inspect', '-f', '{{.Config.StopTimeout}}', 'stubborn'])).trim(), '1');
  await d.ok(['stop', 'stubborn']);
  assert.match(await d.ok(['logs', 'stubborn']), /ignored-TERM/);
  assert.equal((await d.ok(['inspect', '-f', '{{.State.ExitCode}}', 'stubborn'])).trim(), '137');
  await d.ok(['rm', 'graceful', 'stubborn']);
});

test('wait prints the exit code; rename renames', async () => {
  await d.ok(['run', '-d', '--name', 'short', 'busybox', 'sh', '-c', 'sleep 0.5; exit 42']);
  assert.equal(await d.ok(['wait', 'short']), '42\n');
  assert.equal((await d.berth(['rename', 'short', 'longer'])).code, 0);
  assert.equal((await d.ok(['inspect', '-f', '{{.Name}}', 'longer'])).trim(), '/longer');
  assert.equal((await d.berth(['inspect', 'short'])).code, 1);
  await d.ok(['create', '--name', 'other', 'busybox', 'true']);
  const clash = await d.berth(['rename', 'longer', 'other']);
  assert.notEqual(clash.code, 0);
  assert.match(clash.stderr, /other/, show(clash));
  await d.ok(['rm', 'longer', 'other']);
});

test('pause freezes the processes (a counter stops), unpause lets them go on', async () => {
  const id = (await d.ok(['run', '-d', 'busybox', 'sh', '-c', 'i=0; while :; do i=$((i+1)); echo $i > /tmp/count.new; mv /tmp/count.new /tmp/count; sleep 0.05; done'])).trim();
  const count = async (): Promise<number> => Number((await d.ok(['cp', `${id}:/tmp/count`, '-'])).replace(/[^]*?count\0[^]*?(\d+)\n[^]*/, '$1'));
  await until('the counter to run', async () => ((await d.berth(['exec', id, 'test', '-s', '/tmp/count'])).code === 0 ? true : undefined));
  await d.ok(['pause', id]);
  assert.equal(await state(id), 'paused');
  // The counter is renamed into place, so a freeze never leaves the file empty (between a truncate and its write).
  const frozen = await count();
  assert.ok(Number.isInteger(frozen) && frozen > 0, `the count read while paused: ${frozen}`);
  // Frozen: reads keep seeing the same value (read through the archive route: exec would not run in a frozen cgroup).
  for (let i = 0; i < 5; i++) assert.equal(await count(), frozen);
  const exec = await d.berth(['exec', id, 'true']);
  assert.notEqual(exec.code, 0, 'exec in a paused container is refused');
  await d.ok(['unpause', id]);
  assert.equal(await state(id), 'running');
  await until('the counter to move again', async () => ((await count()) > frozen ? true : undefined));
  await d.ok(['rm', '-f', id]);
});

test('update --memory lands in the running container\'s cgroup', async () => {
  const id = (await d.ok(['run', '-d', '--memory', '64m', 'busybox', 'sleep', '300'])).trim();
  const limit = async (): Promise<string> =>
    (await d.ok(['exec', id, 'sh', '-c', 'cat /sys/fs/cgroup/memory.max 2>/dev/null || cat /sys/fs/cgroup/memory/memory.limit_in_bytes'])).trim();
  assert.equal(await limit(), '67108864');
  assert.equal(await d.ok(['update', '--memory', '96m', id]), `${id}\n`);
  assert.equal(await limit(), String(96 * 1024 * 1024));
  assert.equal((await d.ok(['inspect', '-f', '{{.HostConfig.Memory}}', id])).trim(), String(96 * 1024 * 1024));
  await d.ok(['rm', '-f', id]);
});
