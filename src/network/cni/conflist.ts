/**
 * The CNI network configuration list berth runs for a network record, and
 * the capability arguments (spec 1.0.0, "Deriving runtimeConfig") a request
 * adds:
 *
 *   bridge     the record's bridge as the gateway (NAT out is berth's, one
 *              rule per network: firewall.ts), hairpin (a container reaches itself through a published port),
 *              MTU from `com.docker.network.driver.mtu`; IPAM host-local on
 *              the subnet (narrowed to ipRange), leases under
 *              ROOT/network/ipam/<network id>/ beside berth's own state;
 *              capability `ips` (--ip) goes on to host-local
 *   portmap    capability `portMappings` (-p), DNAT plus SNAT for hairpin
 *              and 127.0.0.1 (portmap sets route_localnet on the bridge)
 *   firewall   the iptables backend: lets the container's address through
 *              FORWARD (berth's isolation chains run before it: firewall.ts)
 *   tuning     capability `mac` (--mac-address)
 *
 * portmap and tuning are left out of an endpoint that needs neither (see
 * ConflistNeeds).
 *
 * The CNI network name is the record's id: unique over time (a network
 * removed and created again under one name gets a new IPAM directory and
 * new chain hashes), and what the IPAM directory is named after.
 */
import { join } from 'node:path';
import type { AttachRequest, NetworkRecord } from '../types.ts';
import { contains4, formatIp4, lastIp4, parseCidr4, parseIp4 } from './ipv4.ts';
import { invalidArgument } from '../../errors.ts';

export const CNI_VERSION = '1.0.0';

export type PluginConf = Record<string, unknown> & { type: string };

export interface Conflist {
  cniVersion: string;
  name: string;
  plugins: PluginConf[];
}

/** Capability arguments: each plugin gets those its `capabilities` names. */
export interface RuntimeConfig {
  portMappings?: { hostPort: number; containerPort: number; protocol: string; hostIP?: string }[];
  ips?: string[];
  mac?: string;
}

export const MTU_OPTION = 'com.docker.network.driver.mtu';

/** Where host-local keeps the leases of every network: ROOT/network/ipam. */
export function ipamDir(root: string): string {
  return join(root, 'network', 'ipam');
}

/**
 * The plugins an endpoint needs: portmap only with ports, tuning only with
 * a MAC. Each plugin a list carries costs a run at ADD and at DEL (portmap
 * ~9 + ~6 ms, tuning ~6 + ~6 ms here, even with nothing to do), and the
 * list stored with the endpoint is the one its DEL runs, so one left out
 * is never missed.
 */
export interface ConflistNeeds {
  ports: boolean;
  mac: boolean;
  /**
   * The default route through this network: only the sandbox's first
   * endpoint gets one (docker's one gateway per container; a second
   * default route would send part of the traffic out of another network).
   */
  defaultRoute: boolean;
}

export function buildConflist(record: NetworkRecord, root: string, needs: ConflistNeeds = { ports: true, mac: true, defaultRoute: true }): Conflist {
  const range: Record<string, string> = { subnet: record.subnet, gateway: record.gateway };
  if (record.ipRange !== undefined) Object.assign(range, rangeBounds(record));
  const bridge: PluginConf = {
    type: 'bridge',
    bridge: record.bridge,
    isGateway: true,
    // NAT out is one rule per network in firewall.ts, not a chain per container (see there why).
    ipMasq: false,
    hairpinMode: true,
    capabilities: { ips: true },
    ipam: {
      type: 'host-local',
      ranges: [[range]],
      // Internal networks get no default route: nothing to route to (docker does the same).
      routes: record.internal || !needs.defaultRoute ? [] : [{ dst: '0.0.0.0/0' }],
      dataDir: ipamDir(root),
    },
  };
  const mtu = record.options[MTU_OPTION];
  if (mtu !== undefined) bridge['mtu'] = parseMtu(record, mtu);
  const plugins: PluginConf[] = [bridge];
  if (needs.ports) plugins.push({ type: 'portmap', capabilities: { portMappings: true }, snat: true });
  plugins.push({ type: 'firewall', backend: 'iptables' });
  if (needs.mac) plugins.push({ type: 'tuning', capabilities: { mac: true } });
  return { cniVersion: CNI_VERSION, name: record.id, plugins };
}

function parseMtu(record: NetworkRecord, text: string): number {
  const n = Number(text);
  if (!/^\d+$/.test(text) || n < 68 || n > 65535) {
    throw invalidArgument('cni_mtu_invalid', `network "${record.name}": option ${MTU_OPTION}="${text}" is not an MTU (68-65535)`);
  }
  return n;
}

/** host-local's rangeStart/rangeEnd for an ipRange: its addresses, without the subnet's network and broadcast addresses. */
function rangeBounds(record: NetworkRecord): { rangeStart: string; rangeEnd: string } {
  const subnet = parseCidr4(record.subnet);
  const r = parseCidr4(record.ipRange ?? '');
  if (subnet === undefined || r === undefined || !contains4(subnet, r.base) || !contains4(subnet, lastIp4(r))) {
    throw invalidArgument('cni_ip_range_invalid', `network "${record.name}": ip range "${record.ipRange ?? ''}" is not inside subnet ${record.subnet}`);
  }
  const start = r.base === subnet.base ? r.base + 1 : r.base;
  const end = lastIp4(r) === lastIp4(subnet) ? lastIp4(r) - 1 : lastIp4(r);
  return { rangeStart: formatIp4(start), rangeEnd: formatIp4(end) };
}

/** The capability arguments of a request: ports (already given host ports), --ip, --mac-address. */
export function runtimeConfigFor(
  record: NetworkRecord,
  req: Pick<AttachRequest, 'ipv4Address' | 'macAddress'>,
  ports: readonly { hostIp: string; hostPort: number; containerPort: number; protocol: string }[],
): RuntimeConfig {
  const out: RuntimeConfig = {};
  if (ports.length > 0) {
    out.portMappings = ports.map((p) => {
      const m: { hostPort: number; containerPort: number; protocol: string; hostIP?: string } = {
        hostPort: p.hostPort,
        containerPort: p.containerPort,
        protocol: p.protocol,
      };
      if (p.hostIp !== '') m.hostIP = p.hostIp;
      return m;
    });
  }
  if (req.ipv4Address !== undefined) out.ips = [`${checkIp(record, req.ipv4Address)}/${record.subnet.split('/')[1] ?? '32'}`];
  if (req.macAddress !== undefined) out.mac = checkMac(req.macAddress);
  return out;
}

function checkIp(record: NetworkRecord, ip: string): string {
  const n = parseIp4(ip);
  const subnet = parseCidr4(record.subnet);
  if (n === undefined) throw invalidArgument('attach_ip_invalid', `--ip "${ip}" is not an IPv4 address`);
  if (subnet === undefined || !contains4(subnet, n)) {
    throw invalidArgument('attach_ip_invalid', `--ip ${ip} is not in network "${record.name}"'s subnet ${record.subnet}`);
  }
  if (ip === record.gateway || n === subnet.base || n === lastIp4(subnet)) {
    throw invalidArgument('attach_ip_invalid', `--ip ${ip} is network "${record.name}"'s gateway, network or broadcast address`);
  }
  return ip;
}

function checkMac(mac: string): string {
  if (!/^([0-9a-fA-F]{2}:){5}[0-9a-fA-F]{2}$/.test(mac)) throw invalidArgument('attach_mac_invalid', `--mac-address "${mac}" is not a MAC address`);
  if ((parseInt(mac.slice(0, 2), 16) & 1) === 1) throw invalidArgument('attach_mac_invalid', `--mac-address ${mac} is a multicast address`);
  return mac.toLowerCase();
}

/** One plugin's stdin: its own conf, the list's name and version, its capability args, the previous result. */
export function pluginConfig(list: Conflist, plugin: PluginConf, runtime: RuntimeConfig, prevResult: unknown): Record<string, unknown> {
  const conf: Record<string, unknown> = { ...plugin, cniVersion: list.cniVersion, name: list.name };
  const caps = plugin['capabilities'];
  const rc: Record<string, unknown> = {};
  if (typeof caps === 'object' && caps !== null) {
    for (const [key, on] of Object.entries(caps)) {
      const value = (runtime as Record<string, unknown>)[key];
      if (on === true && value !== undefined) rc[key] = value;
    }
  }
  if (Object.keys(rc).length > 0) conf['runtimeConfig'] = rc;
  if (prevResult !== undefined) conf['prevResult'] = prevResult;
  return conf;
}
