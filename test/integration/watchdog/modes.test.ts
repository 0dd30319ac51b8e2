/**
 * berth-watchdog's four modes, run on the host and observed on the wire:
 * streaming (a process per request, its stdout streamed back as it comes),
 * serializing (whole body in, whole output out, 500 when it fails), http
 * (one long-lived process reached at upstream_url, health only once it
 * answers) and static (files beneath static_path, nothing outside it).
 */
import assert from 'node:assert/strict';
import { mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { createServer as createHttpServer, type IncomingHttpHeaders } from 'node:http';
import { connect, createServer } from 'node:net';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { tempDir } from '../../helpers/cleanup.ts';
import { freePort, request, script, startWatchdog, until } from './watchdog.ts';

describe('mode streaming', () => {
  test('the body goes to fprocess\'s stdin and its stdout comes back, chunked', async (t) => {
    const wd = await startWatchdog(t, { fprocess: 'cat' });
    const r = await request(wd.port, '/echo', { body: 'hello, function' });
    assert.equal(r.status, 200);
    assert.equal(r.body, 'hello, function');
    assert.equal(r.headers['transfer-encoding'], 'chunked');
    await until('the request in the log', () => (/POST \/echo 200 [\d.]+ms/.test(wd.log()) ? true : undefined));
  });

  test('output is streamed before the process ends: the first line arrives while it still waits for its input', async (t) => {
    // The function prints a line, then waits for a second line of input before printing the end.
    const fn = script(t, 'echo first\nread a\nread b\necho "got $b"\n');
    const wd = await startWatchdog(t, { fprocess: fn.fprocess });
    const got = await new Promise<string>((resolve, reject) => {
      const req = httpRequest({ host: '127.0.0.1', port: wd.port, path: '/', method: 'POST', agent: false }, (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (d: string) => {
          text += d;
          // Only once the first line came back is the second line of input sent.
          if (text === 'first\n') req.end('two\n');
        });
        res.on('end', () => resolve(text));
      });
      req.on('error', reject);
      req.write('one\n');
    });
    assert.equal(got, 'first\ngot two\n');
  });

  test('a non-zero exit before any output is a 500 naming the status', async (t) => {
    const fn = script(t, 'exit 3\n');
    const wd = await startWatchdog(t, { fprocess: fn.fprocess });
    const r = await request(wd.port, '/');
    assert.equal(r.status, 500);
    assert.equal(r.body, 'exit status 3\n');
  });

  test('a command that does not exist: 500, and the exec error in the log', async (t) => {
    const wd = await startWatchdog(t, { fprocess: 'no-such-command-here' });
    const r = await request(wd.port, '/');
    assert.equal(r.status, 500);
    assert.equal(r.body, 'exit status 127\n');
    await until('the exec error in the log', () => (/stderr: exec no-such-command-here: No such file or directory/.test(wd.log()) ? true : undefined));
  });

  test('a 4 MiB body in and out intact', async (t) => {
    const wd = await startWatchdog(t, { fprocess: 'cat' });
    const big = Buffer.alloc(4 << 20, 'abcdefghijklmnopqrstuvwxyz0123456789\n').toString();
    const r = await request(wd.port, '/', { body: big });
    assert.equal(r.status, 200);
    assert.equal(r.body.length, big.length);
    assert.ok(r.body === big);
  });
});

describe('mode serializing', () => {
  test('the whole output with its length and X-Duration-Seconds', async (t) => {
    const wd = await startWatchdog(t, { fprocess: 'wc -c', mode: 'serializing' });
    const r = await request(wd.port, '/', { body: ['12345', '67890'] });
    assert.equal(r.status, 200);
    assert.equal(r.body.trim(), '10');
    assert.equal(r.headers['content-length'], String(r.body.length));
    assert.match(String(r.headers['x-duration-seconds']), /^\d+\.\d+$/);
  });

  test('a failing process: 500 and none of its output', async (t) => {
    const fn = script(t, 'echo partial\nexit 1\n');
    const wd = await startWatchdog(t, { fprocess: fn.fprocess, mode: 'serializing' });
    const r = await request(wd.port, '/');
    assert.equal(r.status, 500);
    assert.equal(r.body, 'exit status 1\n');
  });
});

describe('mode http', () => {
  test('requests are proxied to the long-lived process; health is 503 until it answers', async (t) => {
    const dir = tempDir(t, 'berth-wd-www-');
    writeFileSync(join(dir, 'index.html'), 'from upstream\n');
    mkdirSync(join(dir, 'cgi-bin'));
    writeFileSync(join(dir, 'cgi-bin', 'echo'), '#!/bin/sh\nprintf "Content-Type: text/plain\\r\\n\\r\\n"\necho "$REQUEST_METHOD $QUERY_STRING"\ncat\n', { mode: 0o755 });
    const port = await freePort();
    // The server starts only once the file "go" exists: the watchdog must wait for it.
    const fn = script(t, `while [ ! -e ${dir}/go ]; do sleep 0.01; done\nexec busybox httpd -f -p 127.0.0.1:${port} -h ${dir}\n`);
    const wd = await startWatchdog(t, { fprocess: fn.fprocess, mode: 'http', upstream_url: `http://127.0.0.1:${port}` });
    assert.equal((await request(wd.port, '/_/health')).status, 503);
    assert.equal((await request(wd.port, '/_/ready')).status, 503);
    writeFileSync(join(dir, 'go'), '');
    await until('health 200', async () => ((await request(wd.port, '/_/health')).status === 200 ? true : undefined));
    const page = await request(wd.port, '/index.html');
    assert.equal(page.status, 200);
    assert.equal(page.body, 'from upstream\n');
    // With its length: busybox httpd takes no chunked body (the watchdog passes a chunked one on as it came).
    const cgi = await request(wd.port, '/cgi-bin/echo?x=1', { body: 'posted', headers: { 'Content-Length': '6' } });
    assert.equal(cgi.status, 200);
    assert.equal(cgi.body, 'POST x=1\nposted');
    assert.equal((await request(wd.port, '/nothing-here')).status, 404);
  });

  test('the process\'s output is logged with of-watchdog\'s prefixes, and its exit ends the watchdog, after its last words', async (t) => {
    const port = await freePort();
    const fn = script(t, 'echo to-stdout\necho to-stderr >&2\nexit 4\n');
    // Its exit can be seen before its output is read (both come between two of the watchdog's polls): tried many times.
    for (let i = 0; i < 20; i++) {
      const wd = await startWatchdog(t, { fprocess: fn.fprocess, mode: 'http', upstream_url: `http://127.0.0.1:${port}` });
      assert.equal(await wd.exited, 1);
      assert.match(wd.log(), /^\d{4}\/\d\d\/\d\d \d\d:\d\d:\d\d stdout: to-stdout$/m, `run ${i}`);
      assert.match(wd.log(), /^\d{4}\/\d\d\/\d\d \d\d:\d\d:\d\d stderr: to-stderr$/m, `run ${i}`);
      assert.match(wd.log(), /stdout: to-stdout\n(.*\n)*.*fprocess exited: status 4/, `run ${i}: the exit logged after the output`);
    }
  });

  test('an upstream that never listens: 502 after write_timeout; one that never answers: 504 after exec_timeout', async (t) => {
    const never = await startWatchdog(t, { fprocess: 'sleep 60', mode: 'http', upstream_url: `http://127.0.0.1:${await freePort()}`, write_timeout: '300ms' });
    const r = await request(never.port, '/');
    assert.equal(r.status, 502);
    assert.equal(r.body, 'upstream not reachable\n');
    // A server that takes the connection and the request and says nothing (reading, so it sees the close).
    const silent = createServer((socket) => socket.resume());
    await new Promise<void>((res) => silent.listen(0, '127.0.0.1', res));
    t.after(() => new Promise((res) => silent.close(res)));
    const port = (silent.address() as { port: number }).port;
    const slow = await startWatchdog(t, { fprocess: 'sleep 60', mode: 'http', upstream_url: `http://127.0.0.1:${port}`, exec_timeout: '300ms' });
    const s = await request(slow.port, '/', { body: 'x' });
    assert.equal(s.status, 504);
    assert.equal(s.body, 'exec_timeout exceeded: no answer from the upstream\n');
  });

  test('an upstream_url with a name other than localhost is refused at start, naming the variable', async (t) => {
    await assert.rejects(startWatchdog(t, { fprocess: 'true', mode: 'http', upstream_url: 'http://example.invalid:80' }),
      /upstream_url="http:\/\/example.invalid:80": the host must be an IPv4 address or localhost/);
  });
});

describe('mode static', () => {
  test('files and index.html beneath static_path; nothing through .. or a symbolic link out', async (t) => {
    const dir = tempDir(t, 'berth-wd-static-');
    writeFileSync(join(dir, 'index.html'), '<p>home</p>');
    mkdirSync(join(dir, 'css'));
    writeFileSync(join(dir, 'css', 'site.css'), 'p{}');
    symlinkSync('/etc/passwd', join(dir, 'passwd'));
    const wd = await startWatchdog(t, { mode: 'static', static_path: dir });
    const home = await request(wd.port, '/');
    assert.equal(home.status, 200);
    assert.equal(home.body, '<p>home</p>');
    assert.equal(home.headers['content-type'], 'text/html; charset=utf-8');
    const css = await request(wd.port, '/css/site.css');
    assert.equal(css.body, 'p{}');
    assert.equal(css.headers['content-type'], 'text/css; charset=utf-8');
    assert.equal((await request(wd.port, '/passwd')).status, 404);
    assert.equal((await request(wd.port, '/css/../../../etc/passwd')).status, 404);
    assert.equal((await request(wd.port, '/%2e%2e/etc/passwd')).status, 404);
    assert.equal((await request(wd.port, '/', { method: 'DELETE' })).status, 405);
    const head = await request(wd.port, '/css/site.css', { method: 'HEAD' });
    assert.equal(head.headers['content-length'], '3');
    assert.equal(head.body, '');
  });
});

test('bad configuration is refused with the variable named and exit status 2', async (t) => {
  for (const [env, message] of [
    [{ mode: 'afterburn', fprocess: 'cat' }, /mode="afterburn": not one of streaming, serializing, http, static/],
    [{ exec_timeout: '10 parsecs', fprocess: 'cat' }, /exec_timeout="10 parsecs": not a duration/],
    [{ max_inflight: '-1', fprocess: 'cat' }, /max_inflight="-1": not a number/],
    [{}, /fprocess="": the function's command is required/],
  ] as const) {
    await assert.rejects(startWatchdog(t, env), message);
    await assert.rejects(startWatchdog(t, env), /the watchdog exited 2:/);
  }
});

describe('X-Berth-Usage (what the gateway meters a call by)', () => {
  const USAGE = /^cpu_us=(\d+) maxrss_kb=(\d+) exit=(\d+)$/;
  const get = (port: number, body: string): Promise<{ status: number; headers: IncomingHttpHeaders; trailers: NodeJS.Dict<string> }> =>
    new Promise((resolve, reject) => {
      const req = httpRequest({ host: '127.0.0.1', port, method: 'POST', path: '/', agent: false }, (res) => {
        res.resume();
        res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, trailers: res.trailers }));
      });
      req.on('error', reject);
      req.end(body);
    });

  test("the process's CPU time and peak memory: a header when buffered, a trailer (announced) when streamed, with its exit status", async (t) => {
    const burn = script(t, 'i=0; while [ $i -lt 50000 ]; do i=$((i+1)); done; echo done; exit "$(cat)"\n');
    const ser = await startWatchdog(t, { fprocess: burn.fprocess, mode: 'serializing' });
    const a = await get(ser.port, '0');
    assert.equal(a.status, 200);
    const m = USAGE.exec(String(a.headers['x-berth-usage']));
    assert.ok(m !== null, String(a.headers['x-berth-usage']));
    assert.ok(Number(m[1]) > 0, 'CPU time measured');
    assert.ok(Number(m[2]) > 0, 'peak memory measured');
    const failed = await get(ser.port, '3');
    assert.equal(failed.status, 500);
    assert.match(String(failed.headers['x-berth-usage']), / exit=3$/);
    const str = await startWatchdog(t, { fprocess: burn.fprocess });
    const b = await get(str.port, '0');
    assert.equal(b.status, 200);
    assert.equal(b.headers['trailer'], 'X-Berth-Usage');
    assert.equal(b.headers['x-berth-usage'], undefined);
    assert.match(b.trailers['x-berth-usage'] ?? '', USAGE);
  });

  test('mode http: an upstream that answers before it reads the body (an early 413) and closes is answered through, not turned into a 502', async (t) => {
    const early = createServer((s) => {
      s.on('error', () => undefined);
      // The head is enough for it: it answers, then closes with the body unread (the kernel resets the connection).
      s.once('data', () => s.write('HTTP/1.1 413 Payload Too Large\r\nContent-Length: 10\r\n\r\ntoo large\n', () => s.destroy()));
    });
    await new Promise<void>((res) => early.listen(0, '127.0.0.1', res));
    t.after(() => new Promise((res) => early.close(res)));
    const port = (early.address() as { port: number }).port;
    const wd = await startWatchdog(t, { fprocess: 'sleep 60', mode: 'http', upstream_url: `http://127.0.0.1:${port}` });
    await until('health 200', async () => ((await request(wd.port, '/_/health')).status === 200 ? true : undefined));
    // More than the kernel buffers between the watchdog and the upstream, so its sending fails once the upstream is gone.
    const size = 32 * 1024 * 1024;
    const text = await new Promise<string>((resolve) => {
      const chunks: Buffer[] = [];
      const s = connect(wd.port, '127.0.0.1');
      s.on('data', (c: Buffer) => chunks.push(c));
      // The watchdog stops reading the body it cannot pass on, answers and closes: writing the rest fails here.
      s.on('error', () => undefined);
      s.on('close', () => resolve(Buffer.concat(chunks).toString('latin1')));
      s.write(`POST /upload HTTP/1.1\r\nHost: x\r\nContent-Length: ${size}\r\n\r\n`);
      s.end(Buffer.alloc(size, 'b'));
    });
    assert.match(text, /^HTTP\/1\.1 413 /, text.slice(0, 200));
    assert.match(text, /\r\n\r\ntoo large\n$/);
    assert.match(text, /^Connection: close\r$/im, 'the rest of the body was not read: the connection closes');
  });

  test("mode http passes no upstream's X-Berth-Usage on (a function cannot set what it is billed)", async (t) => {
    const forger = createHttpServer((req, res) => {
      req.resume();
      res.writeHead(200, { 'X-Berth-Usage': 'cpu_us=0 maxrss_kb=0 exit=0', 'Content-Type': 'text/plain' });
      res.end('forged\n');
    });
    await new Promise<void>((res) => forger.listen(0, '127.0.0.1', res));
    t.after(() => new Promise((res) => forger.close(res)));
    const port = (forger.address() as { port: number }).port;
    const wd = await startWatchdog(t, { fprocess: 'sleep 60', mode: 'http', upstream_url: `http://127.0.0.1:${port}` });
    await until('health 200', async () => ((await request(wd.port, '/_/health')).status === 200 ? true : undefined));
    const r = await request(wd.port, '/', { body: 'x' });
    assert.equal(r.status, 200);
    assert.equal(r.body, 'forged\n');
    assert.equal(r.headers['x-berth-usage'], undefined);
  });
});
