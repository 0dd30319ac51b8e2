/**
 * `-p/--publish` and `--expose` in docker's syntax, checked as docker
 * checks them (github.com/docker/go-connections/nat ParsePortSpec):
 *
 *   -p [IP:][HOST:]CONTAINER[/PROTO]     HOST and CONTAINER may be ranges a-b
 *   -p 8080:80          host 8080 on every address to the container's 80/tcp
 *   -p 127.0.0.1::80    a free host port on loopback
 *   -p [::1]:8080:80    an IPv6 host address, in brackets
 *   -p 8000-8001:80-81  ranges of one length map port by port
 *   -p 8000-8010:80     one host port out of the range
 *
 * Nothing here touches the host: whether a port is free is the network
 * layer's question, asked before the container starts.
 */
import { isIP } from 'node:net';
import type { PortProtocol, PortRequest } from '../../network/types.ts';
import { flagError } from './flag-error.ts';

export type { PortProtocol, PortRequest };
export { checkPortClashes } from '../../network/port-requests.ts';

/** A container port the image or `--expose` declares: what `-P` publishes. */
export interface ExposedPort {
  port: number;
  protocol: PortProtocol;
}

interface Range {
  start: number;
  end: number;
}

function parseRange(flag: string, raw: string, text: string, what: string): Range {
  const m = /^(\d+)(?:-(\d+))?$/.exec(text);
  if (m === null) throw flagError(flag, raw, `${what} "${text}" is not a port number or range`);
  const start = Number(m[1]);
  const end = m[2] === undefined ? start : Number(m[2]);
  for (const p of [start, end]) {
    if (p < 1 || p > 65535) throw flagError(flag, raw, `${what} ${p} is out of range 1-65535`);
  }
  if (end < start) throw flagError(flag, raw, `${what} range "${text}" ends before it starts`);
  return { start, end };
}

function parseProtocol(flag: string, raw: string, text: string | undefined): PortProtocol {
  const proto = (text ?? 'tcp').toLowerCase();
  if (proto === 'tcp' || proto === 'udp') return proto;
  if (proto === 'sctp') throw flagError(flag, raw, 'sctp ports are not supported (tcp or udp)');
  throw flagError(flag, raw, `"${text ?? ''}" is not a protocol (tcp or udp)`);
}

/** `IP:HOST:CONTAINER` with an IPv6 IP in brackets: split from the right, as docker does. */
function splitSpec(flag: string, raw: string, spec: string): { ip: string; host: string; container: string } {
  if (spec.startsWith('[')) {
    const close = spec.indexOf(']');
    if (close === -1 || spec[close + 1] !== ':') throw flagError(flag, raw, 'an IPv6 address in brackets must be followed by ":"');
    const parts = spec.slice(close + 2).split(':');
    if (parts.length !== 2) throw flagError(flag, raw, 'not [IP]:HOST:CONTAINER');
    return { ip: spec.slice(1, close), host: parts[0]!, container: parts[1]! };
  }
  const parts = spec.split(':');
  if (parts.length === 1) return { ip: '', host: '', container: parts[0]! };
  if (parts.length === 2) return { ip: '', host: parts[0]!, container: parts[1]! };
  if (parts.length === 3) return { ip: parts[0]!, host: parts[1]!, container: parts[2]! };
  throw flagError(flag, raw, 'not [IP:][HOST:]CONTAINER[/PROTO] (an IPv6 address goes in brackets)');
}

export function parsePublish(raw: string): PortRequest[] {
  const flag = '--publish';
  const slash = raw.lastIndexOf('/');
  const spec = slash === -1 ? raw : raw.slice(0, slash);
  const protocol = parseProtocol(flag, raw, slash === -1 ? undefined : raw.slice(slash + 1));
  const { ip, host, container } = splitSpec(flag, raw, spec);
  if (ip !== '' && isIP(ip) === 0) throw flagError(flag, raw, `"${ip}" is not an IP address`);
  if (container === '') throw flagError(flag, raw, 'no container port');
  const c = parseRange(flag, raw, container, 'container port');
  const hostIp = ip === '0.0.0.0' || ip === '::' ? (ip === '::' ? '::' : '') : ip;
  if (host === '') {
    const out: PortRequest[] = [];
    for (let p = c.start; p <= c.end; p++) out.push({ hostIp, hostPort: 0, containerPort: p, protocol });
    return out;
  }
  // docker's "0" host port: any free one.
  const h = host === '0' ? { start: 0, end: 0 } : parseRange(flag, raw, host, 'host port');
  const hostLength = h.end - h.start;
  const containerLength = c.end - c.start;
  if (containerLength === 0 && hostLength > 0) {
    return [{ hostIp, hostPort: h.start, hostPortEnd: h.end, containerPort: c.start, protocol }];
  }
  if (hostLength !== containerLength) {
    throw flagError(flag, raw, `the host range ${h.start}-${h.end} and the container range ${c.start}-${c.end} differ in length`);
  }
  const out: PortRequest[] = [];
  for (let i = 0; i <= containerLength; i++) out.push({ hostIp, hostPort: h.start + i, containerPort: c.start + i, protocol });
  return out;
}

/** `--expose PORT[/PROTO]` or a range; also the image's ExposedPorts keys ("80/tcp"). */
export function parseExpose(raw: string, flag = '--expose'): ExposedPort[] {
  const slash = raw.lastIndexOf('/');
  const protocol = parseProtocol(flag, raw, slash === -1 ? undefined : raw.slice(slash + 1));
  const r = parseRange(flag, raw, slash === -1 ? raw : raw.slice(0, slash), 'port');
  const out: ExposedPort[] = [];
  for (let p = r.start; p <= r.end; p++) out.push({ port: p, protocol });
  return out;
}
