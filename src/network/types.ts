/**
 * The shapes the network layer's parts agree on: a network as its record
 * says (src/network/networks.ts keeps them), what the engine asks when it
 * attaches a container, and what an attachment gave. Kept apart so the
 * records, the CNI side and the engine import one definition.
 */

export type PortProtocol = 'tcp' | 'udp';

/** One `-p`: a host port (or range to pick from) forwarded to a container port. */
export interface PortRequest {
  /** '' for every address of the host. */
  hostIp: string;
  /** 0: any free port (from hostPortEnd's range when that is set). */
  hostPort: number;
  /** Set when the host side is a range to pick one port from: hostPort..hostPortEnd. */
  hostPortEnd?: number;
  containerPort: number;
  protocol: PortProtocol;
}

/** One bridged network: a row of engine_networks. */
export interface NetworkRecord {
  id: string;
  name: string;
  driver: 'bridge';
  /** The host's bridge interface (`berth0` for the default network). */
  bridge: string;
  /** IPv4 CIDR, e.g. "172.18.0.0/16". */
  subnet: string;
  /** The bridge's address on the host, inside subnet. */
  gateway: string;
  /** A CIDR inside subnet that addresses are handed out from, when narrower. */
  ipRange?: string;
  /** No way out: no NAT, no forwarding beyond the bridge. */
  internal: boolean;
  /** The embedded resolver answers this network's names (user networks; not the default, as docker). */
  dns: boolean;
  labels: Record<string, string>;
  /** Driver options as given (`com.docker.network.bridge.name`, `...driver.mtu`, ...). */
  options: Record<string, string>;
  /** RFC 3339. */
  created: string;
}

/** A host port held for a container: what `berth port` and Docker's Ports show. */
export interface PublishedPort {
  /** '' for every address. */
  hostIp: string;
  hostPort: number;
  containerPort: number;
  protocol: PortProtocol;
}

/** What the engine asks of one network for one container. */
export interface AttachRequest {
  network: NetworkRecord;
  containerId: string;
  /** The container's name: the resolver answers for it on user networks. */
  containerName: string;
  aliases: string[];
  ports: PortRequest[];
  ipv4Address?: string;
  macAddress?: string;
}

/** One attachment as CNI made it. */
export interface EndpointInfo {
  networkId: string;
  networkName: string;
  ifname: string;
  /** "172.18.0.2/16" */
  ipv4: string;
  gateway: string;
  mac: string;
  aliases: string[];
  ports: PublishedPort[];
}

export interface SandboxInfo {
  id: string;
  /** The namespace file the runtime joins (`linux.namespaces[].path`). */
  netns: string;
  endpoints: EndpointInfo[];
}
