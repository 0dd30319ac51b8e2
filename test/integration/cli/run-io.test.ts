/**
 * `berth run` through the real command line and a real berthd, as root:
 * exit codes, output streams, stdin, a terminal, detaching, removal, names,
 * environment, user, working directory, entrypoint, hostname and the
 * generated /etc files, each observed from inside the container; and bad
 * input refused with exit 125, the input named, and nothing created.
 */
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { show, startDaemon, type TestDaemon } from '../../helpers/daemon.ts';

let d: TestDaemon;
before(async () => {
  d = await startDaemon();
});
after(async () => {
  await d?.stop();
});

/** Every container's ID (`ps -a -q --no-trunc`), to show that a refusal created none. */
async function allIds(): Promise<string[]> {
  return (await d.ok(['ps', '-a', '-q', '--no-trunc'])).split('\n').filter((l) => l !== '');
}

test('the exit code is the container\'s; stdout and stderr stay apart', async () => {
  const r = await d.berth(['run', '--rm', 'busybox', 'sh', '-c', 'echo to-out; echo to-err >&2; exit 7']);
  assert.equal(r.code, 7, show(r));
  assert.equal(r.stdout, 'to-out\n');
  assert.equal(r.stderr, 'to-err\n');
  const ok = await d.berth(['run', '--rm', 'busybox', 'true']);
  assert.equal(ok.code, 0, show(ok));
});

test('-i passes stdin to the container, and its end ends the container\'s stdin', async () => {
  const r = await d.berth(['run', '--rm', '-i', 'busybox', 'sh', '-c', 'cat; echo done'], { input: 'line one\nline two\n', timeoutMs: 30_000 });
  assert.equal(r.code, 0, show(r));
  assert.equal(r.stdout, 'line one\nline two\ndone\n');
  // Regression: an input that ended before the container started was never passed on, and cat waited for ever.
  const empty = await d.berth(['run', '--rm', '-i', 'busybox', 'sh', '-c', 'cat; echo done'], { input: '', timeoutMs: 30_000 });
  assert.equal(empty.code, 0, show(empty));
  assert.equal(empty.stdout, 'done\n');
  const without = await d.berth(['run', '--rm', 'busybox', 'sh', '-c', 'cat; echo done'], { input: 'ignored\n' });
  assert.equal(without.stdout, 'done\n', 'without -i the container\'s stdin is empty');
});

test('-t gives the container a terminal; without it, none', async () => {
  const tty = await d.berth(['run', '--rm', '-t', 'busybox', 'sh', '-c', 'test -t 0 && test -t 1 && echo is-a-tty; tty']);
  assert.equal(tty.code, 0, show(tty));
  assert.match(tty.stdout, /is-a-tty\r?\n\/dev\/(pts\/\d+|console)/);
  const none = await d.berth(['run', '--rm', 'busybox', 'sh', '-c', 'test -t 0 || echo no-tty']);
  assert.equal(none.stdout, 'no-tty\n');
});

test('-d prints the ID and leaves the container running; --rm removes it at its exit', async () => {
  const id = (await d.ok(['run', '-d', '--name', 'detached', 'busybox', 'sleep', '300'])).trim();
  assert.match(id, /^[0-9a-f]{64}$/);
  assert.equal((await d.ok(['inspect', '-f', '{{.State.Running}} {{.Name}}', id])).trim(), 'true /detached');
  await d.ok(['rm', '-f', id]);

  const before = await allIds();
  const r = await d.berth(['run', '--rm', '--name', 'removed-at-exit', 'busybox', 'true']);
  assert.equal(r.code, 0, show(r));
  assert.deepEqual(await allIds(), before);
  const gone = await d.berth(['inspect', 'removed-at-exit']);
  assert.notEqual(gone.code, 0);
});

test('--name names the container; a name in use is refused with 125 and nothing is created', async () => {
  const id = (await d.ok(['create', '--name', 'taken', 'busybox', 'true'])).trim();
  assert.equal((await d.ok(['ps', '-a', '--filter', 'name=taken', '--format', '{{.ID}}'])).trim(), id.slice(0, 12));
  const before = await allIds();
  const r = await d.berth(['run', '--name', 'taken', 'busybox', 'true']);
  assert.equal(r.code, 125, show(r));
  assert.match(r.stderr, /"taken".*in use/);
  assert.deepEqual(await allIds(), before);
  const c = await d.berth(['create', '--name', 'taken', 'busybox', 'true']);
  assert.equal(c.code, 125, show(c));
  assert.deepEqual(await allIds(), before);
  await d.ok(['rm', 'taken']);
});

test('-e and --env-file set the environment, -e last', async () => {
  const file = join(d.scratch, 'env.list');
  writeFileSync(file, '# a comment\nFROM_FILE=file value\nBOTH=from-file\n');
  const r = await d.berth(['run', '--rm', '--env-file', file, '-e', 'BOTH=from-flag', '-e', 'PLAIN=1', 'busybox', 'sh', '-c', 'echo "$FROM_FILE|$BOTH|$PLAIN"']);
  assert.equal(r.code, 0, show(r));
  assert.equal(r.stdout, 'file value|from-flag|1\n');
  const missing = await d.berth(['run', '--rm', '--env-file', join(d.scratch, 'nope'), 'busybox', 'true']);
  assert.equal(missing.code, 125, show(missing));
  assert.match(missing.stderr, /--env-file/);
});

test('-w, -u and --entrypoint', async () => {
  const w = await d.berth(['run', '--rm', '-w', '/made/here', 'busybox', 'pwd']);
  assert.equal(w.stdout, '/made/here\n', show(w));
  const byName = await d.berth(['run', '--rm', '-u', 'nobody', 'busybox', 'sh', '-c', 'id -u; id -g']);
  assert.equal(byName.stdout, '65534\n65534\n', show(byName));
  const byIds = await d.berth(['run', '--rm', '-u', '1234:5678', 'busybox', 'sh', '-c', 'id -u; id -g']);
  assert.equal(byIds.stdout, '1234\n5678\n', show(byIds));
  const ep = await d.berth(['run', '--rm', '--entrypoint', 'echo', 'busybox', 'from', 'entrypoint']);
  assert.equal(ep.stdout, 'from entrypoint\n', show(ep));
  assert.equal((await d.ok(['create', '--name', 'ep', '--entrypoint', 'echo', 'busybox', 'x'])).length > 0, true);
  assert.equal((await d.ok(['inspect', '-f', '{{json .Config.Entrypoint}} {{json .Config.Cmd}}', 'ep'])).trim(), '["echo"] ["x"]');
  await d.ok(['rm', 'ep']);
});

test('--hostname sets the hostname, /etc/hostname and /etc/hosts; /etc/resolv.conf is there', async () => {
  const r = await d.berth(['run', '--rm', '--hostname', 'box-one', 'busybox', 'sh', '-c', 'hostname; cat /etc/hostname; grep -c box-one /etc/hosts; test -s /etc/resolv.conf && echo resolv']);
  assert.equal(r.code, 0, show(r));
  assert.equal(r.stdout, 'box-one\nbox-one\n1\nresolv\n');
  // Without it, the hostname is the short ID, as docker's.
  const id = (await d.ok(['run', '-d', 'busybox', 'sleep', '300'])).trim();
  const h = await d.ok(['exec', id, 'hostname']);
  assert.equal(h, `${id.slice(0, 12)}\n`);
  await d.ok(['rm', '-f', id]);
});

test('bad input is refused with 125, naming the input, and creates nothing', async () => {
  const before = await allIds();
  const cases: [string[], RegExp][] = [
    [['--memory', 'lots'], /--memory.*"lots"/],
    [['--cpus', 'x'], /--cpus/],
    [['--ulimit', 'nofile=abc'], /--ulimit/],
    [['-v', 'relative/dir:/x'], /relative\/dir|--volume/],
    [['--restart', 'sometimes'], /--restart.*sometimes/],
    [['--network', 'no-such-net'], /network no-such-net not found/],
    [['-p', '8080:0'], /--publish "8080:0": container port 0 is out of range/],
    [['--security-opt', 'seccomp=/no/such/profile.json'], /seccomp=\/no\/such\/profile\.json/],
  ];
  for (const [flags, named] of cases) {
    const r = await d.berth(['run', '--rm', ...flags, 'busybox', 'true']);
    assert.equal(r.code, 125, `${flags.join(' ')}: ${show(r)}`);
    assert.match(r.stderr, named, flags.join(' '));
  }
  const never = await d.berth(['run', '--pull', 'never', 'not-here:1', 'true']);
  assert.equal(never.code, 125, show(never));
  assert.match(never.stderr, /"not-here:1"/);
  // Regression: a failed pull said only why the registry did not answer, not which image was wanted.
  const unknown = await d.berth(['run', 'nowhere-to-be-found:2', 'true']);
  assert.equal(unknown.code, 125, show(unknown));
  assert.match(unknown.stderr, /image "nowhere-to-be-found:2"/);
  assert.deepEqual(await allIds(), before);
});
