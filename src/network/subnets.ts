/**
 * IPv4 subnets as docker checks and hands them out: CIDR parsing that
 * insists on the network address (`172.20.0.5/16` is refused, naming
 * `172.20.0.0/16`, as dockerd since 25.0), gateways and IP ranges inside
 * their subnet, overlap tests, and docker's default local address pools
 * (172.17.0.0/16 … 172.31.0.0/16, then 192.168.0.0/16 cut in /20s) walked
 * for the first subnet that overlaps neither a berth network nor a route
 * or address of the host (libnetwork's ipamutils and netutils do the same).
 *
 * The host's routes and addresses are read from /proc/net/route and
 * /proc/net/fib_trie (no process to start, no text of a tool to parse);
 * the allocator takes them as data so it is tested without a host.
 */
import { readFileSync } from 'node:fs';
import { invalidArgument } from '../errors.ts';

export interface Cidr {
  /** The network address as an unsigned 32-bit number. */
  base: number;
  prefix: number;
}

const IPV4 = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/;

/** An IPv4 address as a number, or undefined when `text` is not one. */
export function parseIpv4(text: string): number | undefined {
  const m = IPV4.exec(text);
  if (m === null) return undefined;
  const parts = m.slice(1).map(Number);
  if (parts.some((p) => p > 255)) return undefined;
  if (m.slice(1).some((p) => p.length > 1 && p.startsWith('0'))) return undefined;
  return parts.reduce((acc, p) => acc * 256 + p, 0);
}

export function formatIpv4(n: number): string {
  return [24, 16, 8, 0].map((s) => Math.floor(n / 2 ** s) % 256).join('.');
}

export function formatCidr(c: Cidr): string {
  return `${formatIpv4(c.base)}/${c.prefix}`;
}

const size = (prefix: number): number => 2 ** (32 - prefix);
const last = (c: Cidr): number => c.base + size(c.prefix) - 1;

/** Whether `text` looks like an IPv6 address or CIDR (refused with its own message). */
export function isIpv6(text: string): boolean {
  return text.includes(':');
}

/**
 * A CIDR as given to `--subnet` / `--ip-range`: IPv4, the network address
 * itself. `what` names the field in the error (`subnet`, `ip-range`).
 */
export function parseCidr(text: string, what: string): Cidr {
  const bad = (why: string): never => {
    throw invalidArgument('network_subnet_invalid', `${what} ${JSON.stringify(text)}: ${why}`, { details: { field: what, value: text } });
  };
  if (isIpv6(text)) bad('IPv6 is not supported (IPv4 networks only)');
  const slash = text.indexOf('/');
  if (slash < 0) bad('not a CIDR (want ADDRESS/PREFIX, e.g. 172.20.0.0/16)');
  const addr = parseIpv4(text.slice(0, slash));
  const prefixText = text.slice(slash + 1);
  if (addr === undefined) bad('not a CIDR: the address is not an IPv4 address');
  if (!/^\d{1,2}$/.test(prefixText) || Number(prefixText) > 32) bad('not a CIDR: the prefix length must be 0 to 32');
  const prefix = Number(prefixText);
  const base = addr! - (addr! % size(prefix));
  if (base !== addr) bad(`it should be ${formatIpv4(base)}/${prefix} (the network address)`);
  return { base, prefix };
}

export function overlaps(a: Cidr, b: Cidr): boolean {
  return a.base <= last(b) && b.base <= last(a);
}

export function contains(outer: Cidr, inner: Cidr): boolean {
  return inner.prefix >= outer.prefix && inner.base >= outer.base && last(inner) <= last(outer);
}

/** What a bridge network needs: a subnet, its gateway, and the range addresses come from. */
export interface SubnetPlan {
  subnet: string;
  gateway: string;
  ipRange?: string;
}

/** Subnets the bridge plugin can use: the gateway and at least one container besides the network and broadcast addresses. */
const MAX_PREFIX = 30;

/**
 * Checks a subnet given by the user with its optional gateway and IP range:
 * the gateway inside the subnet and neither its network nor its broadcast
 * address (default: the first host address, as docker), the range inside.
 */
export function checkSubnet(input: { subnet: string; gateway?: string | undefined; ipRange?: string | undefined }): SubnetPlan {
  const subnet = parseCidr(input.subnet, 'subnet');
  if (subnet.prefix > MAX_PREFIX) {
    throw invalidArgument('network_subnet_invalid', `subnet ${JSON.stringify(input.subnet)}: too small for a bridge (at most /${MAX_PREFIX})`, { details: { field: 'subnet', value: input.subnet } });
  }
  let gateway = subnet.base + 1;
  if (input.gateway !== undefined && input.gateway !== '') {
    if (isIpv6(input.gateway)) throw invalidArgument('network_gateway_invalid', `gateway ${JSON.stringify(input.gateway)}: IPv6 is not supported (IPv4 networks only)`, { details: { field: 'gateway', value: input.gateway } });
    const g = parseIpv4(input.gateway);
    if (g === undefined) throw invalidArgument('network_gateway_invalid', `gateway ${JSON.stringify(input.gateway)}: not an IPv4 address`, { details: { field: 'gateway', value: input.gateway } });
    if (g < subnet.base || g > last(subnet)) {
      throw invalidArgument('network_gateway_invalid', `gateway ${input.gateway}: not inside subnet ${input.subnet}`, { details: { field: 'gateway', value: input.gateway } });
    }
    if (g === subnet.base || g === last(subnet)) {
      const which = g === subnet.base ? 'network' : 'broadcast';
      throw invalidArgument('network_gateway_invalid', `gateway ${input.gateway}: the ${which} address of subnet ${input.subnet} cannot be a gateway`, { details: { field: 'gateway', value: input.gateway } });
    }
    gateway = g;
  }
  const plan: SubnetPlan = { subnet: formatCidr(subnet), gateway: formatIpv4(gateway) };
  if (input.ipRange !== undefined && input.ipRange !== '') {
    const range = parseCidr(input.ipRange, 'ip-range');
    if (!contains(subnet, range)) {
      throw invalidArgument('network_subnet_invalid', `ip-range ${input.ipRange}: not inside subnet ${input.subnet}`, { details: { field: 'ip-range', value: input.ipRange } });
    }
    plan.ipRange = formatCidr(range);
  }
  return plan;
}

/** docker's default local pools (libnetwork ipamutils): base and the size of each subnet cut from it. */
export const DEFAULT_POOLS: readonly { base: string; size: number }[] = [
  ...Array.from({ length: 15 }, (_, i) => ({ base: `172.${17 + i}.0.0/16`, size: 16 })),
  { base: '192.168.0.0/16', size: 20 },
];

/** Every candidate subnet of the default pools, in docker's order. */
export function* defaultSubnets(): Generator<Cidr> {
  for (const pool of DEFAULT_POOLS) {
    const c = parseCidr(pool.base, 'pool');
    for (let base = c.base; base <= last(c); base += size(pool.size)) yield { base, prefix: pool.size };
  }
}

/**
 * The first subnet of docker's default pools that overlaps none of
 * `taken` (berth's networks, the host's routes and addresses), or
 * undefined when all are used.
 */
export function allocateSubnet(taken: readonly Cidr[]): SubnetPlan | undefined {
  for (const c of defaultSubnets()) {
    if (taken.some((t) => overlaps(c, t))) continue;
    return { subnet: formatCidr(c), gateway: formatIpv4(c.base + 1) };
  }
  return undefined;
}

/** The routes of /proc/net/route (destination and mask in the host's byte order, little-endian here); the default route is left out, as docker does. */
export function parseProcRoutes(text: string): Cidr[] {
  const out: Cidr[] = [];
  for (const line of text.split('\n').slice(1)) {
    const f = line.trim().split(/\s+/);
    if (f.length < 8) continue;
    const dest = leHex(f[1] ?? '');
    const mask = leHex(f[7] ?? '');
    if (dest === undefined || mask === undefined || mask === 0) continue;
    const prefix = 32 - Math.log2(2 ** 32 - mask);
    if (!Number.isInteger(prefix)) continue;
    out.push({ base: dest - (dest % size(prefix)), prefix });
  }
  return out;
}

function leHex(hex: string): number | undefined {
  if (!/^[0-9A-Fa-f]{8}$/.test(hex)) return undefined;
  const b = Buffer.from(hex, 'hex');
  return b.readUInt32LE(0);
}

/** The host's own addresses (`/32 host LOCAL` leaves of /proc/net/fib_trie), loopback left out. */
export function parseFibTrieLocals(text: string): Cidr[] {
  const out = new Map<number, Cidr>();
  let leaf: number | undefined;
  for (const line of text.split('\n')) {
    const m = /\|--\s+(\S+)/.exec(line);
    if (m !== null) {
      leaf = parseIpv4(m[1] ?? '');
      continue;
    }
    if (leaf !== undefined && /\/32 host LOCAL/.test(line) && Math.floor(leaf / 2 ** 24) !== 127) out.set(leaf, { base: leaf, prefix: 32 });
  }
  return [...out.values()];
}

/** The host's routes and addresses, read now; a file that cannot be read gives nothing (a host without /proc/net overlaps nothing we can see). */
export function hostNetworks(): Cidr[] {
  const read = (path: string): string => {
    try {
      return readFileSync(path, 'utf8');
    } catch {
      return '';
    }
  };
  return [...parseProcRoutes(read('/proc/net/route')), ...parseFibTrieLocals(read('/proc/net/fib_trie'))];
}
