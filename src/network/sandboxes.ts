/**
 * Sandboxes: a container's network namespace and its CNI attachments, kept
 * in engine_sandboxes / engine_endpoints (schema in src/engine/store/db.ts).
 *
 *   const sb = new Sandboxes(db, { root, runRoot }, { log });
 *   await sb.recover((id) => engine.isLive(id));        // once, at daemon start
 *   const box = await sb.create(containerId);           // netns at RUNROOT/netns/<box.id>, lo up
 *   const ep = await sb.attach(box.id, request);        // CNI ADD; ports held first
 *   // spec: linux.namespaces[{ type: 'network', path: box.netns }]
 *   await sb.detach(box.id, networkId);                 // `network disconnect`
 *   await sb.release(box.id);                           // rm / failed start: DEL all, netns gone, rows gone
 *
 * Every step writes its row first (sandbox `creating`, endpoint `adding`
 * with the exact conflist and capability args) and the resource second, so
 * a crash leaves only what the database names, and recover() runs DEL for
 * exactly that. DEL runs the stored configuration with the ADD's stored
 * result, in reverse order of attachment; plugins tolerate state that is
 * already gone (spec: DEL must), so release() is idempotent. A DEL that
 * fails for real keeps its row (`removing`) so the next release or
 * recover tries again, and the error is thrown after the rest is done.
 *
 * Published ports are held as sockets in this process (ports.ts) from
 * before the ADD until the endpoint is gone; recover() holds those of live
 * containers again.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { DatabaseSync } from 'node:sqlite';
import { checkPortClashes } from './port-requests.ts';
import { isUniqueViolation } from '../sqlite.ts';
import { alreadyExists, failedPrecondition, internal, notFound, withCleanupError } from '../errors.ts';
import { addChain, asError, checkChain, delChain, parseConflist, type ChainContext } from './cni/chain.ts';
import { buildConflist, CNI_VERSION, ipamDir, runtimeConfigFor, type Conflist, type RuntimeConfig } from './cni/conflist.ts';
import { DEFAULT_PLUGIN_TIMEOUT_MS } from './cni/exec.ts';
import { readLeases } from './cni/leases.ts';
import { containerSide, parseResult, type CniResult } from './cni/result.ts';
import { ensureNetworkRules, removeNetworkRules } from './firewall.ts';
import { deleteLink } from './link.ts';
import { createNetns, listNetns, netnsDir, removeNetns } from './netns.ts';
import { holdPorts, holdPublished, releasePorts, type HeldPort } from './ports.ts';
import { SandboxStore, type EndpointRow, type SandboxRow } from './sandbox-store.ts';
import type { AttachRequest, EndpointInfo, NetworkRecord, SandboxInfo } from './types.ts';

export interface SandboxPaths {
  /** berth's state root: IPAM leases live under ROOT/network/ipam. */
  root: string;
  /** berth's run root: namespaces are pinned under RUNROOT/netns. */
  runRoot: string;
}

/** What the network layer reports; berthd's Logger fits. */
export interface NetworkLog {
  warn(msg: string, fields?: Readonly<Record<string, unknown>>): void;
  debug(msg: string, fields?: Readonly<Record<string, unknown>>): void;
}

export interface SandboxesOptions {
  pluginDir?: string;
  /** Per plugin call. */
  timeoutMs?: number;
  log?: NetworkLog;
}

export interface RecoverReport {
  /** Sandboxes of live containers kept (their ports held again). */
  kept: number;
  /** Sandboxes released: half made, of dead containers, or pooled. */
  released: number;
  /** Endpoints half added or half removed on kept sandboxes, deleted. */
  endpointsDeleted: number;
  /** Namespace files under RUNROOT/netns no row named, removed. */
  swept: number;
  /** Failures (each also logged); what failed keeps its row for the next try. */
  errors: unknown[];
}

/** An endpoint with its sandbox and container: what the resolver and inspect read. */
export interface NetworkEndpoint extends EndpointInfo {
  sandboxId: string;
  /** null while the sandbox waits in the pool. */
  containerId: string | null;
  containerName: string | null;
}

const quiet: NetworkLog = { warn: () => undefined, debug: () => undefined };

const LOOPBACK: Conflist = { cniVersion: CNI_VERSION, name: 'berth-loopback', plugins: [{ type: 'loopback' }] };

export class Sandboxes {
  readonly pluginDir: string;
  readonly netnsDir: string;
  readonly ipamDir: string;
  private readonly store: SandboxStore;
  private readonly root: string;
  private readonly timeoutMs: number;
  private readonly log: NetworkLog;
  /** Host ports held per sandbox, per network. */
  private readonly held = new Map<string, Map<string, HeldPort[]>>();
  /** Networks whose isolation rules this process has made sure of. */
  private readonly fenced = new Set<string>();

  constructor(db: DatabaseSync, paths: SandboxPaths, options: SandboxesOptions = {}) {
    this.store = new SandboxStore(db);
    this.root = paths.root;
    this.pluginDir = options.pluginDir ?? '/usr/lib/cni';
    this.timeoutMs = options.timeoutMs ?? DEFAULT_PLUGIN_TIMEOUT_MS;
    this.log = options.log ?? quiet;
    this.netnsDir = netnsDir(paths.runRoot);
    this.ipamDir = ipamDir(paths.root);
  }

  /** A new namespace with `lo` up, for a container (or for the pool: null). */
  async create(containerId: string | null): Promise<SandboxInfo> {
    const id = randomBytes(32).toString('hex');
    const netns = join(this.netnsDir, id);
    this.store.insertSandbox(id, netns, containerId);
    try {
      await createNetns(netns);
      await addChain(this.ctx(id, netns, 'lo', 'loopback'), LOOPBACK, {});
      this.store.setSandboxState(id, 'ready');
    } catch (err) {
      try {
        await removeNetns(netns);
        this.store.deleteSandbox(id);
      } catch (cleanupErr) {
        throw withCleanupError(err, cleanupErr);
      }
      throw err;
    }
    return { id, netns, endpoints: [] };
  }

  /**
   * Attaches a sandbox to a network: host ports held, the endpoint row
   * written (`adding`), the CNI ADD run, the row `attached` with what it gave.
   * On a failure nothing of it is left: DEL runs, the ports are let go.
   */
  async attach(sandboxId: string, req: AttachRequest): Promise<EndpointInfo> {
    const box = this.readySandbox(sandboxId);
    const record = req.network;
    if (this.store.endpoint(sandboxId, record.id) !== undefined) {
      throw alreadyExists('endpoint_exists', `sandbox ${short(sandboxId)}: already attached to network "${record.name}"`);
    }
    checkPortClashes(req.ports);
    const first = this.store.endpoints(sandboxId).length === 0;
    const conflist = buildConflist(record, this.root, { ports: req.ports.length > 0, mac: req.macAddress !== undefined, defaultRoute: first });
    const held = await holdPorts(req.ports);
    const ports = held.map((h) => h.port);
    let runtime: RuntimeConfig;
    try {
      runtime = runtimeConfigFor(record, req, ports);
    } catch (err) {
      await releasePorts(held);
      throw err;
    }
    const ifname = this.nextIfname(sandboxId);
    try {
      this.store.insertEndpoint(sandboxId, record.id, ifname, JSON.stringify(conflist), JSON.stringify(runtime), req.aliases);
    } catch (err) {
      await releasePorts(held);
      if (!isUniqueViolation(err)) throw err;
      throw alreadyExists('endpoint_exists', `sandbox ${short(sandboxId)}: already attached to network "${record.name}" (or attaching)`, { cause: err });
    }
    const ctx = this.ctx(sandboxId, box.netns, ifname, record.name);
    let result: CniResult | undefined;
    let side: ReturnType<typeof containerSide>;
    try {
      result = await addChain(ctx, conflist, runtime);
      side = containerSide(result, ifname);
      if (side === undefined) throw internal('cni_result_invalid', `network "${record.name}": the CNI result names no IPv4 address for ${ifname}`);
      await this.fence(record);
    } catch (err) {
      try {
        // The chain's own result when it finished (the fence failed), else what host-local had leased.
        await delChain(ctx, conflist, runtime, result ?? this.leaseResult(conflist, sandboxId, ifname, box.netns));
        this.store.deleteEndpoint(sandboxId, record.id);
      } catch (cleanupErr) {
        withCleanupError(err, cleanupErr);
      }
      await releasePorts(held);
      throw err;
    }
    this.store.endpointAttached(sandboxId, record.id, JSON.stringify(result), side.ipv4, side.mac, ports);
    this.holdFor(sandboxId, record.id, held);
    return { networkId: record.id, networkName: record.name, ifname, ipv4: side.ipv4, gateway: side.gateway, mac: side.mac, aliases: [...req.aliases], ports };
  }

  /** Detaches one network: DEL with the ADD's result, its ports let go, its row gone. Absent: nothing to do. */
  async detach(sandboxId: string, networkId: string): Promise<void> {
    const row = this.store.endpoint(sandboxId, networkId);
    const box = this.store.sandbox(sandboxId);
    if (row === undefined || box === undefined) return;
    await this.deleteEndpoint(box, row);
  }

  /**
   * CNI CHECK of every attached endpoint (spec: the plugins verify what their
   * ADD made is still there). portmap is left out: its CHECK (plugins 1.1.1)
   * also checks an IPv6 DNAT chain it never makes for an IPv4-only endpoint
   * and so always fails.
   */
  async check(sandboxId: string): Promise<void> {
    const box = this.readySandbox(sandboxId);
    for (const row of this.store.endpoints(sandboxId)) {
      if (row.state !== 'attached' || row.result === null) continue;
      const stored = parseConflist(JSON.parse(row.config));
      const conflist = { ...stored, plugins: stored.plugins.filter((p) => p.type !== 'portmap') };
      const runtime = JSON.parse(row.runtimeConfig) as RuntimeConfig;
      await checkChain(this.ctx(box.id, box.netns, row.ifname, row.networkName), conflist, runtime, parseResult('stored', JSON.parse(row.result)));
    }
  }

  /** Releases a sandbox and all it holds; a sandbox already gone is fine. */
  async release(sandboxId: string): Promise<void> {
    const box = this.store.sandbox(sandboxId);
    if (box === undefined) return;
    this.store.setSandboxState(sandboxId, 'removing');
    let first: Error | undefined;
    for (const row of this.store.endpoints(sandboxId).reverse()) {
      try {
        await this.deleteEndpoint(box, row);
      } catch (err) {
        first ??= asError(err);
      }
    }
    this.held.delete(sandboxId);
    // A failed DEL keeps its row and the namespace: the next release or recover runs it again.
    if (first !== undefined) throw first;
    await removeNetns(box.netns);
    this.store.deleteSandbox(sandboxId);
  }

  /** A pooled sandbox given to a container, with the container's aliases on its endpoint; false when taken already. */
  assign(sandboxId: string, containerId: string, networkId: string, aliases: readonly string[]): boolean {
    return this.store.assign(sandboxId, containerId, networkId, aliases);
  }

  /** A container's sandbox back to the pool (pool.ts giveBack); false when it is not the container's. */
  unassign(sandboxId: string, containerId: string): boolean {
    return this.store.unassign(sandboxId, containerId);
  }

  get(sandboxId: string): SandboxInfo | undefined {
    const box = this.store.sandbox(sandboxId);
    return box === undefined ? undefined : this.info(box);
  }

  /** The sandbox of a container (inspect, `berth port`, the runtime spec's netns path). */
  ofContainer(containerId: string): SandboxInfo | undefined {
    const box = this.store.sandboxOfContainer(containerId);
    return box === undefined ? undefined : this.info(box);
  }

  /** Attached endpoints of a network, with their containers: the resolver's names, inspect's Containers. */
  endpointsOfNetwork(networkId: string): NetworkEndpoint[] {
    return this.store.endpointsOfNetwork(networkId).map((r) => ({ ...endpointInfo(r), sandboxId: r.sandboxId, containerId: r.containerId, containerName: r.containerName }));
  }

  /** Pool sandboxes ready on a network (pool.ts). */
  pooled(networkId: string): string[] {
    return this.store.pooled(networkId).map((b) => b.id);
  }

  /**
   * At daemon start: DEL and remove what a crash left half made, what
   * belongs to containers no longer live and the pool's sandboxes (the pool
   * is cheap to fill again, and proving an old one sound would cost a CNI
   * CHECK per plugin, as much as making it anew); hold the ports of live
   * containers again; then remove namespace files under RUNROOT/netns that
   * no row names.
   */
  async recover(isLive: (containerId: string) => boolean, how: { keepPooled?: boolean } = {}): Promise<RecoverReport> {
    const report: RecoverReport = { kept: 0, released: 0, endpointsDeleted: 0, swept: 0, errors: [] };
    this.fenced.clear();
    const failed = (what: string, err: unknown): void => {
      report.errors.push(err);
      this.log.warn(`network recovery: ${what}`, { error: err });
    };
    for (const box of this.store.sandboxes()) {
      // A pool's sandbox is kept only after a sleep (a clean hand-over), whole: its namespace there, every endpoint attached.
      const keep =
        box.state === 'ready' &&
        (box.containerId !== null
          ? isLive(box.containerId)
          : how.keepPooled === true && existsSync(box.netns) && this.store.endpoints(box.id).every((e) => e.state === 'attached'));
      if (!keep) {
        try {
          await this.release(box.id);
          report.released++;
        } catch (err) {
          failed(`sandbox ${short(box.id)}: release`, err);
        }
        continue;
      }
      report.kept++;
      for (const row of this.store.endpoints(box.id)) {
        if (row.state !== 'attached') {
          try {
            await this.deleteEndpoint(box, row);
            report.endpointsDeleted++;
          } catch (err) {
            failed(`sandbox ${short(box.id)}: network "${row.networkName}": DEL`, err);
          }
          continue;
        }
        if (row.ports.length === 0 || this.held.get(box.id)?.has(row.networkId) === true) continue;
        try {
          this.holdFor(box.id, row.networkId, await holdPublished(row.ports));
        } catch (err) {
          // The DNAT still forwards; only the guard against another process taking the port is missing.
          failed(`container ${short(box.containerId ?? '')}: holding its published ports again`, err);
        }
      }
    }
    report.swept = await this.sweep();
    return report;
  }

  /** Removes namespace files under RUNROOT/netns that no row names (never anything elsewhere). */
  async sweep(): Promise<number> {
    const named = new Set(this.store.sandboxes().map((b) => b.netns));
    let swept = 0;
    for (const name of listNetns(this.netnsDir)) {
      const path = join(this.netnsDir, name);
      if (named.has(path)) continue;
      await removeNetns(path);
      this.log.debug('network recovery: removed an orphan namespace', { path });
      swept++;
    }
    return swept;
  }

  /**
   * What a network leaves on the host once no endpoint uses it (network rm,
   * called after its record is gone or about to go): its isolation rules,
   * its bridge interface and its IPAM directory. Refused while an endpoint
   * of it exists. Idempotent.
   */
  async removeNetwork(record: NetworkRecord): Promise<void> {
    const used = this.store.endpointCount(record.id);
    if (used > 0) throw failedPrecondition('network_has_endpoints', `network "${record.name}": ${used} endpoint(s) still attached`);
    await removeNetworkRules(record);
    for (const key of [...this.fenced]) if (key.startsWith(`${record.id}|`)) this.fenced.delete(key);
    await deleteLink(record.bridge);
    rmSync(join(this.ipamDir, record.id), { recursive: true, force: true });
  }

  /** Lets go of every held port (daemon shutdown: the containers and their DNAT stay; recover holds them again). */
  async close(): Promise<void> {
    const all = [...this.held.values()].flatMap((m) => [...m.values()].flat());
    this.held.clear();
    await releasePorts(all);
  }

  private async deleteEndpoint(box: SandboxRow, row: EndpointRow): Promise<void> {
    const conflist = parseConflist(JSON.parse(row.config));
    const runtime = JSON.parse(row.runtimeConfig) as RuntimeConfig;
    const result = row.result === null ? this.leaseResult(conflist, box.id, row.ifname, box.netns) : parseResult('stored', JSON.parse(row.result));
    this.store.setEndpointState(box.id, row.networkId, 'removing');
    await delChain(this.ctx(box.id, box.netns, row.ifname, row.networkName), conflist, runtime, result);
    this.store.deleteEndpoint(box.id, row.networkId);
    const ports = this.held.get(box.id);
    const held = ports?.get(row.networkId);
    ports?.delete(row.networkId);
    if (held !== undefined) await releasePorts(held);
  }

  /**
   * The result an ADD interrupted before it finished would have had, from
   * host-local's lease: without it the firewall plugin's DEL would not know
   * which address its rules are for.
   */
  private leaseResult(conflist: Conflist, sandboxId: string, ifname: string, netns: string): CniResult | undefined {
    const lease = readLeases(this.ipamDir, conflist.name).find((l) => l.containerId === sandboxId && l.ifname === ifname);
    if (lease === undefined) return undefined;
    const ipam = conflist.plugins[0]?.['ipam'] as { ranges?: { subnet?: string }[][] } | undefined;
    const prefix = ipam?.ranges?.[0]?.[0]?.subnet?.split('/')[1] ?? '32';
    return { cniVersion: conflist.cniVersion, interfaces: [{ name: ifname, sandbox: netns }], ips: [{ address: `${lease.ip}/${prefix}`, interface: 0 }], routes: [] };
  }

  private async fence(record: NetworkRecord): Promise<void> {
    const key = `${record.id}|${record.bridge}|${record.subnet}|${record.internal}`;
    if (this.fenced.has(key)) return;
    await ensureNetworkRules(record);
    this.fenced.add(key);
  }

  private holdFor(sandboxId: string, networkId: string, held: HeldPort[]): void {
    if (held.length === 0) return;
    let m = this.held.get(sandboxId);
    if (m === undefined) {
      m = new Map();
      this.held.set(sandboxId, m);
    }
    m.set(networkId, held);
  }

  private readySandbox(sandboxId: string): SandboxRow {
    const box = this.store.sandbox(sandboxId);
    if (box === undefined) throw notFound('sandbox_not_found', `sandbox ${short(sandboxId)}: not found`);
    if (box.state !== 'ready') throw failedPrecondition('sandbox_not_ready', `sandbox ${short(sandboxId)}: ${box.state}, not ready`);
    return box;
  }

  private nextIfname(sandboxId: string): string {
    const used = new Set(this.store.endpoints(sandboxId).map((e) => e.ifname));
    let n = 0;
    while (used.has(`eth${n}`)) n++;
    return `eth${n}`;
  }

  private ctx(containerId: string, netns: string, ifname: string, networkName: string): ChainContext {
    return { pluginDir: this.pluginDir, containerId, netns, ifname, networkName, timeoutMs: this.timeoutMs };
  }

  private info(box: SandboxRow): SandboxInfo {
    return { id: box.id, netns: box.netns, endpoints: this.store.endpoints(box.id).filter((e) => e.state === 'attached').map(endpointInfo) };
  }
}

function endpointInfo(r: EndpointRow): EndpointInfo {
  let gateway = '';
  if (r.result !== null) {
    const result = parseResult('stored', JSON.parse(r.result));
    gateway = containerSide(result, r.ifname)?.gateway ?? '';
  }
  return { networkId: r.networkId, networkName: r.networkName, ifname: r.ifname, ipv4: r.ipv4 ?? '', gateway, mac: r.mac ?? '', aliases: r.aliases, ports: r.ports };
}

function short(id: string): string {
  return id.slice(0, 12);
}
