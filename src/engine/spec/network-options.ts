/**
 * The network flags of `run`/`create`: which network (`--network`), what
 * is published (`-p`, `-P`, `--expose`), and the name-resolution and
 * address flags docker takes (`--network-alias`, `--dns*`, `--add-host`,
 * `--ip`, `--mac-address`). Checked as docker checks them, so that what
 * only a user-defined network can do is refused on the others by name.
 *
 * `network` stays docker's string (HostConfig.NetworkMode): "none", "host",
 * "bridge" (the default network), "container:NAME|ID", or a network name.
 */
import { isIP } from 'node:net';
import { conflict, flagError } from './flag-error.ts';
import { checkPortClashes, parseExpose, parsePublish, type ExposedPort, type PortRequest } from './ports.ts';

export const DEFAULT_NETWORK = 'bridge';

export interface NetworkFlags {
  network?: string | undefined;
  publish?: readonly string[] | undefined;
  publishAll?: boolean | undefined;
  expose?: readonly string[] | undefined;
  networkAlias?: readonly string[] | undefined;
  dns?: readonly string[] | undefined;
  dnsSearch?: readonly string[] | undefined;
  dnsOption?: readonly string[] | undefined;
  addHost?: readonly string[] | undefined;
  ip?: string | undefined;
  macAddress?: string | undefined;
}

export interface ExtraHost {
  host: string;
  /** An address, or "host-gateway": the host's address on the container's network. */
  ip: string;
}

export interface NetworkOptions {
  network: string;
  ports: PortRequest[];
  publishAll: boolean;
  expose: ExposedPort[];
  networkAliases: string[];
  dns: string[];
  dnsSearch: string[];
  dnsOptions: string[];
  extraHosts: ExtraHost[];
  ipv4Address?: string;
  macAddress?: string;
}

export type NetworkKind = { kind: 'none' } | { kind: 'host' } | { kind: 'container'; container: string } | { kind: 'network'; name: string };

/** What a `network` string names. */
export function networkKind(network: string): NetworkKind {
  if (network === 'none' || network === 'host') return { kind: network };
  if (network.startsWith('container:')) return { kind: 'container', container: network.slice('container:'.length) };
  return { kind: 'network', name: network === 'default' ? DEFAULT_NETWORK : network };
}

/** A network name as docker takes one (and `container:X` for sharing another's). */
const NETWORK_NAME = /^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/;
const HOST_NAME = /^[a-zA-Z0-9_]([a-zA-Z0-9_.-]{0,252})$/;
const MAC = /^([0-9a-fA-F]{2}:){5}[0-9a-fA-F]{2}$/;

export function parseNetworkMode(raw: string): string {
  const kind = networkKind(raw);
  if (kind.kind === 'container') {
    if (kind.container === '') throw flagError('--network', raw, 'container: needs a container name or ID');
    return raw;
  }
  if (kind.kind === 'network' && !NETWORK_NAME.test(kind.name)) throw flagError('--network', raw, 'not none, host, container:NAME or a network name');
  return kind.kind === 'network' ? kind.name : raw;
}

function parseAddHost(raw: string): ExtraHost {
  // docker takes HOST:IP and (since 25) HOST=IP; an IPv6 IP has colons of its own.
  const eq = raw.indexOf('=');
  const sep = eq !== -1 ? eq : raw.indexOf(':');
  if (sep <= 0) throw flagError('--add-host', raw, 'not HOST:IP (or HOST=IP)');
  const host = raw.slice(0, sep);
  let ip = raw.slice(sep + 1);
  if (ip.startsWith('[') && ip.endsWith(']')) ip = ip.slice(1, -1);
  if (!HOST_NAME.test(host)) throw flagError('--add-host', raw, `"${host}" is not a host name`);
  if (ip !== 'host-gateway' && isIP(ip) === 0) throw flagError('--add-host', raw, `"${ip}" is not an IP address (or host-gateway)`);
  return { host, ip };
}

function parseMac(raw: string): string {
  if (!MAC.test(raw)) throw flagError('--mac-address', raw, 'not a MAC address (six hex pairs joined by ":")');
  if ((parseInt(raw.slice(0, 2), 16) & 1) === 1) throw flagError('--mac-address', raw, 'a multicast address (the first octet is odd)');
  return raw.toLowerCase();
}

export function parseNetworkOptions(f: NetworkFlags): NetworkOptions {
  const network = f.network === undefined ? DEFAULT_NETWORK : parseNetworkMode(f.network);
  const kind = networkKind(network);
  const ports = (f.publish ?? []).flatMap(parsePublish);
  checkPortClashes(ports);
  const publishAll = f.publishAll === true;
  const userNetwork = kind.kind === 'network' && kind.name !== DEFAULT_NETWORK;
  const sharesAnother = kind.kind === 'host' || kind.kind === 'container';
  if (sharesAnother) {
    // docker: "conflicting options: port publishing and the container type network mode"
    if (ports.length > 0) throw conflict('--publish', `--network ${network}`);
    if (publishAll) throw conflict('--publish-all', `--network ${network}`);
    if ((f.macAddress ?? '') !== '') throw conflict('--mac-address', `--network ${network}`);
  }
  if (kind.kind === 'container' && ((f.dns ?? []).length > 0 || (f.addHost ?? []).length > 0)) {
    throw conflict((f.dns ?? []).length > 0 ? '--dns' : '--add-host', `--network ${network}`);
  }
  const aliases = [...(f.networkAlias ?? [])];
  if (aliases.length > 0 && !userNetwork) {
    throw flagError('--network-alias', aliases[0]!, 'network-scoped aliases are supported only on user-defined networks');
  }
  for (const a of aliases) if (!HOST_NAME.test(a)) throw flagError('--network-alias', a, 'not a host name');
  const out: NetworkOptions = {
    network,
    ports,
    publishAll,
    expose: (f.expose ?? []).flatMap((e) => parseExpose(e)),
    networkAliases: aliases,
    dns: (f.dns ?? []).map((d) => {
      if (isIP(d) === 0) throw flagError('--dns', d, 'not an IP address');
      return d;
    }),
    dnsSearch: (f.dnsSearch ?? []).map((d) => {
      if (d !== '.' && !HOST_NAME.test(d)) throw flagError('--dns-search', d, 'not a domain name');
      return d;
    }),
    dnsOptions: [...(f.dnsOption ?? [])].map((o) => {
      if (!/^[a-z0-9-]+(:\d+)?$/i.test(o)) throw flagError('--dns-option', o, 'not a resolv.conf option (name or name:N)');
      return o;
    }),
    extraHosts: (f.addHost ?? []).map(parseAddHost),
  };
  if (f.ip !== undefined) {
    if (isIP(f.ip) !== 4) throw flagError('--ip', f.ip, 'not an IPv4 address');
    if (!userNetwork) throw flagError('--ip', f.ip, 'a chosen address is supported only on user-defined networks');
    out.ipv4Address = f.ip;
  }
  if (f.macAddress !== undefined && f.macAddress !== '') out.macAddress = parseMac(f.macAddress);
  return out;
}

/**
 * NetworkOptions that arrive as JSON (berth's own create route): every
 * field's shape and value checked as the flags' parser checks them, so the
 * daemon trusts nothing its client made.
 */
export function checkNetworkOptions(o: Record<string, unknown>, bad: (field: string) => never): NetworkOptions {
  const strs = (f: string): string[] => {
    const v = o[f] ?? [];
    if (!Array.isArray(v) || !v.every((s) => typeof s === 'string')) return bad(f);
    return v;
  };
  if (typeof o['network'] !== 'string') return bad('network');
  const port = (n: unknown, min: number): n is number => Number.isInteger(n) && (n as number) >= min && (n as number) <= 65535;
  const ports = o['ports'] ?? [];
  if (!Array.isArray(ports)) return bad('ports');
  const publish = ports.map((p: unknown, i) => {
    const r = p as Partial<Record<keyof PortRequest, unknown>> | null;
    if (typeof r !== 'object' || r === null || typeof r.hostIp !== 'string' || (r.hostIp !== '' && isIP(r.hostIp) === 0)) return bad(`ports[${i}].hostIp`);
    if (!port(r.hostPort, 0) || (r.hostPortEnd !== undefined && !port(r.hostPortEnd, 1))) return bad(`ports[${i}].hostPort`);
    if (!port(r.containerPort, 1)) return bad(`ports[${i}].containerPort`);
    if (r.protocol !== 'tcp' && r.protocol !== 'udp') return bad(`ports[${i}].protocol`);
    const host = r.hostIp === '' ? '' : r.hostIp.includes(':') ? `[${r.hostIp}]:` : `${r.hostIp}:`;
    const hostPort = r.hostPort === 0 ? '' : r.hostPortEnd === undefined ? String(r.hostPort) : `${r.hostPort}-${String(r.hostPortEnd)}`;
    return `${host}${hostPort}${host !== '' || hostPort !== '' ? ':' : ''}${r.containerPort}/${r.protocol}`;
  });
  const expose = o['expose'] ?? [];
  if (!Array.isArray(expose)) return bad('expose');
  const exposeFlags = expose.map((e: unknown, i) => {
    const r = e as Partial<Record<keyof ExposedPort, unknown>> | null;
    if (typeof r !== 'object' || r === null || !port(r.port, 1) || (r.protocol !== 'tcp' && r.protocol !== 'udp')) return bad(`expose[${i}]`);
    return `${r.port}/${r.protocol}`;
  });
  const hosts = o['extraHosts'] ?? [];
  if (!Array.isArray(hosts)) return bad('extraHosts');
  const addHost = hosts.map((h: unknown, i) => {
    const r = h as Partial<Record<keyof ExtraHost, unknown>> | null;
    if (typeof r !== 'object' || r === null || typeof r.host !== 'string' || typeof r.ip !== 'string') return bad(`extraHosts[${i}]`);
    return `${r.host}=${r.ip}`;
  });
  for (const f of ['ipv4Address', 'macAddress']) if (o[f] !== undefined && typeof o[f] !== 'string') bad(f);
  if (o['publishAll'] !== undefined && typeof o['publishAll'] !== 'boolean') bad('publishAll');
  // Back through the flags' parser: one set of rules for both doors.
  return parseNetworkOptions({
    network: o['network'],
    publish,
    publishAll: o['publishAll'] === true,
    expose: exposeFlags,
    networkAlias: strs('networkAliases'),
    dns: strs('dns'),
    dnsSearch: strs('dnsSearch'),
    dnsOption: strs('dnsOptions'),
    addHost,
    ...(o['ipv4Address'] === undefined ? {} : { ip: o['ipv4Address'] as string }),
    ...(o['macAddress'] === undefined ? {} : { macAddress: o['macAddress'] as string }),
  });
}
