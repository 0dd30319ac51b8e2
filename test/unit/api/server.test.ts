/**
 * berthd's HTTP server against real connections on a temporary socket:
 * errors as dockerd answers them, JSON bodies under the cap, streams with
 * backpressure that stop when the client goes, hijacked connections with
 * and without an upgrade, byte for byte.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { API_VERSION } from '../../../src/api/router.ts';
import { bytes, hijack, json, MULTIPLEXED_STREAM, RAW_STREAM, stream } from '../../../src/api/reply.ts';
import { encodeFrame, FrameDecoder, StreamType } from '../../../src/engine/monitor/frames.ts';
import { alreadyExists, failedPrecondition, invalidArgument, isBerthError, notFound, unavailable } from '../../../src/errors.ts';
import { rawConnection, startApiServer, until } from '../../helpers/api.ts';

test('a thrown BerthError is {"message"} with the status of its kind; anything else is a 500', async (t) => {
  const { client } = await startApiServer(t, (s) => {
    s.router.get('/nf', () => {
      throw notFound('container_not_found', 'container "web": not found');
    });
    s.router.get('/bad', () => {
      throw invalidArgument('invalid_id', 'id "!": not valid');
    });
    s.router.get('/exists', () => {
      throw alreadyExists('container_name_in_use', 'name "web" is in use');
    });
    s.router.get('/busy', () => {
      throw failedPrecondition('container_state_conflict', 'container "web" is running');
    });
    s.router.get('/down', () => {
      throw unavailable('database_busy', 'busy');
    });
    s.router.get('/bug', () => {
      // assertion: a bug's error, to see it answered as a 500
      throw new Error('a bug');
    });
  });
  const cases: [string, number, string][] = [
    ['/nf', 404, 'container "web": not found'],
    ['/bad', 400, 'id "!": not valid'],
    ['/exists', 409, 'name "web" is in use'],
    ['/busy', 409, 'container "web" is running'],
    ['/down', 503, 'busy'],
    ['/bug', 500, 'a bug'],
  ];
  for (const [path, status, message] of cases) {
    const a = await client.request('GET', `/v1.43${path}`);
    assert.equal(a.status, status, path);
    assert.equal(a.headers['content-type'], 'application/json');
    assert.deepEqual(JSON.parse(a.body.toString()), { message }, path);
  }
});

test('an unknown route is a 404 naming the method and the path; dockerd\'s headers are on every answer', async (t) => {
  const { client } = await startApiServer(t, (s) => s.router.get('/x', () => json({})), { serverName: 'berth/9.9 (linux)' });
  const a = await client.request('DELETE', '/v1.43/nowhere?force=1');
  assert.equal(a.status, 404);
  assert.deepEqual(JSON.parse(a.body.toString()), { message: 'page not found: DELETE /v1.43/nowhere' });
  assert.equal(a.headers['api-version'], API_VERSION);
  assert.equal(a.headers['server'], 'berth/9.9 (linux)');
  assert.equal(a.headers['ostype'], 'linux');
  const old = await client.request('GET', '/v1.12/x');
  assert.equal(old.status, 400);
  assert.match((JSON.parse(old.body.toString()) as { message: string }).message, /client version 1.12 is too old/);
});

test('route parameters and the query reach the handler', async (t) => {
  const { client } = await startApiServer(t, (s) =>
    s.router.post('/containers/{id}/stop', (req) => json({ id: req.params['id'], t: req.query.int('t'), version: req.version, route: req.route })),
  );
  assert.deepEqual(await client.json('POST', '/v1.40/containers/web/stop', { query: { t: 3 } }), { id: 'web', t: 3, version: '1.40', route: '/containers/{id}/stop' });
  await assert.rejects(client.json('POST', '/containers/web/stop', { query: { t: 'x' } }), (err) => isBerthError(err, 'daemon_invalid_argument') && err.message.includes('"t"'));
});

test('JSON bodies: parsed as unknown, empty is undefined, bad JSON, a wrong type and a body over the cap are refused', async (t) => {
  const { client, socket } = await startApiServer(t, (s) => s.router.post('/echo', async (req) => json({ got: (await req.json()) ?? 'nothing' })), { maxBodyBytes: 64 });
  assert.deepEqual(await client.json('POST', '/echo', { body: { a: [1, 'b'] } }), { got: { a: [1, 'b'] } });
  assert.deepEqual(await client.json('POST', '/echo'), { got: 'nothing' });
  const send = async (body: string, type = 'application/json'): Promise<{ status: number; message: string }> => {
    const c = rawConnection(socket, `POST /echo HTTP/1.1\r\nHost: x\r\nContent-Type: ${type}\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`);
    await c.ended;
    const text = c.received().toString();
    return { status: Number(text.slice(9, 12)), message: (JSON.parse(text.slice(text.indexOf('\r\n\r\n') + 4)) as { message: string }).message };
  };
  const notJson = await send('{"a":');
  assert.equal(notJson.status, 400);
  assert.match(notJson.message, /request body: not JSON/);
  const wrongType = await send('{}', 'text/plain');
  assert.equal(wrongType.status, 400);
  assert.match(wrongType.message, /Content-Type "text\/plain" is not application\/json/);
  const tooLarge = await send(JSON.stringify({ pad: 'x'.repeat(100) }));
  assert.equal(tooLarge.status, 413);
  assert.match(tooLarge.message, /larger than 64 bytes/);
  // A chunked body (no Content-Length) over the cap is cut off while it is read.
  const chunked = rawConnection(socket, `POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n${(80).toString(16)}\r\n${'{'.padEnd(80, ' ')}\r\n`);
  await until('a 413 for a chunked body over the cap', () => chunked.received().toString().startsWith('HTTP/1.1 413'));
  chunked.sock.destroy();
});

test('a stream is written as the client reads it (backpressure), then in full', async (t) => {
  const CHUNK = 64 * 1024;
  const COUNT = 256; // 16 MiB: far more than the socket's buffers hold
  let produced = 0;
  let finished = false;
  const { socket } = await startApiServer(t, (s) =>
    s.router.get('/big', () =>
      stream(
        (async function* () {
          for (let i = 0; i < COUNT; i++) {
            produced++;
            yield await Promise.resolve(Buffer.alloc(CHUNK, i % 251));
          }
          finished = true;
        })(),
        'application/octet-stream',
      ),
    ),
  );
  const c = rawConnection(socket, 'GET /big HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
  await until('the head', () => c.received().includes('\r\n\r\n'));
  c.sock.pause();
  // Stable for a while: the source is held back by the client that does not read.
  let last = -1;
  let stableFor = 0;
  await until('the source to stop producing', () => {
    stableFor = produced === last ? stableFor + 1 : 0;
    last = produced;
    return stableFor >= 40;
  });
  assert.ok(produced < COUNT, `the source ran ahead of the client: ${produced} of ${COUNT} chunks produced while nothing was read`);
  c.sock.resume();
  await c.ended;
  assert.ok(finished);
  const text = c.received();
  const body = text.subarray(text.indexOf('\r\n\r\n') + 4);
  // Chunked encoding adds its lines; the payload is all there.
  assert.ok(body.length >= CHUNK * COUNT, `${body.length} bytes`);
});

test('a stream stops when its client goes away: the source sees the abort and its cleanup runs', async (t) => {
  let cleaned = false;
  let abortedSeen = false;
  const { client } = await startApiServer(t, (s) =>
    s.router.get('/events', (req) =>
      stream(
        (async function* () {
          try {
            for (let i = 0; ; i++) {
              yield `${JSON.stringify({ i })}\n`;
              // Waits for "the next event" as a follow would, ending on the abort.
              await new Promise<void>((resolve) => {
                const timer = setTimeout(resolve, 10);
                req.signal.addEventListener('abort', () => {
                  clearTimeout(timer);
                  abortedSeen = true;
                  resolve();
                }, { once: true });
              });
              if (req.signal.aborted) return;
            }
          } finally {
            cleaned = true;
          }
        })(),
      ),
    ),
  );
  const got: string[] = [];
  for await (const chunk of client.stream('GET', '/events')) {
    got.push(chunk.toString());
    if (got.length === 3) break; // leaving the loop closes the connection
  }
  await until('the source\'s cleanup', () => cleaned);
  assert.ok(abortedSeen);
  assert.equal(got[0], '{"i":0}\n');
});

test('close() ends open streams, lets the answer in flight finish, and removes the socket file', async (t) => {
  let streamCleaned = false;
  let release: () => void = () => {};
  const slowStarted = Promise.withResolvers<void>();
  const { server, client, socket } = await startApiServer(t, (s) => {
    s.router.get('/follow', (req) =>
      stream(
        (async function* () {
          try {
            yield 'first\n';
            await new Promise<void>((resolve) => req.signal.addEventListener('abort', () => resolve(), { once: true }));
          } finally {
            streamCleaned = true;
          }
        })(),
      ),
    );
    s.router.get('/slow', async () => {
      slowStarted.resolve();
      await new Promise<void>((resolve) => (release = resolve));
      return json({ done: true });
    });
  });
  const follow = client.stream('GET', '/follow');
  const first = await follow.next();
  if (first.done === true) assert.fail('the stream ended before its first chunk');
  assert.equal(first.value.toString(), 'first\n');
  const slow = client.json('GET', '/slow');
  await slowStarted.promise;
  const closing = server.close(10_000);
  release();
  assert.deepEqual(await slow, { done: true });
  await closing;
  assert.ok(streamCleaned);
  const { existsSync } = await import('node:fs');
  assert.equal(existsSync(socket), false);
});

test('hijack with an upgrade: 101 UPGRADED head as dockerd writes it, the body read off first, bytes sent with the head kept', async (t) => {
  const { socket } = await startApiServer(t, (s) =>
    s.router.post(
      '/exec/{id}/start',
      async (req) => {
        const opts = await req.json();
        return hijack(MULTIPLEXED_STREAM, async (conn) => {
          conn.write(encodeFrame(StreamType.stderr, JSON.stringify(opts)));
          for await (const chunk of conn as AsyncIterable<Buffer>) conn.write(encodeFrame(StreamType.stdout, chunk.toString().toUpperCase()));
        });
      },
      { hijack: true },
    ),
  );
  const body = '{"Detach":false,"Tty":false}';
  // The request, its body and the first input in one write, as a fast client sends them.
  const c = rawConnection(
    socket,
    `POST /v1.43/exec/e1/start HTTP/1.1\r\nHost: api\r\nConnection: Upgrade\r\nUpgrade: tcp\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n${body}early`,
  );
  await until('the echo of the early input', () => c.received().includes('EARLY'));
  const text = c.received();
  const headEnd = text.indexOf('\r\n\r\n') + 4;
  const head = text.subarray(0, headEnd).toString();
  assert.ok(head.startsWith(`HTTP/1.1 101 UPGRADED\r\nContent-Type: ${MULTIPLEXED_STREAM}\r\nConnection: Upgrade\r\nUpgrade: tcp\r\n`), head);
  assert.match(head, new RegExp(`\\r\\nApi-Version: ${API_VERSION.replace(".", "\\.")}\\r\\n`));
  c.sock.write('later');
  await until('the echo of later input', () => c.received().includes('LATER'));
  c.sock.end(); // the client's input ends (docker's CloseWrite): the handler returns and the server ends the stream
  await c.ended;
  const frames = new FrameDecoder().push(c.received().subarray(headEnd));
  assert.deepEqual(frames[0], { stream: StreamType.stderr, payload: Buffer.from(body) });
  assert.equal(frames.filter((f) => f.stream === StreamType.stdout).map((f) => f.payload.toString()).join(''), 'EARLYLATER');
});

test('hijack without an upgrade asked: 200 OK with the stream\'s type, then raw bytes', async (t) => {
  const { socket } = await startApiServer(t, (s) =>
    s.router.post(
      '/containers/{id}/attach',
      () =>
        hijack(RAW_STREAM, async (conn) => {
          conn.write('raw terminal bytes');
          await Promise.resolve();
        }),
      { hijack: true },
    ),
  );
  const c = rawConnection(socket, 'POST /containers/web/attach?stream=1&stdout=1 HTTP/1.1\r\nHost: api\r\nContent-Length: 0\r\n\r\n');
  await c.ended;
  const text = c.received().toString();
  assert.ok(text.startsWith(`HTTP/1.1 200 OK\r\nContent-Type: ${RAW_STREAM}\r\n`), text);
  assert.ok(text.endsWith('\r\n\r\nraw terminal bytes'), text);
  assert.doesNotMatch(text, /Transfer-Encoding|Content-Length/);
});

test('the client\'s hijack: a round trip through the server, and a refusal before the hijack as a BerthError', async (t) => {
  const { client } = await startApiServer(t, (s) =>
    s.router.post(
      '/containers/{id}/attach',
      (req) => {
        if (req.params['id'] !== 'web') throw notFound('container_not_found', `container "${req.params['id']}": not found`);
        return hijack(MULTIPLEXED_STREAM, async (conn) => {
          for await (const chunk of conn as AsyncIterable<Buffer>) conn.write(encodeFrame(StreamType.stdout, chunk));
        });
      },
      { hijack: true },
    ),
  );
  const h = await client.hijack('POST', '/v1.43/containers/web/attach', { query: { stream: true, stdin: true, stdout: true } });
  assert.equal(h.status, 101);
  assert.equal(h.contentType, MULTIPLEXED_STREAM);
  const decoder = new FrameDecoder();
  let out = '';
  h.socket.on('data', (c: Buffer) => (out += decoder.push(c).map((f) => f.payload.toString()).join('')));
  const ended = new Promise((resolve) => h.socket.once('end', resolve));
  h.socket.write('hello ');
  h.socket.end('berth');
  await ended;
  assert.equal(out, 'hello berth');
  await assert.rejects(client.hijack('POST', '/containers/db/attach'), (err) => isBerthError(err, 'daemon_not_found') && err.message === 'container "db": not found');
});

test('bytes and empty replies', async (t) => {
  const { client } = await startApiServer(t, (s) => {
    s.router.get('/text', () => bytes('OK', 'text/plain; charset=utf-8'));
    s.router.post('/nothing', () => ({ type: 'empty', status: 204 }));
  });
  const a = await client.request('GET', '/text');
  assert.equal(a.body.toString(), 'OK');
  assert.equal(a.headers['content-type'], 'text/plain; charset=utf-8');
  const b = await client.request('POST', '/nothing');
  assert.equal(b.status, 204);
  assert.equal(b.body.length, 0);
});

test('close() cuts a hijacked connection whose handler would wait for ever, without waiting out the grace period', async (t) => {
  const attached = Promise.withResolvers<void>();
  const { server, client } = await startApiServer(t, (s) =>
    s.router.post(
      '/containers/{id}/attach',
      () =>
        hijack(RAW_STREAM, async (conn) => {
          attached.resolve();
          // Reads the client's input until it ends: a client that never ends it holds the handler.
          for await (const _ of conn as AsyncIterable<Buffer>);
        }),
      { hijack: true },
    ),
  );
  const h = await client.hijack('POST', '/containers/web/attach');
  await attached.promise;
  const closedByServer = new Promise((resolve) => h.socket.once('close', resolve));
  // A grace far longer than the test's timeout: close() returning at all shows it did not wait.
  await server.close(3_600_000);
  await closedByServer;
});
