/**
 * Requests no well-behaved client sends: each gets its status (400, 431,
 * 501, 505) and a closed connection, a slowloris is cut by read_timeout,
 * and a few thousand random ones crash nothing: the watchdog stays healthy
 * and no connection handler dies of a signal.
 */
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { test } from 'node:test';
import { raw, request, startWatchdog, type Watchdog } from './watchdog.ts';

const CASES: [string, string | Buffer, number][] = [
  ['a head over 64 KiB', `GET / HTTP/1.1\r\nX-Big: ${'a'.repeat(70_000)}\r\n\r\n`, 431],
  ['101 headers', `GET / HTTP/1.1\r\n${Array.from({ length: 101 }, (_, i) => `X-H${i}: v\r\n`).join('')}\r\n`, 431],
  ['a chunk size that is not hex', 'POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nabc\r\n0\r\n\r\n', 400],
  ['a chunk size past 15 hex digits', 'POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nffffffffffffffffff\r\nabc\r\n', 400],
  ['chunk data longer than its size', 'POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nabcdef\r\n0\r\n\r\n', 400],
  ['Content-Length with Transfer-Encoding (request smuggling)', 'POST / HTTP/1.1\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n', 400],
  ['two different Content-Lengths (request smuggling)', 'POST / HTTP/1.1\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\nabcd', 400],
  ['a Content-Length past 18 digits', 'POST / HTTP/1.1\r\nContent-Length: 99999999999999999999\r\n\r\n', 400],
  ['a negative Content-Length', 'POST / HTTP/1.1\r\nContent-Length: -1\r\n\r\n', 400],
  ['a transfer coding other than chunked', 'POST / HTTP/1.1\r\nTransfer-Encoding: gzip\r\n\r\n', 501],
  ['bare LF line ends', 'GET / HTTP/1.1\nHost: x\n\r\n\r\n', 400],
  ['a folded header line', 'GET / HTTP/1.1\r\nX-A: 1\r\n  continued\r\n\r\n', 400],
  ['a space before the colon', 'GET / HTTP/1.1\r\nX-A : 1\r\n\r\n', 400],
  ['a control character in a value', 'GET / HTTP/1.1\r\nX-A: a\x01b\r\n\r\n', 400],
  ['a NUL in the head', Buffer.from('GET / HTTP/1.1\r\nX-A: a\0b\r\n\r\n', 'latin1'), 400],
  ['an absolute target', 'GET http://h/ HTTP/1.1\r\n\r\n', 400],
  ['no version', 'GET /\r\n\r\n', 400],
  ['HTTP/2.0 in text', 'GET / HTTP/2.0\r\n\r\n', 505],
  ['a percent escape that is not one', 'GET /%zz HTTP/1.1\r\n\r\n', 400],
  ['an encoded NUL in the path', 'GET /a%00b HTTP/1.1\r\n\r\n', 400],
  ['an unknown Expect', 'POST / HTTP/1.1\r\nExpect: magic\r\nContent-Length: 1\r\n\r\nx', 417],
];

async function healthy(wd: Watchdog): Promise<void> {
  assert.equal(wd.proc.exitCode, null, 'the watchdog exited');
  assert.equal((await request(wd.port, '/_/health')).status, 200);
  // A sanitizer build of the watchdog (cc -fsanitize=address,undefined) reports here.
  assert.doesNotMatch(wd.log(), /killed by signal|AddressSanitizer|runtime error:/);
}

test('each malformed request gets its status and a closed connection; the server stays up', async (t) => {
  // serializing: the whole body is read before any answer, so a bad one is always a 400.
  const wd = await startWatchdog(t, { fprocess: 'cat', read_timeout: '2s', mode: 'serializing' });
  for (const [what, bytes, status] of CASES) {
    const r = await raw(wd.port, bytes);
    assert.ok(r.closed, `${what}: the connection stayed open`);
    assert.match(r.text, new RegExp(`^HTTP/1\\.1 ${status} `), `${what}: ${r.text.slice(0, 80)}`);
    assert.match(r.text, /\r\nConnection: close\r\n/, what);
  }
  await healthy(wd);
});

test('streaming: a body found bad after output was sent cuts the response before its last chunk', async (t) => {
  const wd = await startWatchdog(t, { fprocess: 'cat', read_timeout: '2s' });
  const r = await raw(wd.port, 'POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nab\r\n2\r\ncdXX\r\n0\r\n\r\n');
  assert.ok(r.closed);
  assert.match(r.text, /^HTTP\/1\.1 (200|400) /);
  assert.doesNotMatch(r.text, /\r\n0\r\n\r\n$/);
  await healthy(wd);
});

test('a slowloris (a header line every 50 ms, never the end) is cut at read_timeout with 408', async (t) => {
  const wd = await startWatchdog(t, { fprocess: 'cat', read_timeout: '500ms' });
  const got = await new Promise<{ text: string; lines: number }>((resolve, reject) => {
    const s = connect(wd.port, '127.0.0.1');
    let text = '';
    let lines = 0;
    s.write('GET / HTTP/1.1\r\nHost: x\r\n');
    const timer = setInterval(() => {
      if (lines++ > 200) { // 10 s: the server never cut it
        clearInterval(timer);
        s.destroy();
        reject(new Error('the slow client was never cut'));
      }
      if (!s.destroyed && s.writable) s.write(`X-Slow-${lines}: z\r\n`);
    }, 50);
    s.on('data', (d: Buffer) => (text += d.toString()));
    s.on('error', () => undefined);
    s.on('close', () => {
      clearInterval(timer);
      resolve({ text, lines });
    });
  });
  assert.match(got.text, /^HTTP\/1\.1 408 /);
  await healthy(wd);
});

test('an idle keep-alive connection is closed after read_timeout, without an answer', async (t) => {
  const wd = await startWatchdog(t, { fprocess: 'cat', read_timeout: '300ms' });
  const r = await raw(wd.port, '', 5000);
  assert.ok(r.closed);
  assert.equal(r.text, '');
});

/** A small deterministic generator, so a failure can be replayed. */
function rng(seed: number): () => number {
  let x = seed;
  return () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) / 2 ** 32;
  };
}

test('2,000 random and mutated requests crash nothing', async (t) => {
  const wd = await startWatchdog(t, { fprocess: 'cat', read_timeout: '300ms', exec_timeout: '2s' });
  const rand = rng(1337);
  const seeds = [
    'GET /?a=b HTTP/1.1\r\nHost: x\r\nX-Call-Id: 1\r\n\r\n',
    'POST /p HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n',
    'POST /p HTTP/1.1\r\nContent-Length: 5\r\n\r\nhello',
    'GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n',
  ];
  const alphabet = '\r\n :;%0aZ\t\x00\xff-/?chunked';
  let answered = 0;
  const batch = 50;
  for (let i = 0; i < 2000; i += batch) {
    const sends = Array.from({ length: batch }, () => {
      const base = Buffer.from(seeds[Math.floor(rand() * seeds.length)]!, 'latin1');
      const out = Buffer.from(base);
      for (let k = Math.floor(rand() * 6); k > 0; k--) {
        const at = Math.floor(rand() * out.length);
        out[at] = rand() < 0.5 ? Math.floor(rand() * 256) : alphabet.charCodeAt(Math.floor(rand() * alphabet.length));
      }
      // Ends with a blank line, so most are decided at once rather than at read_timeout.
      return raw(wd.port, Buffer.concat([out, Buffer.from('\r\n\r\n')]), 5000);
    });
    for (const r of await Promise.all(sends)) if (/^HTTP\/1\.[01] \d{3} /.test(r.text)) answered++;
  }
  assert.ok(answered > 1000, `only ${answered} of 2000 got an HTTP answer`);
  await healthy(wd);
});
