/** The CLI's client: error answers back to BerthErrors, a socket nothing answers on, bytes that come with a hijack's head. */
import assert from 'node:assert/strict';
import { createServer, type Socket } from 'node:net';
import { join } from 'node:path';
import { test } from 'node:test';
import { ApiClient, errorFromAnswer } from '../../../src/api/client.ts';
import { ErrorKind, isBerthError } from '../../../src/errors.ts';
import { onCleanup, tempDir } from '../../helpers/cleanup.ts';

test('an error answer is a BerthError with the daemon\'s message and a kind from the status', () => {
  const cases: [number, string, ErrorKind][] = [
    [400, 'daemon_invalid_argument', ErrorKind.InvalidArgument],
    [401, 'daemon_permission_denied', ErrorKind.PermissionDenied],
    [403, 'daemon_permission_denied', ErrorKind.PermissionDenied],
    [404, 'daemon_not_found', ErrorKind.NotFound],
    [409, 'daemon_conflict', ErrorKind.FailedPrecondition],
    [500, 'daemon_error', ErrorKind.Internal],
    [501, 'daemon_unsupported', ErrorKind.Unsupported],
    [503, 'daemon_unavailable', ErrorKind.Unavailable],
  ];
  for (const [status, code, kind] of cases) {
    const err = errorFromAnswer(status, Buffer.from('{"message":"container \\"web\\": not found"}\n'), 'GET /x');
    assert.equal(err.code, code);
    assert.equal(err.kind, kind);
    assert.equal(err.message, 'container "web": not found');
  }
  assert.equal(errorFromAnswer(502, 'bad gateway', 'GET /x').message, 'bad gateway', 'a body that is not JSON is the message');
  assert.equal(errorFromAnswer(500, '', 'GET /x').message, 'GET /x: HTTP 500');
});

test('a socket nothing answers on is daemon_unreachable, naming the socket; ping says false', async (t) => {
  const dir = tempDir(t);
  const client = new ApiClient(join(dir, 'none.sock'));
  assert.equal(await client.ping(), false);
  await assert.rejects(client.json('GET', '/info'), (err) => isBerthError(err, 'daemon_unreachable') && err.message.includes(join(dir, 'none.sock')));
});

test('hijack: stream bytes that come in the same read as the 101 head are the stream\'s first', async (t) => {
  const dir = tempDir(t);
  const path = join(dir, 'raw.sock');
  const server = createServer((sock) => {
    sock.once('data', () => {
      sock.end('HTTP/1.1 101 UPGRADED\r\nContent-Type: application/vnd.docker.raw-stream\r\nConnection: Upgrade\r\nUpgrade: tcp\r\n\r\nfirst bytes');
    });
  });
  await new Promise<void>((resolve) => server.listen(path, resolve));
  onCleanup(t, () => new Promise<void>((resolve) => server.close(() => resolve())));
  const h = await new ApiClient(path).hijack('POST', '/containers/web/attach');
  let got = '';
  h.socket.on('data', (c: Buffer) => (got += c.toString()));
  await new Promise((resolve) => h.socket.once('end', resolve));
  assert.equal(got, 'first bytes');
  assert.equal(h.contentType, 'application/vnd.docker.raw-stream');
});

test('a daemon that does not answer in time is daemon_timeout', async (t) => {
  const dir = tempDir(t);
  const path = join(dir, 'mute.sock');
  const conns: Socket[] = [];
  const server = createServer((sock) => void conns.push(sock));
  await new Promise<void>((resolve) => server.listen(path, resolve));
  onCleanup(t, () => {
    for (const c of conns) c.destroy();
    return new Promise<void>((resolve) => server.close(() => resolve()));
  });
  await assert.rejects(new ApiClient(path).json('GET', '/info', { timeoutMs: 50 }), (err) => isBerthError(err, 'daemon_timeout'));
});
