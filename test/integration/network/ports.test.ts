/**
 * Published ports (root): held on the host before the ADD, answered through
 * the portmap plugin's DNAT from 127.0.0.1 and the host's own address, a
 * port another process holds refused before anything is made.
 */
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:net';
import { test, type TestContext } from 'node:test';
import { isBerthError } from '../../../src/errors.ts';
import { onCleanup } from '../../helpers/cleanup.ts';
import { client, hostAddress, leaks, netSetup, request, startServer } from '../../helpers/network.ts';

function listen(t: TestContext, port = 0): Promise<Server> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(port, '0.0.0.0', () => resolve(s));
    onCleanup(t, () => new Promise<void>((r) => s.close(() => r())));
  });
}

function portOf(s: Server): number {
  const a = s.address();
  assert.ok(typeof a === 'object' && a !== null);
  return a.port;
}

test('published TCP and UDP ports answer from the host on 127.0.0.1 and its own address; freed on release', async (t) => {
  const { f, net, sb, before } = netSetup(t);
  const box = await sb.create(f.container());
  const ep = await sb.attach(
    box.id,
    request(net, {
      ports: [
        { hostIp: '', hostPort: 0, containerPort: 8080, protocol: 'tcp' },
        { hostIp: '', hostPort: 0, containerPort: 8081, protocol: 'udp' },
      ],
    }),
  );
  const tcp = ep.ports.find((p) => p.protocol === 'tcp')!;
  const udp = ep.ports.find((p) => p.protocol === 'udp')!;
  assert.ok(tcp.hostPort > 0 && udp.hostPort > 0);
  assert.deepEqual(sb.get(box.id)?.endpoints[0]?.ports, ep.ports);
  await startServer(t, box.netns, 'tcp', 8080, 'tcp-in-container');
  await startServer(t, box.netns, 'udp', 8081, 'udp-in-container');

  assert.match(client(null, 'tcp', '127.0.0.1', tcp.hostPort), /^tcp-in-container /);
  assert.match(client(null, 'udp', '127.0.0.1', udp.hostPort), /^udp-in-container /);
  const own = hostAddress();
  if (own !== undefined) {
    assert.match(client(null, 'tcp', own, tcp.hostPort), /^tcp-in-container /, `via ${own}`);
    assert.match(client(null, 'udp', own, udp.hostPort), /^udp-in-container /, `via ${own}`);
  }
  // Held: another process cannot take it while the container has it.
  await assert.rejects(listen(t, tcp.hostPort), { code: 'EADDRINUSE' });

  await sb.release(box.id);
  const again = await listen(t, tcp.hostPort);
  assert.equal(portOf(again), tcp.hostPort);
  assert.deepEqual(leaks(f, before), []);
});

test('a host port another process holds is a clear error before anything is made', async (t) => {
  const { f, net, sb, before } = netSetup(t);
  const taken = portOf(await listen(t));
  const box = await sb.create(f.container());
  await assert.rejects(
    sb.attach(box.id, request(net, { ports: [{ hostIp: '', hostPort: taken, containerPort: 80, protocol: 'tcp' }] })),
    (err: unknown) => {
      assert.ok(isBerthError(err, 'port_in_use'), String(err));
      assert.equal(err.message, `port ${taken}/tcp is already in use on 0.0.0.0`);
      return true;
    },
  );
  assert.deepEqual(sb.get(box.id)?.endpoints, []);
  assert.equal(Number(f.db.prepare('SELECT count(*) AS n FROM engine_endpoints').get()?.['n']), 0);
  await sb.release(box.id);
  assert.deepEqual(leaks(f, before), []);
});

test('a host port range takes the first free port of the range', async (t) => {
  const { f, net, sb } = netSetup(t);
  const first = portOf(await listen(t));
  const box = await sb.create(f.container());
  const ep = await sb.attach(box.id, request(net, { ports: [{ hostIp: '127.0.0.1', hostPort: first, hostPortEnd: first + 20, containerPort: 80, protocol: 'tcp' }] }));
  assert.ok(ep.ports[0]!.hostPort > first && ep.ports[0]!.hostPort <= first + 20);
  assert.equal(ep.ports[0]!.hostIp, '127.0.0.1');
  await startServer(t, box.netns, 'tcp', 80, 'ranged');
  assert.match(client(null, 'tcp', '127.0.0.1', ep.ports[0]!.hostPort), /^ranged /);
  await sb.release(box.id);
});
