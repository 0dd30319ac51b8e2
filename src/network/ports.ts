/**
 * Host ports held for published container ports, as docker-proxy holds
 * them: a TCP listening socket or a bound UDP socket on hostIp:hostPort,
 * open as long as the container's endpoint exists. The portmap plugin's
 * DNAT forwards the traffic (PREROUTING, and OUTPUT for the host's own
 * addresses and 127.0.0.1), so these sockets never see a packet; holding
 * them makes a port another process holds a clear error before the
 * container starts, and keeps another process from taking ours later.
 *
 * Port 0 asks the kernel for a free one (its ephemeral range); a range
 * hostPort..hostPortEnd takes the first that binds.
 */
import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { createServer, isIPv6, type Server } from 'node:net';
import { errnoCode, failedPrecondition, invalidArgument, unsupported } from '../errors.ts';
import type { PortRequest } from './types.ts';
import type { PublishedPort } from './types.ts';

export interface HeldPort {
  port: PublishedPort;
  close(): Promise<void>;
}

function where(p: { hostIp: string }): string {
  return p.hostIp === '' ? '0.0.0.0' : p.hostIp;
}

/** Binds one host port; rejects with the errno (EADDRINUSE, EADDRNOTAVAIL, EACCES). */
function bindOnce(hostIp: string, port: number, protocol: 'tcp' | 'udp'): Promise<{ port: number; close: () => Promise<void> }> {
  const host = hostIp === '' ? '0.0.0.0' : hostIp;
  if (protocol === 'tcp') {
    return new Promise((resolve, reject) => {
      const server: Server = createServer((conn) => conn.destroy());
      server.once('error', reject);
      server.listen({ host, port, exclusive: true, backlog: 1 }, () => {
        server.off('error', reject);
        server.unref();
        const address = server.address();
        const bound = typeof address === 'object' && address !== null ? address.port : port;
        resolve({ port: bound, close: () => new Promise<void>((r) => server.close(() => r())) });
      });
    });
  }
  return new Promise((resolve, reject) => {
    const socket: UdpSocket = createSocket({ type: isIPv6(host) ? 'udp6' : 'udp4' });
    socket.once('error', reject);
    socket.bind({ address: host, port, exclusive: true }, () => {
      socket.off('error', reject);
      socket.unref();
      resolve({ port: socket.address().port, close: () => new Promise<void>((r) => socket.close(() => r())) });
    });
  });
}

/** Holds the host side of one request: a clear error when it cannot. */
export async function holdPort(req: PortRequest): Promise<HeldPort> {
  if (req.hostIp !== '' && isIPv6(req.hostIp)) {
    throw unsupported('port_ipv6_unsupported', `port ${req.hostPort}/${req.protocol} on ${req.hostIp}: IPv6 host addresses are not supported (networks are IPv4)`);
  }
  const candidates: number[] = [];
  const end = req.hostPortEnd ?? req.hostPort;
  for (let p = req.hostPort; p <= end; p++) candidates.push(p);
  let lastErr: unknown;
  for (const candidate of candidates) {
    try {
      const held = await bindOnce(req.hostIp, candidate, req.protocol);
      return { port: { hostIp: req.hostIp, hostPort: held.port, containerPort: req.containerPort, protocol: req.protocol }, close: held.close };
    } catch (err) {
      lastErr = err;
      if (errnoCode(err) !== 'EADDRINUSE') break;
    }
  }
  const code = errnoCode(lastErr);
  const ports = req.hostPortEnd === undefined ? `port ${req.hostPort}` : `every port of ${req.hostPort}-${req.hostPortEnd}`;
  if (code === 'EADDRINUSE') {
    const verb = req.hostPortEnd === undefined ? 'is' : 'are';
    throw failedPrecondition('port_in_use', `${ports}/${req.protocol} ${verb} already in use on ${where(req)}`, { cause: lastErr });
  }
  if (code === 'EADDRNOTAVAIL') {
    throw invalidArgument('port_address_invalid', `port ${req.hostPort}/${req.protocol}: ${req.hostIp} is not an address of this host`, { cause: lastErr });
  }
  throw failedPrecondition('port_unavailable', `port ${req.hostPort}/${req.protocol} on ${where(req)}: cannot bind (${code ?? String(lastErr)})`, { cause: lastErr });
}

/** Holds every request or none: on a failure the ports already held are let go. */
export async function holdPorts(reqs: readonly PortRequest[]): Promise<HeldPort[]> {
  const held: HeldPort[] = [];
  try {
    for (const r of reqs) held.push(await holdPort(r));
  } catch (err) {
    await releasePorts(held);
    throw err;
  }
  return held;
}

/** Holds ports already given out before (a restarted daemon re-holding a live container's ports). */
export function holdPublished(ports: readonly PublishedPort[]): Promise<HeldPort[]> {
  return holdPorts(ports.map((p) => ({ hostIp: p.hostIp, hostPort: p.hostPort, containerPort: p.containerPort, protocol: p.protocol })));
}

export async function releasePorts(held: readonly HeldPort[]): Promise<void> {
  await Promise.all(held.map((h) => h.close()));
}
