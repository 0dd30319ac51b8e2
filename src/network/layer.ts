/**
 * The network layer as the engine drives it (src/engine/networking.ts's
 * NetworkLayer): the network records (networks.ts), the CNI sandboxes
 * (sandboxes.ts), the pool of sandboxes ready on the default network
 * (pool.ts) and the embedded resolver of user networks (dns/), put
 * together once per daemon over the engine's database.
 *
 *   acquire   a pooled sandbox when the request fits (default network, no
 *             ports, no chosen address), else a new namespace attached to
 *             every network; on a failure nothing is left
 *   release   every endpoint deleted, host ports let go, namespace gone
 *   recover   at daemon start: what is not live is deleted, live
 *             containers' ports are held again, then the pool fills and
 *             the resolver listens on the user networks in use
 *
 * The resolver answers on a network's gateway for the names of the
 * containers attached to it (name, aliases, short ID), only to addresses of
 * that network, and forwards the rest to the host's resolvers.
 */
import { readFileSync } from 'node:fs';
import type { DatabaseSync } from 'node:sqlite';
import { describeError, notFound } from '../errors.ts';
import { contains4, parseCidr4, parseIp4 } from './cni/ipv4.ts';
import { DnsService, hostUpstreams, type ResolverZone } from './dns/index.ts';
import { NetworkStore } from './networks.ts';
import { SandboxPool } from './pool.ts';
import { socketsIn } from './netns.ts';
import { Sandboxes, type NetworkEndpoint, type NetworkLog, type RecoverReport } from './sandboxes.ts';
import type { AttachRequest, EndpointInfo, NetworkRecord, SandboxInfo } from './types.ts';

export interface NetworkLayerOptions {
  root: string;
  runRoot: string;
  pluginDir?: string;
  /** Sandboxes kept ready on the default network; 0 disables the pool. */
  poolSize?: number;
  /** The resolver's port on each gateway (53; tests may not want to take it). */
  dnsPort?: number;
  /** The default network's bridge and address, when it is first made (dockerd's --bridge, --bip). */
  defaultBridge?: string;
  defaultBip?: string;
  /** recover() keeps the pool's whole sandboxes: this daemon slept, it did not crash (src/api/sleep.ts). */
  keepPooled?: boolean;
  log?: NetworkLog;
}

const addressOf = (cidr: string): string => cidr.split('/')[0] ?? cidr;

export class NetworkLayer {
  readonly networks: NetworkStore;
  readonly sandboxes: Sandboxes;
  readonly dns: DnsService;
  private pool: SandboxPool | undefined;
  /** A container's own name servers (its --dns): where the resolver forwards what it asks (set by berthd once the engine is open). */
  containerDns: ((containerId: string) => readonly string[]) | undefined;
  private readonly poolSize: number;
  private readonly keepPooled: boolean;
  private readonly dnsPort: number;
  private readonly log: NetworkLog | undefined;

  constructor(db: DatabaseSync, options: NetworkLayerOptions) {
    this.log = options.log;
    this.sandboxes = new Sandboxes(db, { root: options.root, runRoot: options.runRoot }, {
      ...(options.pluginDir === undefined ? {} : { pluginDir: options.pluginDir }),
      ...(options.log === undefined ? {} : { log: options.log }),
    });
    this.networks = new NetworkStore(db, {
      onRemove: (record) => this.forget(record),
      ...(options.defaultBridge === undefined ? {} : { defaultBridge: options.defaultBridge }),
      ...(options.defaultBip === undefined ? {} : { defaultBip: options.defaultBip }),
    });
    this.poolSize = options.poolSize ?? 0;
    this.keepPooled = options.keepPooled === true && this.poolSize > 0;
    this.dnsPort = options.dnsPort ?? 53;
    this.dns = DnsService.create({
      zone: this.zone(),
      upstreams: hostUpstreams(readHostResolvConf()),
      log: (event, fields) => this.log?.debug(event, fields),
    });
  }

  network(ref: string): NetworkRecord {
    return this.networks.get(ref);
  }

  defaultNetwork(): NetworkRecord {
    return this.networks.ensureDefault();
  }

  async acquire(containerId: string, requests: AttachRequest[]): Promise<SandboxInfo> {
    const [only] = requests;
    if (requests.length === 1 && only !== undefined && this.pool !== undefined) {
      const taken = this.pool.take(containerId, only);
      if (taken !== undefined) return taken;
    }
    const box = await this.sandboxes.create(containerId);
    try {
      for (const req of requests) {
        await this.sandboxes.attach(box.id, req);
        await this.listenFor(req.network);
      }
    } catch (err) {
      await this.sandboxes.release(box.id).catch((cleanupErr: unknown) => this.log?.warn('sandbox not released after a failed attach', { err: describeError(cleanupErr) }));
      throw err;
    }
    return this.sandboxes.get(box.id) ?? box;
  }

  async connect(containerId: string, request: AttachRequest): Promise<EndpointInfo> {
    const box = this.mustHave(containerId);
    const endpoint = await this.sandboxes.attach(box.id, request);
    await this.listenFor(request.network);
    return endpoint;
  }

  async disconnect(containerId: string, networkId: string): Promise<void> {
    await this.sandboxes.detach(this.mustHave(containerId).id, networkId);
  }

  /** `recyclable`: the engine vouches the container could not have changed its namespace (SandboxPool.giveBack). */
  async release(containerId: string, how: { recyclable?: boolean } = {}): Promise<void> {
    const box = this.sandboxes.ofContainer(containerId);
    if (box === undefined) return;
    if (how.recyclable === true && this.pool !== undefined) {
      const given = await this.pool.giveBack(box, containerId, socketsIn).catch((err: unknown) => {
        this.log?.warn('network pool: a sandbox could not be given back, it is released', { sandbox: box.id, err: describeError(err) });
        return false;
      });
      if (given) return;
    }
    await this.sandboxes.release(box.id);
  }

  sandboxOf(containerId: string): SandboxInfo | undefined {
    return this.sandboxes.ofContainer(containerId);
  }

  async recover(isLive: (containerId: string) => boolean): Promise<RecoverReport> {
    const report = await this.sandboxes.recover(isLive, { keepPooled: this.keepPooled });
    for (const n of this.networks.list()) {
      if (n.dns && this.sandboxes.endpointsOfNetwork(n.id).length > 0) await this.listenFor(n);
    }
    if (this.poolSize > 0) {
      this.pool = new SandboxPool(this.sandboxes, this.defaultNetwork(), { size: this.poolSize, ...(this.log === undefined ? {} : { log: this.log }) });
      this.pool.start();
    }
    return report;
  }

  /** Why the layer needs this process to go on (the pool's refill under way); undefined: it does not. */
  busy(): string | undefined {
    return this.pool?.refilling === true ? 'the network pool is refilling' : undefined;
  }

  /** For tests and benchmarks: resolves once the pool's refill is done. */
  async poolSettled(): Promise<void> {
    await this.pool?.settled();
  }

  async close(): Promise<void> {
    await this.pool?.close();
    await this.dns.close();
    await this.sandboxes.close();
  }

  private mustHave(containerId: string): SandboxInfo {
    const box = this.sandboxes.ofContainer(containerId);
    if (box === undefined) throw notFound('sandbox_not_found', `container ${containerId.slice(0, 12)}: has no network sandbox (it is not running)`);
    return box;
  }

  /** The resolver on a user network's gateway, once its bridge exists (after the first attach). */
  private async listenFor(network: NetworkRecord): Promise<void> {
    if (!network.dns) return;
    try {
      await this.dns.listen(network.gateway, this.dnsPort);
    } catch (err) {
      // Names will not resolve on this network; the container still runs, as docker's does without its resolver.
      this.log?.warn('the embedded resolver cannot listen on a network', { network: network.name, gateway: network.gateway, err: describeError(err) });
    }
  }

  /** A network's record goes: its resolver, isolation rules, bridge and IPAM directory go with it. */
  private async forget(record: NetworkRecord): Promise<void> {
    await this.dns.unlisten(record.gateway);
    await this.sandboxes.removeNetwork(record);
  }

  private zone(): ResolverZone {
    const networksAt = (local: string): NetworkRecord[] => this.networks.list().filter((n) => n.dns && n.gateway === local);
    const attached = (n: NetworkRecord): NetworkEndpoint[] => this.sandboxes.endpointsOfNetwork(n.id).filter((e) => e.containerId !== null);
    const names = (e: NetworkEndpoint): string[] => [e.containerName ?? '', (e.containerId ?? '').slice(0, 12), ...e.aliases].filter((s) => s !== '').map((s) => s.toLowerCase());
    return {
      lookup: (local, name) => {
        const ipv4 = networksAt(local).flatMap((n) => attached(n).filter((e) => names(e).includes(name)).map((e) => addressOf(e.ipv4)));
        return ipv4.length === 0 ? undefined : { ipv4 };
      },
      reverse: (local, ip) => {
        const found = networksAt(local).flatMap((n) => attached(n).filter((e) => addressOf(e.ipv4) === ip).flatMap((e) => (e.containerName === null ? [] : [e.containerName])));
        return found.length === 0 ? undefined : found;
      },
      upstreams: (local, source) => {
        const asker = networksAt(local).flatMap((n) => attached(n)).find((e) => addressOf(e.ipv4) === source);
        return asker?.containerId === null || asker === undefined ? undefined : this.containerDns?.(asker.containerId);
      },
      allowed: (local, source) => {
        const ip = parseIp4(source);
        return ip !== undefined && networksAt(local).some((n) => {
          const c = parseCidr4(n.subnet);
          return c !== undefined && contains4(c, ip);
        });
      },
    };
  }
}

function readHostResolvConf(): string {
  try {
    return readFileSync('/etc/resolv.conf', 'utf8');
  } catch {
    return '';
  }
}
