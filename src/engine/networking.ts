/**
 * What the engine needs of the network layer (src/network/), and how a
 * container's options and records become its attachments. The engine
 * keeps what a container asks for (engine_container_networks); the layer
 * keeps what CNI made (sandboxes, endpoints, held host ports) and answers
 * for it after a crash. berthd hands the engine a NetworkLayer; an engine
 * without one runs `--network none|host|container:X` only and refuses the
 * rest by name.
 *
 * Start: acquire a sandbox (a pre-made one from the pool when the request
 * fits), attach every network, write hosts/resolv.conf, run the container
 * in the sandbox's namespace. Exit, stop, failed start, removal: release
 * it (the host ports go with it, as docker frees them at a stop).
 */
import { join } from 'node:path';
import type { ImageConfig } from '../oci/image-spec.ts';
import { notFound, unsupported } from '../errors.ts';
import type { AttachRequest, EndpointInfo, NetworkRecord, SandboxInfo } from '../network/types.ts';
import type { ContainerNetwork } from './store/container-networks.ts';
import { parseExpose, type ExposedPort, type PortRequest } from './spec/ports.ts';
import type { RunOptions } from './spec/options.ts';
import { networkKind, type ExtraHost } from './spec/network-options.ts';
import type { EtcInputs } from './etc-files.ts';

export interface NetworkLayer {
  /** By exact ID, exact name or unique ID prefix; a not-found BerthError naming it otherwise. */
  network(ref: string): NetworkRecord;
  /** The default network (`bridge`), made on first use. */
  defaultNetwork(): NetworkRecord;
  /** A sandbox attached to every requested network (the first gets the ports); on failure nothing is left. */
  acquire(containerId: string, requests: AttachRequest[]): Promise<SandboxInfo>;
  connect(containerId: string, request: AttachRequest): Promise<EndpointInfo>;
  disconnect(containerId: string, networkId: string): Promise<void>;
  /** Idempotent: nothing there is fine. */
  /** `recyclable`: the container could not have changed its namespace, which may then serve another (SandboxPool.giveBack). */
  release(containerId: string, how?: { recyclable?: boolean }): Promise<void>;
  sandboxOf(containerId: string): SandboxInfo | undefined;
  /** After a crash: what is not live, or half made, is deleted; live containers' host ports are held again. */
  recover(isLive: (containerId: string) => boolean): Promise<unknown>;
  /** Why the layer needs the daemon's process to go on (its pool refilling); undefined: it does not. */
  busy(): string | undefined;
  close(): Promise<void>;
}

export function requireLayer(layer: NetworkLayer | undefined, network: string): NetworkLayer {
  if (layer === undefined) {
    throw unsupported('run_network_unsupported', `--network ${JSON.stringify(network)}: this engine runs without a network layer (only none, host and container:X)`, {
      details: { flag: '--network', value: network },
    });
  }
  return layer;
}

/** The image's EXPOSE and `--expose`: what `-P` publishes and inspect's Config.ExposedPorts lists. */
export function exposedPorts(image: ImageConfig, options: RunOptions): ExposedPort[] {
  const out = new Map<string, ExposedPort>();
  for (const key of Object.keys(image.config?.ExposedPorts ?? {})) {
    for (const p of parseExpose(key, 'image config ExposedPorts')) out.set(`${p.port}/${p.protocol}`, p);
  }
  for (const p of options.expose ?? []) out.set(`${p.port}/${p.protocol}`, p);
  for (const p of options.ports ?? []) out.set(`${p.containerPort}/${p.protocol}`, { port: p.containerPort, protocol: p.protocol });
  return [...out.values()];
}

/** `-p` as given, then `-P`: every exposed port not published already, to a free host port. */
export function portsToPublish(options: RunOptions, exposed: readonly ExposedPort[]): PortRequest[] {
  const ports = [...(options.ports ?? [])];
  if (options.publishAll) {
    const taken = new Set(ports.map((p) => `${p.containerPort}/${p.protocol}`));
    for (const e of exposed) {
      if (!taken.has(`${e.port}/${e.protocol}`)) ports.push({ hostIp: '', hostPort: 0, containerPort: e.port, protocol: e.protocol });
    }
  }
  return ports;
}

/** One AttachRequest per network the container asks for, in order; the first gets the ports. */
export function attachRequests(
  layer: NetworkLayer,
  container: { id: string; name: string },
  rows: readonly ContainerNetwork[],
  ports: readonly PortRequest[],
): AttachRequest[] {
  return rows.map((row, i) => {
    let network: NetworkRecord;
    try {
      network = layer.network(row.networkId);
    } catch (err) {
      throw notFound('container_network_gone', `container "${container.name}": its network ${row.networkId.slice(0, 12)} no longer exists`, { cause: err });
    }
    return {
      network,
      containerId: container.id,
      containerName: container.name,
      aliases: row.aliases,
      ports: i === 0 ? [...ports] : [],
      ...(row.ipv4Address === undefined ? {} : { ipv4Address: row.ipv4Address }),
      ...(row.macAddress === undefined ? {} : { macAddress: row.macAddress }),
    };
  });
}

/** `--add-host NAME:host-gateway`: the host's address on the container's first network (docker's meaning). */
export function resolveExtraHosts(hosts: readonly ExtraHost[], gateway: string | undefined): ExtraHost[] {
  return hosts.map((h) => (h.ip === 'host-gateway' ? { host: h.host, ip: gateway ?? '127.0.0.1' } : h));
}

export const addressOf = (cidr: string): string => cidr.split('/')[0] ?? cidr;

/** What a start needs from its network: the namespace to join, and what hosts/resolv.conf say. */
export interface NetworkUp {
  /** Absent: the container gets a namespace of its own (none) or none at all (host). */
  netns?: string;
  sandbox?: SandboxInfo;
}

/** What hosts and resolv.conf say for a container attached through `sandbox` (its first endpoint first). */
export function networkFileInputs(run: RunOptions, sandbox: SandboxInfo, hasDns: (networkId: string) => boolean): EtcInputs {
  const first = sandbox.endpoints[0];
  // The resolver of the first network that has one (a user network), as docker's embedded DNS serves a container
  // started on the default bridge once it is connected to a user network.
  const resolving = sandbox.endpoints.find((e) => hasDns(e.networkId));
  return {
    network: run.network,
    addresses: sandbox.endpoints.map((e) => addressOf(e.ipv4)),
    ...(resolving !== undefined ? { resolver: resolving.gateway } : {}),
    extraHosts: resolveExtraHosts(run.extraHosts ?? [], first?.gateway),
    dns: run.dns ?? [],
    dnsSearch: run.dnsSearch ?? [],
    dnsOptions: run.dnsOptions ?? [],
  };
}

/** Whether a container with `--network MODE` joins a namespace made for it (a network's) or another container's. */
export function joinsNetns(network: string): boolean {
  const kind = networkKind(network).kind;
  return kind === 'network' || kind === 'container';
}

/** The link in a container's run dir that its spec names as its network namespace (each start points it anew). */
export const netnsLink = (runDir: string): string => join(runDir, 'netns');
