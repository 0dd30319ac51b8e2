/**
 * The gateway's replica agent (src/faas/agent.ts): a connection the
 * readiness probe made carries the next request to that address, counted
 * on a loopback server; one the server spoke on or closed first, or one
 * left too long, does not, and the request gets a connection of its own.
 */
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { createServer, type Server, type Socket } from 'node:net';
import { once } from 'node:events';
import { test, type TestContext } from 'node:test';
import { delay } from '../../../src/delay.ts';
import { ReplicaAgent } from '../../../src/faas/agent.ts';
import { canConnect } from '../../../src/faas/replicas.ts';

/** A server answering each request with its connection's number; `greet`: it writes first on each new connection. */
async function server(t: TestContext, greet = false): Promise<{ port: number; connections: () => number }> {
  let n = 0;
  const sockets = new Set<Socket>();
  const srv: Server = createServer((sock) => {
    const mine = ++n;
    sockets.add(sock);
    sock.once('close', () => sockets.delete(sock));
    if (greet) sock.write('HTTP/1.1 408 Request Timeout\r\nContent-Length: 0\r\n\r\n');
    let buf = '';
    sock.on('data', (b: Buffer) => {
      buf += b.toString();
      if (!buf.includes('\r\n\r\n')) return;
      buf = '';
      const body = String(mine);
      sock.write(`HTTP/1.1 200 OK\r\nContent-Length: ${body.length}\r\n\r\n${body}`);
    });
  });
  srv.listen(0, '127.0.0.1');
  await once(srv, 'listening');
  t.after(() => {
    for (const s of sockets) s.destroy();
    srv.close();
  });
  const address = srv.address();
  assert.ok(address !== null && typeof address === 'object');
  return { port: address.port, connections: () => n };
}

function get(agent: ReplicaAgent, port: number): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path: '/', agent }, (res) => {
      let body = '';
      res.setEncoding('utf8').on('data', (d: string) => (body += d));
      res.once('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.once('error', reject);
    req.end();
  });
}

test("the probe's connection carries the first request: the server sees one connection", async (t) => {
  const s = await server(t);
  const agent = new ReplicaAgent({ keepAlive: true });
  t.after(() => agent.destroy());
  const noDelay: boolean[] = [];
  const kept = await canConnect('127.0.0.1', s.port, 1000, (sock) => {
    const set = sock.setNoDelay.bind(sock);
    sock.setNoDelay = (v?: boolean) => (noDelay.push(v ?? true), set(v));
    agent.offer('127.0.0.1', s.port, sock);
  });
  assert.equal(kept, true);
  const r = await get(agent, s.port);
  assert.deepEqual(r, { status: 200, body: '1' });
  // Nagle off, as on the agent's own connections: a body after its head does not wait for an ACK.
  assert.deepEqual(noDelay, [true]);
  assert.equal(s.connections(), 1);
  // The next request goes on the kept-alive connection as any other would.
  assert.deepEqual(await get(agent, s.port), { status: 200, body: '1' });
  assert.equal(s.connections(), 1);
});

test('a connection the server spoke on first is not used: the request gets its own', async (t) => {
  const s = await server(t, true);
  const agent = new ReplicaAgent({ keepAlive: true });
  t.after(() => agent.destroy());
  assert.equal(await canConnect('127.0.0.1', s.port, 1000, (sock) => agent.offer('127.0.0.1', s.port, sock)), true);
  await delay(50);
  const r = await get(agent, s.port);
  assert.equal(s.connections(), 2);
  // The greeting on its own connection is what a fresh connection to such a server answers first.
  assert.equal(r.status, 408);
});

test('a connection left longer than its time is closed and not used', async (t) => {
  const s = await server(t);
  const agent = new ReplicaAgent({ keepAlive: true, spareMs: 20 });
  t.after(() => agent.destroy());
  let kept: Socket | undefined;
  await canConnect('127.0.0.1', s.port, 1000, (sock) => {
    kept = sock;
    agent.offer('127.0.0.1', s.port, sock);
  });
  await delay(100);
  assert.equal(kept?.destroyed, true);
  assert.deepEqual(await get(agent, s.port), { status: 200, body: '2' });
  assert.equal(s.connections(), 2);
});

test('a spare connection for another address is not used', async (t) => {
  const a = await server(t);
  const b = await server(t);
  const agent = new ReplicaAgent({ keepAlive: true });
  t.after(() => agent.destroy());
  await canConnect('127.0.0.1', a.port, 1000, (sock) => agent.offer('127.0.0.1', a.port, sock));
  assert.deepEqual(await get(agent, b.port), { status: 200, body: '1' });
  assert.equal(b.connections(), 1);
  assert.deepEqual(await get(agent, a.port), { status: 200, body: '1' });
  assert.equal(a.connections(), 1);
});
