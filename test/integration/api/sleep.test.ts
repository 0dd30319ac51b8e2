/**
 * berthd's sleep (as root): idle for --sleep-after, its process becomes
 * berth-idle under the same pid, holding the API socket, the command
 * socket, the gateway's and the run root's lock in well under 2 MiB; a
 * connection on any of them wakes berthd, and the connection is answered;
 * what berthd keeps (a created container, the network pool's namespaces)
 * is all there after; no descriptor is left over. A running container or
 * a deployed function keeps it awake; SIGTERM and kill -9 while asleep
 * free the lock for the next daemon. And berth-idle alone: bad arguments
 * refused, descriptors handed on as systemd's socket activation does.
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { closeSync, existsSync, openSync, readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { get } from 'node:http';
import { connect, createServer, type AddressInfo } from 'node:net';
import { join } from 'node:path';
import { test } from 'node:test';
import { daemonHoldsLock } from '../../../src/api/daemon.ts';
import { lockHolder } from '../../../src/api/service.ts';
import { daemonPaths } from '../../../src/api/paths.ts';
import { onCleanup, tempDir } from '../../helpers/cleanup.ts';
import { REPO } from '../../helpers/berthd.ts';
import { startDaemon, until, type TestDaemon } from '../../helpers/daemon.ts';

const IDLE = join(REPO, 'build', 'berth-idle');

const exeOf = (pid: number): string => readlinkSync(`/proc/${pid}/exe`);
const rssKiB = (pid: number): number => Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1]);
const fdCount = (pid: number): number => readdirSync(`/proc/${pid}/fd`).length;

/** The fewest descriptors `pid` holds over 300 ms (a connection being closed is not counted). */
async function settledFdCount(pid: number): Promise<number> {
  let fewest = fdCount(pid);
  for (let i = 0; i < 15; i++) {
    await new Promise((resolve) => setTimeout(resolve, 20));
    fewest = Math.min(fewest, fdCount(pid));
  }
  return fewest;
}
const asleep = (d: TestDaemon): boolean => exeOf(d.pid!) === IDLE;

async function untilAsleep(d: TestDaemon): Promise<void> {
  await until('berthd to sleep', () => (asleep(d) ? true : undefined), 30_000);
}

function wokenCount(d: TestDaemon): number {
  return d.log().split('\n').filter((l) => l.includes('"berthd woken')).length;
}

test('idle, berthd becomes berth-idle under its pid, holding its sockets and lock; a connection on each wakes it and is answered; nothing is lost or left over', { timeout: 180_000 }, async (t) => {
  const d = await startDaemon({ gateway: true, args: ['--sleep-after', '1s'] });
  onCleanup(t, () => d.stop());
  const pid = d.pid!;
  await d.ok(['create', '--name', 'kept', 'busybox', 'true']);

  await untilAsleep(d);
  assert.equal(d.pid, pid);
  const rss = rssKiB(pid);
  assert.ok(rss < 2048, `asleep, ${rss} KiB resident`);
  const paths = daemonPaths({ root: d.root, runRoot: d.runRoot, socket: d.socket });
  assert.equal(lockHolder(paths.lock), pid, 'the lock file still names it');
  assert.ok(await daemonHoldsLock(paths), 'and it still holds the lock');
  assert.match(d.log(), /"berthd sleeping: berth-idle holds its sockets[^\n]*"sockets":\["api","cli","gateway"\]/);

  // The API socket wakes it; the request that did is answered.
  assert.match(await d.ok(['ps', '-a', '--format', '{{.Names}} {{.State}}']), /^kept created$/m);
  assert.equal(exeOf(pid), realNode(), 'awake: Node.js again, the same pid');
  assert.equal(wokenCount(d), 1);
  // The fewest open over a moment: the request just answered may still be closing its connection.
  const fdsAwake = await settledFdCount(pid);

  // berth's command socket wakes it (the client hands the command over there).
  await untilAsleep(d);
  const commandsBefore = d.log().split('\n').filter((l) => l.includes('"client command"')).length;
  assert.match(await d.ok(['ps', '-a', '--format', '{{.Names}}']), /^kept$/m);
  assert.equal(wokenCount(d), 2);
  assert.ok(d.log().split('\n').filter((l) => l.includes('"client command"')).length > commandsBefore, 'served through cli.sock');

  // The gateway's socket wakes it.
  await untilAsleep(d);
  const status = await new Promise<number | undefined>((resolve, reject) => {
    // Connection: close, so the count of descriptors below holds no connection of this request.
    get(`${d.gateway}/healthz`, { headers: { Connection: 'close' }, timeout: 20_000 }, (res) => {
      res.resume();
      res.once('end', () => resolve(res.statusCode));
    }).once('error', reject);
  });
  assert.equal(status, 200);
  assert.equal(wokenCount(d), 3);
  assert.equal(exeOf(pid), realNode());
  await until('the gateway connection closed', () => (fdCount(pid) <= fdsAwake ? true : undefined), 5_000).catch(() => undefined);
  assert.equal(fdCount(pid), fdsAwake, 'no descriptor left over by two more sleeps');
});

function realNode(): string {
  return readlinkSync('/proc/self/exe');
}

test('an --api TCP address is held while asleep, on the same port, and a connection there wakes berthd', { timeout: 60_000 }, async (t) => {
  const d = await startDaemon({ args: ['--sleep-after', '1s', '--api', 'tcp://127.0.0.1:0'] });
  onCleanup(t, () => d.stop());
  const port = Number(/"address":"tcp:\/\/127\.0\.0\.1:(\d+)"/.exec(d.log())?.[1]);
  assert.ok(port > 0, 'the port berthd logged');
  await untilAsleep(d);
  assert.match(d.log(), /"sockets":\["api","tcp0"/);
  const r = await fetch(`http://127.0.0.1:${port}/_ping`, { signal: AbortSignal.timeout(20_000) });
  assert.equal(await r.text(), 'OK');
  assert.equal(wokenCount(d), 1);
});

test('a running container keeps berthd awake; once it has exited, berthd sleeps', { timeout: 120_000 }, async (t) => {
  const d = await startDaemon({ args: ['--sleep-after', '1s'] });
  onCleanup(t, () => d.stop());
  const id = (await d.ok(['run', '-d', 'busybox', 'sleep', '4'])).trim();
  const end = Date.now() + 3000;
  while (Date.now() < end) {
    assert.ok(!asleep(d), 'asleep while a container runs');
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  assert.equal((await d.ok(['wait', id])).trim(), '0');
  await untilAsleep(d);
  assert.match(await d.ok(['ps', '-a', '--format', '{{.ID}} {{.State}}']), new RegExp(`^${id.slice(0, 12)} exited$`, 'm'));
});

test('the network pool\'s namespaces are kept across a sleep, not made again, and serve the next container', { timeout: 120_000 }, async (t) => {
  const d = await startDaemon({ networkPool: 1, args: ['--sleep-after', '1s'] });
  onCleanup(t, () => d.stop());
  const netns = (): string[] => (existsSync(join(d.runRoot, 'netns')) ? readdirSync(join(d.runRoot, 'netns')).sort() : []);
  await until('the pool to fill', () => (netns().length === 1 ? true : undefined), 30_000);
  await untilAsleep(d);
  const before = netns();
  const out = await d.ok(['run', '--rm', 'busybox', 'ip', '-4', '-o', 'addr', 'show', 'eth0']);
  assert.match(out, new RegExp(`inet ${d.bip.split('.').slice(0, 3).join('\\.')}\\.\\d+/`), out);
  assert.ok(netns().includes(before[0]!) || d.log().includes('network pool'), 'the kept namespace');
  assert.match(d.log(), /"engine recovered"/);
  assert.doesNotMatch(d.log().split('"berthd woken')[1] ?? '', /"network recovery: /, 'no recovery error after the wake');
});

test('SIGTERM while asleep ends it and frees the lock; so does kill -9; the next berthd starts', { timeout: 120_000 }, async (t) => {
  const d = await startDaemon({ args: ['--sleep-after', '1s'] });
  onCleanup(t, () => d.stop());
  const paths = daemonPaths({ root: d.root, runRoot: d.runRoot, socket: d.socket });
  await untilAsleep(d);
  const pid = d.pid!;
  process.kill(pid, 'SIGTERM');
  await until('berth-idle to exit', () => (existsSync(`/proc/${pid}`) && !/^\d+ \(.*\) Z /.test(readFileSync(`/proc/${pid}/stat`, 'utf8')) ? undefined : true));
  assert.equal(await daemonHoldsLock(paths), false);
  await d.restart();
  assert.match(await d.ok(['ps', '-a', '--format', '{{.Names}}']), /^$/);
  await untilAsleep(d);
  await d.kill9();
  assert.equal(await daemonHoldsLock(paths), false);
  await d.restart();
  assert.ok(await d.client.ping());
});

test('berthd --sleep-after takes a duration, 0 or never; anything else is refused naming the flag', () => {
  const r = spawnSync(join(REPO, 'bin', 'berthd'), ['--sleep-after', '5x'], { encoding: 'utf8' });
  assert.notEqual(r.status, 0);
  assert.match(r.stderr, /--sleep-after "5x": not a duration/);
  const small = spawnSync(join(REPO, 'bin', 'berthd'), ['--sleep-after', '10ms'], { encoding: 'utf8' });
  assert.match(small.stderr, /--sleep-after "10ms": not a duration of 100ms or more/);
});

test('berth-idle: bad arguments are refused; a connection makes it run the program with the descriptors at 3, 4, ... and LISTEN_*', { timeout: 30_000 }, async (t) => {
  for (const [args, why] of [
    [['--', '/bin/true'], /no descriptor to watch/],
    [['api=99', '--', '/bin/true'], /"api=99": not NAME=FD of an open descriptor/],
    [['a:b=0', '--', '/bin/true'], /not NAME=FD/],
    [['api=0'], /no program after --/],
  ] as const) {
    const r = spawnSync(IDLE, args, { encoding: 'utf8' });
    assert.equal(r.status, 2, args.join(' '));
    assert.match(r.stderr, why);
  }
  const dir = tempDir(t, 'berth-idle-');
  // TCP listeners this process closes once the child has them (Node.js would accept the connection itself).
  const listen = async (): Promise<{ port: number; fd: number; close: () => void }> => {
    const s = createServer();
    await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve));
    onCleanup(t, () => s.close());
    return { port: (s.address() as AddressInfo).port, fd: (s as unknown as { _handle: { fd: number } })._handle.fd, close: () => s.close() };
  };
  const a = await listen();
  const b = await listen();
  const lockFd = openSync(join(dir, 'lock'), 'a');
  onCleanup(t, () => closeSync(lockFd));
  // The program shows what it was given: the variables and its descriptors past the standard three.
  const script = 'echo "$LISTEN_FDS $LISTEN_FDNAMES $([ "$LISTEN_PID" = $$ ] && echo same-pid)"; for f in /proc/self/fd/*; do n=${f##*/}; [ "$n" -gt 2 ] && echo "$n $(readlink $f)"; done; true';
  // In the child: a at 3, b at 4, the lock at 5.
  const child = spawn(IDLE, ['one=3', '--hold', 'held=5', 'two=4', '--', '/bin/sh', '-c', script], { stdio: ['ignore', 'pipe', 'pipe', a.fd, b.fd, lockFd] });
  a.close();
  b.close();
  let out = '';
  child.stdout!.on('data', (c: Buffer) => (out += c.toString()));
  // Not before a connection.
  await new Promise((resolve) => setTimeout(resolve, 300));
  assert.equal(out, '');
  assert.equal(child.exitCode, null);
  const c = connect(b.port, '127.0.0.1');
  // Reset when the program exits without accepting it.
  c.on('error', () => undefined);
  onCleanup(t, () => c.destroy());
  const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
  assert.equal(code, 0, out);
  const [head, ...fds] = out.trim().split('\n');
  assert.equal(head, '3 one:held:two same-pid');
  // In the order given, nothing else; the shell's own reading of /proc/self/fd may show one more, past them.
  assert.match(fds[0] ?? '', /^3 socket:\[\d+\]$/, out);
  assert.equal(fds[1], `4 ${join(dir, 'lock')}`, out);
  assert.match(fds[2] ?? '', /^5 socket:\[\d+\]$/, out);
  assert.ok(fds.slice(3).every((l) => !/socket|lock/.test(l)), out);
});

test('berth-idle: SIGTERM ends it with status 0', { timeout: 30_000 }, async () => {
  const s = createServer();
  await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve));
  try {
    const fd = (s as unknown as { _handle: { fd: number } })._handle.fd;
    const child = spawn(IDLE, ['api=3', '--', '/bin/false'], { stdio: ['ignore', 'ignore', 'ignore', fd] });
    await new Promise((resolve) => setTimeout(resolve, 200));
    child.kill('SIGTERM');
    const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
    assert.equal(code, 0);
  } finally {
    s.close();
  }
});
