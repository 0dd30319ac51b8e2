/**
 * Connections and the watchdog's own life: keep-alive and pipelined
 * requests on one connection, HTTP/1.0, Expect: 100-continue, the lock
 * file, the SIGTERM drain (no new connection, the running request
 * finishes, then exit 0; cut at write_timeout), orphans reaped, and no
 * descriptor or memory kept across 10,000 requests.
 */
import assert from 'node:assert/strict';
import { chmodSync, copyFileSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { Agent, createServer, request as httpRequest } from 'node:http';
import { connect } from 'node:net';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import { onCleanup } from '../../helpers/cleanup.ts';
import { freePort, raw, request, script, startWatchdog, until, usage, WATCHDOG } from './watchdog.ts';

test('keep-alive: several requests on one connection, each answered', async (t) => {
  const wd = await startWatchdog(t, { fprocess: 'cat' });
  const agent = new Agent({ keepAlive: true, maxSockets: 1 });
  t.after(() => agent.destroy());
  const replies = [];
  for (let i = 0; i < 5; i++) replies.push(await request(wd.port, `/${i}`, { body: `request ${i}`, agent }));
  assert.deepEqual(replies.map((r) => r.body), [0, 1, 2, 3, 4].map((i) => `request ${i}`));
  assert.deepEqual(replies.map((r) => r.reused), [false, true, true, true, true]);
});

test('pipelined requests in one write are answered in order; HTTP/1.0 gets its answer and a close', async (t) => {
  const wd = await startWatchdog(t, { fprocess: 'cat', mode: 'serializing' });
  const two = await raw(wd.port, 'POST /a HTTP/1.1\r\nContent-Length: 3\r\n\r\nonePOST /b HTTP/1.1\r\nContent-Length: 3\r\nConnection: close\r\n\r\ntwo');
  assert.ok(two.closed);
  const bodies = [...two.text.matchAll(/HTTP\/1\.1 200 OK\r\n[\s\S]*?\r\n\r\n(one|two)/g)].map((m) => m[1]);
  assert.deepEqual(bodies, ['one', 'two']);
  const old = await raw(wd.port, 'POST / HTTP/1.0\r\nContent-Length: 2\r\n\r\nhi');
  assert.ok(old.closed);
  assert.match(old.text, /^HTTP\/1\.1 200 OK\r\n[\s\S]*Connection: close\r\n\r\nhi$/);
});

test('HTTP/1.0 with Connection: keep-alive (ab -k) is told the connection stays open, and its next request is answered on it', async (t) => {
  const wd = await startWatchdog(t, { fprocess: 'cat' });
  const r = await raw(wd.port, 'GET /_/health HTTP/1.0\r\nConnection: keep-alive\r\n\r\nGET /_/health HTTP/1.0\r\n\r\n');
  const answers = r.text.split(/(?=HTTP\/1\.1 )/);
  assert.equal(answers.length, 2, r.text);
  assert.match(answers[0]!, /^HTTP\/1\.1 200 OK\r\n[\s\S]*Connection: keep-alive\r\n\r\nOK$/);
  assert.match(answers[1]!, /Connection: close\r\n\r\nOK$/);
  assert.ok(r.closed, 'closed after the HTTP/1.0 request that did not ask to keep it');
});

test('a HEAD is answered with headers only, so the next answer on the connection starts right after them', async (t) => {
  for (const mode of ['serializing', 'streaming']) {
    const wd = await startWatchdog(t, { fprocess: 'echo hello', mode });
    const r = await raw(wd.port, 'HEAD /h HTTP/1.1\r\n\r\nPOST /p HTTP/1.1\r\nContent-Length: 0\r\nConnection: close\r\n\r\n');
    const answers = r.text.split(/(?=HTTP\/1\.1 )/);
    assert.equal(answers.length, 2, `${mode}: ${r.text}`);
    assert.match(answers[0]!, /\r\n\r\n$/, `${mode}: the HEAD's answer has a body: ${answers[0]}`);
    assert.match(answers[1]!, /hello\n(\r\n0\r\nX-Berth-Usage: [^\r]*\r\n\r\n)?$/, mode);
    if (mode === 'serializing') assert.match(answers[0]!, /Content-Length: 6\r\n/);
  }
});

test('Expect: 100-continue gets its 100 before the body is sent', async (t) => {
  const wd = await startWatchdog(t, { fprocess: 'cat' });
  const body = await new Promise<string>((resolve, reject) => {
    const req = httpRequest({ host: '127.0.0.1', port: wd.port, method: 'POST', path: '/', agent: false, headers: { 'Expect': '100-continue', 'Content-Length': '4' } }, (res) => {
      let text = '';
      res.on('data', (d: Buffer) => (text += d.toString()));
      res.on('end', () => resolve(text));
    });
    req.on('continue', () => req.end('body'));
    req.on('error', reject);
  });
  assert.equal(body, 'body');
});

/**
 * Runs the watchdog in a mount namespace of its own with a fresh /tmp, so its /tmp/.lock is its own
 * (read through /proc/PID/root); it and its scripts live under /var/tmp, which stays visible (the
 * checkout itself may be under /tmp, hidden by that tmpfs).
 */
function inOwnTmp(t: TestContext): string[] {
  const dir = mkdtempSync(join('/var/tmp', 'berth-wd-bin-'));
  onCleanup(t, () => rmSync(dir, { recursive: true, force: true }));
  const copy = join(dir, 'berth-watchdog');
  copyFileSync(WATCHDOG, copy);
  chmodSync(copy, 0o755);
  return ['unshare', '--mount', '--propagation', 'private', 'sh', '-c', `mount -t tmpfs none /tmp && exec ${copy}`];
}

test('SIGTERM: /tmp/.lock removed, no new connection, the running request finishes, then exit 0', async (t) => {
  const fn = script(t, '', '/var/tmp');
  writeFileSync(join(fn.dir, 'fn.sh'), `touch ${fn.dir}/started\nwhile [ ! -e ${fn.dir}/go ]; do sleep 0.01; done\necho finished\n`);
  const wd = await startWatchdog(t, { fprocess: fn.fprocess, suppress_lock: 'false', write_timeout: '20s' }, inOwnTmp(t));
  const lock = `/proc/${wd.pid}/root/tmp/.lock`;
  await until('the lock file', () => (existsSync(lock) ? true : undefined));
  const running = request(wd.port, '/slow');
  await until('the request to run', () => (existsSync(join(fn.dir, 'started')) ? true : undefined));
  wd.proc.kill('SIGTERM');
  await until('the lock file to go', () => (existsSync(lock) ? undefined : true));
  const refused = await new Promise<string>((resolve) => {
    const s = connect(wd.port, '127.0.0.1');
    s.on('connect', () => { s.destroy(); resolve('connected'); });
    s.on('error', (e: NodeJS.ErrnoException) => resolve(e.code ?? 'error'));
  });
  assert.equal(refused, 'ECONNREFUSED');
  assert.equal(wd.proc.exitCode, null, 'exited before its request finished');
  writeFileSync(join(fn.dir, 'go'), '');
  const r = await running;
  assert.equal(r.status, 200);
  assert.equal(r.body, 'finished\n');
  assert.equal(await wd.exited, 0);
  assert.match(wd.log(), /SIGTERM: draining 1 connection\(s\)/);
});

test('SIGTERM while a body is being uploaded: the upload completes and is answered', async (t) => {
  const wd = await startWatchdog(t, { fprocess: 'wc -c', mode: 'serializing', write_timeout: '20s' });
  const answer = new Promise<string>((resolve, reject) => {
    const req = httpRequest({ host: '127.0.0.1', port: wd.port, method: 'POST', path: '/', agent: false }, (res) => {
      let text = '';
      res.on('data', (d: Buffer) => (text += d.toString()));
      res.on('end', () => resolve(`${res.statusCode} ${text.trim()}`));
    });
    req.on('error', reject);
    req.write('a'.repeat(1000));
    // The rest only once the drain has begun.
    void until('the drain', () => (/SIGTERM: draining 1 /.test(wd.log()) ? true : undefined)).then(() => req.end('b'.repeat(500)));
  });
  await until('the connection to be handled', () => (children(wd.pid).length > 0 ? true : undefined));
  wd.proc.kill('SIGTERM');
  assert.equal(await answer, '200 1500');
  assert.equal(await wd.exited, 0);
});

test('SIGTERM: a request still running at write_timeout is cut and the watchdog exits anyway', async (t) => {
  const fn = script(t, '');
  writeFileSync(join(fn.dir, 'fn.sh'), `touch ${fn.dir}/started\nexec sleep 60\n`);
  const wd = await startWatchdog(t, { fprocess: fn.fprocess, write_timeout: '300ms', exec_timeout: '60s' });
  const running = request(wd.port, '/forever');
  running.catch(() => undefined);
  await until('the request to run', () => (existsSync(join(fn.dir, 'started')) ? true : undefined));
  wd.proc.kill('SIGTERM');
  assert.equal(await wd.exited, 0);
  assert.match(wd.log(), /exiting, 1 connection\(s\) cut/);
  await assert.rejects(running);
});

test('mode http: /tmp/.lock only once the upstream answers', async (t) => {
  const fn = script(t, '', '/var/tmp');
  const port = await freePort();
  writeFileSync(join(fn.dir, 'fn.sh'), `while [ ! -e ${fn.dir}/go ]; do sleep 0.01; done\nexec busybox httpd -f -p 127.0.0.1:${port} -h ${fn.dir}\n`);
  const wd = await startWatchdog(t, { fprocess: fn.fprocess, mode: 'http', upstream_url: `http://127.0.0.1:${port}`, suppress_lock: 'false' }, inOwnTmp(t));
  const lock = `/proc/${wd.pid}/root/tmp/.lock`;
  assert.equal((await request(wd.port, '/_/health')).status, 503);
  assert.equal(existsSync(lock), false);
  writeFileSync(join(fn.dir, 'go'), '');
  await until('the lock file', () => (existsSync(lock) ? true : undefined));
  assert.equal((await request(wd.port, '/_/health')).status, 200);
});

test('mode http: /_/health?wait=MS holds its answer until the upstream is ready (then 200 at once), or answers 503 after MS', async (t) => {
  const fn = script(t, '', '/var/tmp');
  const port = await freePort();
  writeFileSync(join(fn.dir, 'fn.sh'), `while [ ! -e ${fn.dir}/go ]; do sleep 0.01; done\nexec busybox httpd -f -p 127.0.0.1:${port} -h ${fn.dir}\n`);
  const wd = await startWatchdog(t, { fprocess: fn.fprocess, mode: 'http', upstream_url: `http://127.0.0.1:${port}` }, inOwnTmp(t));
  // Not ready within its wait: 503 once the wait is over, not before.
  const t0 = performance.now();
  assert.equal((await request(wd.port, '/_/health?wait=300')).status, 503);
  assert.ok(performance.now() - t0 >= 290, 'held for its wait');
  // Ready during the wait: the held answer is 200, well before the wait is over.
  const held = request(wd.port, '/_/health?wait=10000');
  await new Promise((resolve) => setTimeout(resolve, 200));
  const go = performance.now();
  writeFileSync(join(fn.dir, 'go'), '');
  assert.equal((await held).status, 200);
  const after = performance.now() - go;
  assert.ok(after < 5000, `answered ${after.toFixed(0)} ms after the upstream was let go, not at the end of the wait`);
  // Ready: no wait at all; a bare /_/health is answered at once as before.
  assert.equal((await request(wd.port, '/_/health?wait=10000')).status, 200);
  assert.equal((await request(wd.port, '/_/health')).status, 200);
});

test('kill -9 of the watchdog takes mode http\'s process and a running function with it', async (t) => {
  const port = await freePort();
  const up = script(t, `echo $$ > \${0%/*}/pid\nexec busybox httpd -f -p 127.0.0.1:${port} -h /\n`);
  const http = await startWatchdog(t, { fprocess: up.fprocess, mode: 'http', upstream_url: `http://127.0.0.1:${port}` });
  await until('health 200', async () => ((await request(http.port, '/_/health')).status === 200 ? true : undefined));
  const upstream = Number(readFileSync(join(up.dir, 'pid'), 'utf8'));
  const fn = script(t, 'echo $$ > ${0%/*}/pid\nexec sleep 60\n');
  const fork = await startWatchdog(t, { fprocess: fn.fprocess, exec_timeout: '60s' });
  const running = request(fork.port, '/');
  running.catch(() => undefined);
  const sleeper = await until('the function to run', () => (existsSync(join(fn.dir, 'pid')) ? Number(readFileSync(join(fn.dir, 'pid'), 'utf8')) : undefined));
  http.proc.kill('SIGKILL');
  fork.proc.kill('SIGKILL');
  const gone = (pid: number): boolean => {
    try {
      return /^State:\s+Z/m.test(readFileSync(`/proc/${pid}/status`, 'utf8'));
    } catch {
      return true;
    }
  };
  await until('the upstream and the function to die', () => (gone(upstream) && gone(sleeper) ? true : undefined));
  await assert.rejects(running);
});

/** The watchdog's children now (its connection handlers, and orphans not reaped yet). */
function children(pid: number): number[] {
  return readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number);
}

test('orphans left by a function are reaped (the watchdog is their subreaper, as it is a container\'s pid 1)', async (t) => {
  // The function's own child outlives it (setsid: out of its process group, so not killed with it).
  const fn = script(t, 'setsid sh -c "sleep 0.2" &\necho started\n');
  const wd = await startWatchdog(t, { fprocess: fn.fprocess });
  assert.equal((await request(wd.port, '/')).body, 'started\n');
  await until('the orphan to be reaped', () => {
    const zombies = children(wd.pid).filter((c) => {
      try {
        return /^State:\s+Z/m.test(readFileSync(`/proc/${c}/status`, 'utf8'));
      } catch {
        return false;
      }
    });
    return children(wd.pid).length === 0 && zombies.length === 0 ? true : undefined;
  });
});

test('10,000 requests leave no descriptor, process or memory behind', async (t) => {
  const wd = await startWatchdog(t, { fprocess: 'cat' });
  const agent = new Agent({ keepAlive: true, maxSockets: 4 });
  t.after(() => agent.destroy());
  const run = async (n: number): Promise<void> => {
    for (let i = 0; i < n; i += 8) {
      // Every 8th request on a connection of its own: the accept path too.
      const batch = await Promise.all(Array.from({ length: 8 }, (_, k) => request(wd.port, `/r${i + k}`, { body: `x${i + k}`, ...(k === 0 ? {} : { agent }) })));
      for (const [k, r] of batch.entries()) assert.equal(r.body, `x${i + k}`);
    }
  };
  await run(400);
  const before = usage(wd.pid);
  await run(10_000 - 400);
  agent.destroy();
  await until('the connection handlers to exit', () => (children(wd.pid).length === 0 ? true : undefined));
  const after = usage(wd.pid);
  assert.equal(after.fds, before.fds, `descriptors: ${before.fds} before, ${after.fds} after`);
  assert.ok(after.rssKiB <= before.rssKiB + 64, `resident memory: ${before.rssKiB} KiB before, ${after.rssKiB} KiB after`);
  t.diagnostic(`watchdog: ${after.fds} descriptors, ${after.rssKiB} KiB resident after 10,000 requests`);
});

test('mode http: a held /_/health answered as the upstream becomes ready makes no connection of its own: the upstream sees the listener\'s probe and then the request', async (t) => {
  const port = await freePort();
  // The upstream is this test's own server, listening only once the probe is held (a cold start's order).
  const wd = await startWatchdog(t, { fprocess: 'sleep 1000', mode: 'http', upstream_url: `http://127.0.0.1:${port}` });
  const held = request(wd.port, '/_/health?wait=10000');
  await new Promise((resolve) => setTimeout(resolve, 100));
  let connections = 0;
  const upstream = createServer((req, res) => res.end('up\n'));
  upstream.on('connection', () => connections++);
  upstream.listen(port, '127.0.0.1');
  t.after(() => {
    upstream.closeAllConnections();
    upstream.close();
  });
  assert.equal((await held).status, 200);
  const r = await request(wd.port, '/');
  assert.equal(r.status, 200);
  assert.equal(r.body, 'up\n');
  assert.equal(connections, 2, 'the watchdog\'s probe that found it ready, then the request: no third one for the held answer');
});
