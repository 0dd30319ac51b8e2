/**
 * The commands that reach into a running container, through the real
 * command line and a real berthd, as root: exec -i/-t/-d/-u/-w/-e (and
 * its exit code), attach, and cp both ways, with a symlink in the
 * container that points out of it staying inside (the attack of
 * CVE-2018-15664 / CVE-2019-14271 on docker cp).
 */
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { monitorPids } from '../../helpers/monitors.ts';
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

test('an exec sees itself confined as the container\'s pid 1: capabilities, no_new_privs, seccomp, cgroup, namespaces, mounts', async () => {
  const probe = (pid: string): string =>
    `grep -E "^(Uid|Gid|Groups|Cap[A-Za-z]+|NoNewPrivs|Seccomp|Seccomp_filters):" /proc/${pid}/status; cat /proc/${pid}/cgroup /proc/${pid}/limits /proc/${pid}/mountinfo; ` +
    `for n in cgroup ipc mnt net pid time user uts; do readlink /proc/${pid}/ns/$n; done`;
  const self = await d.ok(['exec', 'box', 'sh', '-c', probe('self')]);
  const init = await d.ok(['exec', 'box', 'sh', '-c', probe('1')]);
  assert.equal(self, init);
  assert.match(self, /^NoNewPrivs:\s+0$/m, 'docker\'s default: no_new_privs only with --security-opt no-new-privileges');
  assert.match(self, /^Seccomp:\s+2$/m, 'the default seccomp profile filters it');
  assert.doesNotMatch(self, /^CapBnd:\s+000001ffffffffff$/m, 'docker\'s capability set, not all of them');
});

/** berthd's pid: the process serving this test's socket. */
function berthdPid(): number {
  const pids = readdirSync('/proc').filter((p) => /^\d+$/.test(p)).filter((p) => {
    try {
      return readFileSync(`/proc/${p}/cmdline`, 'utf8').split('\0').includes(d.socket);
    } catch {
      return false;
    }
  });
  assert.equal(pids.length, 1, `one berthd on ${d.socket}: ${pids.join(' ')}`);
  return Number(pids[0]);
}

test('many execs (attached, -i, -t, -d, failing) leave berthd\'s descriptors, exec run directories and monitors as they were', async () => {
  const pid = berthdPid();
  const fds = (): number => readdirSync(`/proc/${pid}/fd`).length;
  const round = async (i: number): Promise<void> => {
    assert.equal(await d.ok(['exec', 'box', 'echo', `n${i}`]), `n${i}\n`);
    assert.equal((await d.berth(['exec', '-i', 'box', 'cat'], { input: `in${i}` })).stdout, `in${i}`);
    assert.match((await d.berth(['exec', '-t', 'box', 'sh', '-c', 'test -t 1 && echo tty'])).stdout, /tty/);
    assert.equal((await d.berth(['exec', '-d', 'box', 'true'])).code, 0);
    assert.equal((await d.berth(['exec', 'box', 'no-such-program'])).code, 127);
  };
  await round(-1);  // what the first execs open once (modules, watchers) is not a leak
  const execDir = join(d.runRoot, 'exec');
  const settled = async (): Promise<number> => {
    await until('the exec run directories to go', () => (!existsSync(execDir) || readdirSync(execDir).length === 0 ? true : undefined));
    await until('the exec monitors to exit', () => (monitorPids().some((m) => {
      try {
        return readFileSync(`/proc/${m}/cmdline`, 'utf8').includes(`${execDir}/`);
      } catch {
        return false;
      }
    }) ? undefined : true));
    return fds();
  };
  const before = await settled();
  for (let i = 0; i < 15; i++) await round(i);
  await settled();
  await until(`berthd's descriptors to be back to ${before} (now ${fds()})`, () => (fds() <= before ? true : undefined));
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
