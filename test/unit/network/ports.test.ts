import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:net';
import { test } from 'node:test';
import { holdPort, holdPorts, releasePorts } from '../../../src/network/ports.ts';
import { isBerthError } from '../../../src/errors.ts';

function listen(port: number, host = '127.0.0.1'): Promise<Server> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(port, host, () => resolve(s));
  });
}
const close = (s: Server): Promise<void> => new Promise((r) => s.close(() => r()));
const portOf = (s: Server): number => (s.address() as { port: number }).port;

test('port 0 gets a free port from the kernel, held until released', async () => {
  const [tcp, udp] = await holdPorts([
    { hostIp: '127.0.0.1', hostPort: 0, containerPort: 80, protocol: 'tcp' },
    { hostIp: '127.0.0.1', hostPort: 0, containerPort: 53, protocol: 'udp' },
  ]);
  assert.ok(tcp!.port.hostPort > 0 && udp!.port.hostPort > 0);
  assert.deepEqual({ ...tcp!.port, hostPort: 0 }, { hostIp: '127.0.0.1', hostPort: 0, containerPort: 80, protocol: 'tcp' });
  await assert.rejects(listen(tcp!.port.hostPort), { code: 'EADDRINUSE' });
  await releasePorts([tcp!, udp!]);
  await close(await listen(tcp!.port.hostPort));
});

test('a port another process holds is refused with the message users see', async () => {
  const other = await listen(0, '0.0.0.0');
  const port = portOf(other);
  try {
    await assert.rejects(holdPort({ hostIp: '', hostPort: port, containerPort: 80, protocol: 'tcp' }), (e: unknown) => {
      assert.ok(isBerthError(e, 'port_in_use'));
      assert.equal(e.message, `port ${port}/tcp is already in use on 0.0.0.0`);
      return true;
    });
    // A range skips it; a range with nothing free says so.
    const held = await holdPort({ hostIp: '127.0.0.1', hostPort: port, hostPortEnd: port + 30, containerPort: 80, protocol: 'tcp' });
    assert.ok(held.port.hostPort > port);
    await held.close();
    await assert.rejects(holdPort({ hostIp: '127.0.0.1', hostPort: port, hostPortEnd: port, containerPort: 80, protocol: 'tcp' }), /already in use on 127\.0\.0\.1/);
  } finally {
    await close(other);
  }
});

test('all or nothing: a failure lets go of the ports already held', async () => {
  const other = await listen(0);
  const taken = portOf(other);
  const probe = await holdPort({ hostIp: '127.0.0.1', hostPort: 0, containerPort: 1, protocol: 'tcp' });
  const free = probe.port.hostPort;
  await probe.close();
  try {
    await assert.rejects(
      holdPorts([
        { hostIp: '127.0.0.1', hostPort: free, containerPort: 1, protocol: 'tcp' },
        { hostIp: '127.0.0.1', hostPort: taken, containerPort: 2, protocol: 'tcp' },
      ]),
      /already in use/,
    );
    await close(await listen(free));
  } finally {
    await close(other);
  }
});

test('an address the host does not have, and IPv6, are named', async () => {
  await assert.rejects(holdPort({ hostIp: '192.0.2.254', hostPort: 0, containerPort: 80, protocol: 'tcp' }), (e: unknown) =>
    isBerthError(e, 'port_address_invalid') && e.message.includes('192.0.2.254 is not an address of this host'),
  );
  await assert.rejects(holdPort({ hostIp: '::1', hostPort: 8080, containerPort: 80, protocol: 'tcp' }), (e: unknown) => isBerthError(e, 'port_ipv6_unsupported'));
});
