/**
 * A container's networks and ports in the Docker Engine API's shapes:
 * inspect's NetworkSettings and HostConfig port/DNS fields, Config's
 * ExposedPorts, and the summary's Ports and Networks (`docker ps`). Made
 * from what the container asks for (its options, its networks) and, while
 * it runs, what CNI gave it (the sandbox's endpoints and held host ports).
 */
import { createHash } from 'node:crypto';
import type { ContainerView } from '../../engine/engine.ts';
import type { EndpointInfo } from '../../network/types.ts';

/** Docker's EndpointID: one per container per network per run; berth's is derived from the sandbox and the network. */
function endpointId(sandboxId: string, networkId: string): string {
  return createHash('sha256').update(`${sandboxId}/${networkId}`).digest('hex');
}

const prefixOf = (cidr: string): number => Number(cidr.split('/')[1] ?? 0);
const addressOf = (cidr: string): string => cidr.split('/')[0] ?? '';

/** HostConfig.PortBindings: what `-p` asked for, by "port/proto". */
export function portBindings(v: ContainerView): Record<string, { HostIp: string; HostPort: string }[]> {
  const out: Record<string, { HostIp: string; HostPort: string }[]> = {};
  for (const p of v.options.run.ports ?? []) {
    const key = `${p.containerPort}/${p.protocol}`;
    const hostPort = p.hostPort === 0 ? '' : p.hostPortEnd === undefined ? String(p.hostPort) : `${p.hostPort}-${p.hostPortEnd}`;
    (out[key] ??= []).push({ HostIp: p.hostIp, HostPort: hostPort });
  }
  return out;
}

/** Config.ExposedPorts: the image's EXPOSE, --expose and -p's container ports; null when none (docker's). */
export function exposedPorts(v: ContainerView): Record<string, Record<string, never>> | null {
  const list = v.options.exposed ?? [];
  return list.length === 0 ? null : Object.fromEntries(list.map((e) => [`${e.port}/${e.protocol}`, {}]));
}

function published(v: ContainerView): EndpointInfo['ports'] {
  return v.sandbox?.endpoints.flatMap((e) => e.ports) ?? [];
}

/** NetworkSettings.Ports: every exposed port, with its host bindings while it runs (null when not published). */
function ports(v: ContainerView): Record<string, { HostIp: string; HostPort: string }[] | null> {
  if (v.sandbox === undefined) return {};
  const out: Record<string, { HostIp: string; HostPort: string }[] | null> = {};
  for (const e of v.options.exposed ?? []) out[`${e.port}/${e.protocol}`] = null;
  for (const p of published(v)) {
    const key = `${p.containerPort}/${p.protocol}`;
    const list = out[key] ?? [];
    list.push({ HostIp: p.hostIp === '' ? '0.0.0.0' : p.hostIp, HostPort: String(p.hostPort) });
    out[key] = list;
  }
  return out;
}

function endpointOf(v: ContainerView, networkId: string): EndpointInfo | undefined {
  return v.sandbox?.endpoints.find((e) => e.networkId === networkId);
}

/** One entry of Networks (inspect's EndpointSettings; the summary uses the same). */
function endpointSettings(v: ContainerView, n: ContainerView['networks'][number]): Record<string, unknown> {
  const e = endpointOf(v, n.record.id);
  const sandboxId = v.sandbox?.id;
  return {
    IPAMConfig: n.request.ipv4Address === undefined ? null : { IPv4Address: n.request.ipv4Address },
    Links: null,
    Aliases: n.request.aliases.length > 0 ? n.request.aliases : null,
    MacAddress: e?.mac ?? '',
    DriverOpts: null,
    NetworkID: n.record.id,
    EndpointID: e === undefined || sandboxId === undefined ? '' : endpointId(sandboxId, n.record.id),
    Gateway: e?.gateway ?? '',
    IPAddress: e === undefined ? '' : addressOf(e.ipv4),
    IPPrefixLen: e === undefined ? 0 : prefixOf(e.ipv4),
    IPv6Gateway: '',
    GlobalIPv6Address: '',
    GlobalIPv6PrefixLen: 0,
    DNSNames: n.record.dns && e !== undefined ? [v.record.name, v.record.id.slice(0, 12), ...n.request.aliases] : null,
  };
}

function networksMap(v: ContainerView): Record<string, Record<string, unknown>> {
  const mode = v.options.run.network;
  if (mode === 'host' || mode === 'none') return { [mode]: { ...emptyEndpoint(), NetworkID: '' } };
  return Object.fromEntries(v.networks.map((n) => [n.record.name, endpointSettings(v, n)]));
}

function emptyEndpoint(): Record<string, unknown> {
  return { IPAMConfig: null, Links: null, Aliases: null, MacAddress: '', DriverOpts: null, EndpointID: '', Gateway: '', IPAddress: '', IPPrefixLen: 0, IPv6Gateway: '', GlobalIPv6Address: '', GlobalIPv6PrefixLen: 0, DNSNames: null };
}

export function networkSettings(v: ContainerView): Record<string, unknown> {
  // Docker fills the top-level address fields from the default bridge network only.
  const bridge = v.networks.find((n) => n.record.name === 'bridge');
  const e = bridge === undefined ? undefined : endpointOf(v, bridge.record.id);
  return {
    Bridge: '',
    SandboxID: v.sandbox?.id ?? '',
    SandboxKey: v.sandbox?.netns ?? '',
    Ports: ports(v),
    HairpinMode: false,
    LinkLocalIPv6Address: '',
    LinkLocalIPv6PrefixLen: 0,
    SecondaryIPAddresses: null,
    SecondaryIPv6Addresses: null,
    EndpointID: e === undefined || v.sandbox === undefined || bridge === undefined ? '' : endpointId(v.sandbox.id, bridge.record.id),
    Gateway: e?.gateway ?? '',
    GlobalIPv6Address: '',
    GlobalIPv6PrefixLen: 0,
    IPAddress: e === undefined ? '' : addressOf(e.ipv4),
    IPPrefixLen: e === undefined ? 0 : prefixOf(e.ipv4),
    IPv6Gateway: '',
    MacAddress: e?.mac ?? '',
    Networks: networksMap(v),
  };
}

/** HostConfig's network fields. */
export function hostConfigNetwork(v: ContainerView): Record<string, unknown> {
  const run = v.options.run;
  return {
    PortBindings: portBindings(v),
    PublishAllPorts: run.publishAll ?? false,
    Dns: run.dns ?? [],
    DnsSearch: run.dnsSearch ?? [],
    DnsOptions: run.dnsOptions ?? [],
    ExtraHosts: (run.extraHosts ?? []).length === 0 ? null : (run.extraHosts ?? []).map((h) => `${h.host}:${h.ip}`),
  };
}

/** ContainerSummary's Ports: published ones with their host side, exposed ones without. */
export function summaryPorts(v: ContainerView): Record<string, unknown>[] {
  const out: Record<string, unknown>[] = [];
  const seen = new Set<string>();
  for (const p of published(v)) {
    seen.add(`${p.containerPort}/${p.protocol}`);
    out.push({ IP: p.hostIp === '' ? '0.0.0.0' : p.hostIp, PrivatePort: p.containerPort, PublicPort: p.hostPort, Type: p.protocol });
  }
  for (const e of v.options.exposed ?? []) if (!seen.has(`${e.port}/${e.protocol}`)) out.push({ PrivatePort: e.port, Type: e.protocol });
  return out;
}

export function summaryNetworks(v: ContainerView): Record<string, unknown> {
  return { Networks: networksMap(v) };
}
