/**
 * The commands that reach into a running container, through the real
 * command line and a real berthd, as root: exec -i/-t/-d/-u/-w/-e (and
 * its exit code), attach, and cp both ways, with a symlink in the
 * container that points out of it staying inside (the attack of
 * CVE-2018-15664 / CVE-2019-14271 on docker cp).
 */
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { show, startDaemon, until, type TestDaemon } from '../../helpers/daemon.ts';

let d: TestDaemon;
let box: string;
before(async () => {
  d = await startDaemon();
  box = (await d.ok(['run', '-d', '--name', 'box', 'busybox', 'sleep', '600'])).trim();
});
after(async () => {
  await d?.stop();
});

test('exec runs in the container with its exit code; -u, -w, -e', async () => {
  const r = await d.berth(['exec', 'box', 'sh', '-c', 'echo out; echo err >&2; exit 5']);
  assert.equal(r.code, 5, show(r));
  assert.equal(r.stdout, 'out\n');
  assert.equal(r.stderr, 'err\n');
  assert.equal(await d.ok(['exec', '-u', 'nobody', 'box', 'id', '-u']), '65534\n');
  assert.equal(await d.ok(['exec', '-w', '/etc', 'box', 'pwd']), '/etc\n');
  assert.equal(await d.ok(['exec', '-e', 'GREETING=hello there', 'box', 'sh', '-c', 'echo "$GREETING"']), 'hello there\n');
  const missing = await d.berth(['exec', 'box', 'no-such-program']);
  assert.equal(missing.code, 127, show(missing));
  assert.match(missing.stdout + missing.stderr, /no-such-program/);
  const relative = await d.berth(['exec', '-w', 'etc', 'box', 'pwd']);
  assert.notEqual(relative.code, 0);
  assert.match(relative.stderr, /--workdir/);
});

test('exec -i passes stdin; -t gives a terminal; -d returns at once', async () => {
  const r = await d.berth(['exec', '-i', 'box', 'sh', '-c', 'cat; echo end'], { input: 'piped in\n' });
  assert.equal(r.stdout, 'piped in\nend\n', show(r));
  const tty = await d.berth(['exec', '-t', 'box', 'sh', '-c', 'test -t 0 && test -t 1 && echo has-tty']);
  assert.match(tty.stdout, /has-tty/, show(tty));
  const none = await d.berth(['exec', 'box', 'sh', '-c', 'test -t 0 || echo no-tty']);
  assert.equal(none.stdout, 'no-tty\n');
  const detached = await d.berth(['exec', '-d', 'box', 'sh', '-c', 'sleep 0.3; touch /tmp/detached-done']);
  assert.equal(detached.code, 0, show(detached));
  assert.equal(detached.stdout, '');
  await until('the detached exec to finish', async () => ((await d.berth(['exec', 'box', 'test', '-e', '/tmp/detached-done'])).code === 0 ? true : undefined));
});

test('attach streams a running container\'s output and passes stdin; it ends with the container', async () => {
  await d.ok(['run', '-d', '-i', '--name', 'listener', 'busybox', 'sh', '-c', 'read line; echo "got:$line"; echo "bye" >&2']);
  const r = await d.berth(['attach', 'listener'], { input: 'hello\n', timeoutMs: 30_000 });
  assert.equal(r.code, 0, show(r));
  assert.equal(r.stdout, 'got:hello\n');
  assert.equal(r.stderr, 'bye\n');
  const stopped = await d.berth(['attach', 'listener']);
  assert.notEqual(stopped.code, 0);
  assert.match(stopped.stderr, /not running/);
  await d.ok(['rm', 'listener']);
});

test('cp copies files and directories into and out of a container', async () => {
  const src = join(d.scratch, 'cp-src');
  mkdirSync(join(src, 'sub'), { recursive: true });
  writeFileSync(join(src, 'a.txt'), 'file a\n');
  writeFileSync(join(src, 'sub', 'b.txt'), 'file b\n');
  assert.equal((await d.berth(['cp', join(src, 'a.txt'), 'box:/tmp/'])).code, 0);
  assert.equal(await d.ok(['exec', 'box', 'cat', '/tmp/a.txt']), 'file a\n');
  assert.equal((await d.berth(['cp', join(src, 'a.txt'), 'box:/tmp/renamed.txt'])).code, 0);
  assert.equal(await d.ok(['exec', 'box', 'cat', '/tmp/renamed.txt']), 'file a\n');
  assert.equal((await d.berth(['cp', src, 'box:/tmp/tree'])).code, 0);
  assert.equal(await d.ok(['exec', 'box', 'cat', '/tmp/tree/sub/b.txt']), 'file b\n');

  await d.ok(['exec', 'box', 'sh', '-c', 'mkdir -p /out/deep && echo made inside > /out/deep/c.txt']);
  const dst = join(d.scratch, 'cp-dst');
  mkdirSync(dst);
  const out = await d.berth(['cp', 'box:/out', dst]);
  assert.equal(out.code, 0, show(out));
  assert.equal(readFileSync(join(dst, 'out', 'deep', 'c.txt'), 'utf8'), 'made inside\n');
  assert.equal((await d.berth(['cp', 'box:/etc/hostname', join(dst, 'hn')])).code, 0);
  assert.equal(readFileSync(join(dst, 'hn'), 'utf8'), `${box.slice(0, 12)}\n`);
  const missing = await d.berth(['cp', 'box:/no/such/file', dst]);
  assert.notEqual(missing.code, 0);
  assert.match(missing.stderr, /no\/such\/file/);
});

test('CVE-2018-15664: cp through a symlink in the container that points out of it stays inside the container', async () => {
  // On the host: a directory a container's symlink names by its host path.
  const hostDir = join(d.scratch, 'host-secrets');
  mkdirSync(hostDir);
  writeFileSync(join(hostDir, 'secret'), 'host only\n');
  await d.ok(['exec', 'box', 'sh', '-c', `ln -s /../../../../../..${hostDir} /tmp/escape && mkdir -p ${hostDir} && echo container copy > ${hostDir}/secret`]);
  const dst = join(d.scratch, 'escape-out');
  mkdirSync(dst);
  const out = await d.berth(['cp', 'box:/tmp/escape/secret', join(dst, 'got')]);
  assert.equal(out.code, 0, show(out));
  assert.equal(readFileSync(join(dst, 'got'), 'utf8'), 'container copy\n', 'read from the container\'s own file, not the host\'s');

  const planted = join(d.scratch, 'plant');
  writeFileSync(planted, 'planted\n');
  const into = await d.berth(['cp', planted, 'box:/tmp/escape/']);
  assert.equal(into.code, 0, show(into));
  assert.equal(existsSync(join(hostDir, 'plant')), false, 'nothing written on the host through the symlink');
  assert.equal(await d.ok(['exec', 'box', 'cat', `${hostDir}/plant`]), 'planted\n');
  assert.equal(readFileSync(join(hostDir, 'secret'), 'utf8'), 'host only\n');
});
