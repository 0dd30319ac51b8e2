/**
 * Networks as records: rows of engine_networks (schema in
 * src/engine/store/db.ts), kept over the engine's database. A record is
 * what a network is; its bridge and rules are made by the CNI bridge
 * plugin at the first attachment (src/network/cni), so creating a network
 * makes no interface, as podman's networks.
 *
 * Docker's rules: the default network is named `bridge` (its bridge
 * `berth0`, no embedded DNS, as docker's default bridge) and can be neither
 * created nor removed, nor can `host`, `none` or `default`; names are
 * unique; a reference resolves as dockerd's FindNetwork (the full ID, then
 * the exact name, then an ID prefix; two matches is an error); a network a
 * container names (engine_container_networks) or one with an endpoint
 * (engine_endpoints) cannot be removed. Subnets come from docker's default
 * pools unless given (src/network/subnets.ts).
 *
 * Each change is one transaction: a network is whole or absent.
 */
import { createHash, randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import type { DatabaseSync, StatementSync } from 'node:sqlite';
import { labelMatches, untilMs } from '../docker-filters.ts';
import { alreadyExists, failedPrecondition, invalidArgument, isBerthError, notFound, unsupported } from '../errors.ts';
import { inTransaction, isUniqueViolation } from '../sqlite.ts';
import { parseStoredLabels, storedInt, storedOptionalString, storedString } from '../sqlite-row.ts';
import { allocateSubnet, checkSubnet, formatIpv4, hostNetworks, overlaps, parseCidr, parseIpv4, type Cidr, type SubnetPlan } from './subnets.ts';
import { buildConflist, MTU_OPTION } from './cni/conflist.ts';
import type { NetworkRecord } from './types.ts';

export const DEFAULT_NETWORK = 'bridge';
export const DEFAULT_BRIDGE = 'berth0';
/** Names docker keeps for its own networks (runconfig.IsPreDefinedNetwork): never created or removed by a user. */
export const PREDEFINED_NETWORKS: readonly string[] = ['bridge', 'host', 'none', 'default'];
/** The driver option naming the host bridge, as docker's. */
export const BRIDGE_NAME_OPTION = 'com.docker.network.bridge.name';
const SUPPORTED_OPTIONS = new Set([BRIDGE_NAME_OPTION, MTU_OPTION]);

const NAME = /^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/;
const MAX_NAME = 255;
const IFNAME = /^[a-zA-Z0-9_.-]{1,15}$/;

export interface CreateNetwork {
  name: string;
  /** '' or 'bridge'. */
  driver?: string;
  subnet?: string;
  gateway?: string;
  ipRange?: string;
  internal?: boolean;
  labels?: Record<string, string>;
  options?: Record<string, string>;
  /** docker's CheckDuplicate: names are always unique here (dockerd ≥ 25 does the same), so it changes nothing. */
  checkDuplicate?: boolean;
}

/** Docker's network filters: dangling, driver, id, label, name, scope, type (values OR'ed within a key, keys AND'ed). */
export type NetworkFilters = ReadonlyMap<string, readonly string[]>;

/** One attachment of a container, as inspect's Containers shows it. */
export interface NetworkEndpoint {
  containerId: string;
  containerName: string;
  endpointId: string;
  /** "172.18.0.2/16". */
  ipv4: string;
  mac: string;
}

export interface NetworkStoreOptions {
  /** The host's routes and addresses a new subnet must not overlap (default: read from /proc/net). */
  hostNetworks?: () => readonly Cidr[];
  /** Whether a host interface of that name exists (a bridge name given by option must not take one). */
  interfaceExists?: (name: string) => boolean;
  /** Called before a record is deleted, to remove what the network made on the host (the CNI side's removeNetworkRules). */
  onRemove?: (record: NetworkRecord) => void | Promise<void>;
  /** The default network's bridge (dockerd's --bridge; default berth0), when it is first made. */
  defaultBridge?: string;
  /** The default network's gateway with its prefix (dockerd's --bip, e.g. "172.17.0.1/16"), when it is first made. */
  defaultBip?: string;
}

const LIST_FILTERS = new Set(['dangling', 'driver', 'id', 'label', 'name', 'scope', 'type']);
const PRUNE_FILTERS = new Set(['until', 'label', 'label!']);

export class NetworkStore {
  readonly db: DatabaseSync;
  private readonly hostNetworks: () => readonly Cidr[];
  private readonly interfaceExists: (name: string) => boolean;
  private readonly onRemove: ((record: NetworkRecord) => void | Promise<void>) | undefined;
  private readonly defaultBridge: string;
  private byIdStatement: StatementSync | undefined;
  private readonly defaultBip: string | undefined;

  constructor(db: DatabaseSync, options: NetworkStoreOptions = {}) {
    this.db = db;
    this.hostNetworks = options.hostNetworks ?? hostNetworks;
    this.interfaceExists = options.interfaceExists ?? ((name) => existsSync(`/sys/class/net/${name}`));
    this.onRemove = options.onRemove;
    this.defaultBridge = options.defaultBridge ?? DEFAULT_BRIDGE;
    this.defaultBip = options.defaultBip;
  }

  /** The default network, made the first time: 172.17.0.0/16 unless the host uses it, then the next free default pool. */
  ensureDefault(): NetworkRecord {
    // Read first: every create on the default network asks, and the write lock is only for the first.
    const made = this.byName(DEFAULT_NETWORK);
    if (made !== undefined) return made;
    return inTransaction(this.db, () => {
      const existing = this.byName(DEFAULT_NETWORK);
      if (existing !== undefined) return existing;
      const plan = this.defaultBip === undefined ? this.allocate(DEFAULT_NETWORK) : bipPlan(this.defaultBip);
      return this.insert({
        id: newNetworkId(),
        name: DEFAULT_NETWORK,
        driver: 'bridge',
        bridge: this.defaultBridge,
        ...plan,
        internal: false,
        dns: false,
        labels: {},
        options: { 'com.docker.network.bridge.default_bridge': 'true', [BRIDGE_NAME_OPTION]: this.defaultBridge },
        created: new Date().toISOString(),
      });
    });
  }

  create(input: CreateNetwork): NetworkRecord {
    const name = checkNetworkName(input.name);
    const driver = input.driver === undefined || input.driver === '' ? 'bridge' : input.driver;
    if (driver !== 'bridge') {
      throw unsupported('network_driver_unsupported', `network "${name}": driver "${driver}" is not supported (only "bridge")`, { details: { field: 'driver', value: driver } });
    }
    const options = input.options ?? {};
    for (const key of Object.keys(options)) {
      if (!SUPPORTED_OPTIONS.has(key)) {
        throw invalidArgument('network_option_invalid', `network "${name}": driver option "${key}" is not supported (berth takes ${[...SUPPORTED_OPTIONS].join(', ')})`, { details: { field: 'options', value: key } });
      }
    }
    if (input.subnet === undefined || input.subnet === '') {
      for (const [field, value] of [['gateway', input.gateway], ['ip-range', input.ipRange]] as const) {
        if (value !== undefined && value !== '') {
          throw invalidArgument('network_subnet_invalid', `network "${name}": ${field} ${value} given without a subnet`, { details: { field, value } });
        }
      }
    }
    const given = input.subnet === undefined || input.subnet === '' ? undefined : checkSubnet({ subnet: input.subnet, gateway: input.gateway, ipRange: input.ipRange });
    const id = newNetworkId();
    const bridge = options[BRIDGE_NAME_OPTION] ?? `berth-${id.slice(0, 9)}`;
    if (options[BRIDGE_NAME_OPTION] !== undefined) this.checkBridgeName(name, bridge);
    return inTransaction(this.db, () => {
      if (this.byName(name) !== undefined) throw alreadyExists('network_exists', `network with name ${name} already exists`, { details: { name } });
      const plan = given === undefined ? this.allocate(name) : this.checkFree(name, given);
      const record: NetworkRecord = {
        id,
        name,
        driver: 'bridge',
        bridge,
        ...plan,
        internal: input.internal === true,
        dns: true,
        labels: input.labels ?? {},
        options,
        created: new Date().toISOString(),
      };
      // What the CNI side would refuse at the first attach (an MTU out of range) is refused now, before the record exists.
      buildConflist(record, '');
      try {
        return this.insert(record);
      } catch (err) {
        if (isUniqueViolation(err)) throw alreadyExists('network_exists', `network "${name}": its bridge name "${bridge}" is taken by another network`, { cause: err, details: { name, bridge } });
        throw err;
      }
    });
  }

  /** Resolves as dockerd: the full ID, the exact name, then an ID prefix; more than one match is an error naming the count. */
  get(ref: string): NetworkRecord {
    const found = this.find(ref);
    if (found === undefined) throw notFound('network_not_found', `network ${ref} not found`, { details: { network: ref } });
    return found;
  }

  find(ref: string): NetworkRecord | undefined {
    if (ref === '') return undefined;
    // The engine asks by full ID for every container it shows: one indexed read, not the whole table.
    if (/^[0-9a-f]{64}$/.test(ref)) {
      this.byIdStatement ??= this.db.prepare('SELECT * FROM engine_networks WHERE id = ?');
      const row = this.byIdStatement.get(ref);
      if (row !== undefined) return toRecord(row);
    }
    const all = this.all();
    const byId = all.find((n) => n.id === ref);
    if (byId !== undefined) return byId;
    const byName = all.filter((n) => n.name === ref);
    if (byName.length === 1) return byName[0];
    const byPrefix = all.filter((n) => n.id.startsWith(ref));
    if (byPrefix.length > 1) {
      throw invalidArgument('network_ambiguous', `network ${ref} is ambiguous (${byPrefix.length} matches found based on ID prefix)`, { details: { network: ref } });
    }
    return byPrefix[0];
  }

  list(filters: NetworkFilters = new Map()): NetworkRecord[] {
    for (const key of filters.keys()) if (!LIST_FILTERS.has(key)) throw invalidArgument('network_filter_invalid', `invalid filter '${key}' (network filters: ${[...LIST_FILTERS].join(', ')})`);
    const dangling = filters.get('dangling');
    if (dangling !== undefined && dangling.length > 1) throw invalidArgument('network_filter_invalid', 'got more than one value for filter key "dangling"');
    const danglingOnly = dangling?.[0] === undefined ? undefined : boolFilter('dangling', dangling[0]);
    for (const t of filters.get('type') ?? []) if (t !== 'custom' && t !== 'builtin') throw invalidArgument('network_filter_invalid', `invalid filter: 'type'='${t}' (custom or builtin)`);
    return this.all().filter((n) => {
      for (const [key, values] of filters) {
        if (values.length === 0) continue;
        const ok =
          key === 'driver' ? values.includes(n.driver)
          : key === 'id' ? values.some((v) => n.id === v || regexMatch(v, n.id))
          : key === 'name' ? values.some((v) => n.name === v || regexMatch(v, n.name))
          : key === 'label' ? values.every((v) => labelMatches(n.labels, v))
          : key === 'scope' ? values.includes('local')
          : key === 'type' ? values.includes(isPredefined(n.name) ? 'builtin' : 'custom')
          : danglingOnly === undefined || danglingOnly === (!isPredefined(n.name) && !this.inUse(n.id));
        if (!ok) return false;
      }
      return true;
    });
  }

  /** IDs of the containers that name the network (engine_container_networks), running or not. */
  users(networkId: string): string[] {
    return this.db
      .prepare('SELECT container_id FROM engine_container_networks WHERE network_id = ? ORDER BY container_id')
      .all(networkId)
      .map((r) => storedString(r['container_id'], 'engine container network'));
  }

  /** The containers attached now (attached endpoints of sandboxes that belong to a container), for inspect's Containers. */
  endpoints(network: NetworkRecord): NetworkEndpoint[] {
    const prefix = network.subnet.slice(network.subnet.indexOf('/'));
    return this.db
      .prepare(
        `SELECT e.sandbox_id, e.ipv4, e.mac, s.container_id, c.name FROM engine_endpoints e
         JOIN engine_sandboxes s ON s.id = e.sandbox_id
         JOIN engine_containers c ON c.id = s.container_id
         WHERE e.network_id = ? AND e.state = 'attached' ORDER BY c.name`,
      )
      .all(network.id)
      .map((r) => {
        const sandbox = storedString(r['sandbox_id'], 'engine endpoint');
        const ipv4 = storedOptionalString(r['ipv4'], `engine endpoint ${sandbox} ipv4`) ?? '';
        return {
          containerId: storedString(r['container_id'], `engine endpoint ${sandbox} container`),
          containerName: storedString(r['name'], `engine endpoint ${sandbox} container name`),
          endpointId: createHash('sha256').update(`${sandbox}/${network.id}`).digest('hex'),
          ipv4: ipv4 === '' || ipv4.includes('/') ? ipv4 : `${ipv4}${prefix}`,
          mac: storedOptionalString(r['mac'], `engine endpoint ${sandbox} mac`) ?? '',
        };
      });
  }

  /** Whether a container names the network or an endpoint (a pool's too) is on it. */
  inUse(networkId: string): boolean {
    return this.users(networkId).length > 0 || this.endpointCount(networkId) > 0;
  }

  /**
   * Removes a user network no container uses. The host side goes first
   * (onRemove), so a failure there leaves the record for another try; the
   * record is then deleted after checking again that nothing took it into
   * use meanwhile.
   */
  async remove(ref: string): Promise<NetworkRecord> {
    const record = this.get(ref);
    this.checkRemovable(record);
    await this.onRemove?.(record);
    inTransaction(this.db, () => {
      this.checkRemovable(record);
      this.db.prepare('DELETE FROM engine_networks WHERE id = ?').run(record.id);
    });
    return record;
  }

  /** Removes the user networks nothing uses (filters: until, label, label!); says which by name. */
  async prune(filters: NetworkFilters = new Map()): Promise<NetworkRecord[]> {
    for (const key of filters.keys()) if (!PRUNE_FILTERS.has(key)) throw invalidArgument('network_filter_invalid', `invalid filter '${key}' (network prune filters: ${[...PRUNE_FILTERS].join(', ')})`);
    const until = (filters.get('until') ?? []).map(untilMs);
    const removed: NetworkRecord[] = [];
    for (const n of this.all()) {
      if (isPredefined(n.name) || this.inUse(n.id)) continue;
      if (until.some((t) => Date.parse(n.created) >= t)) continue;
      if (!(filters.get('label') ?? []).every((v) => labelMatches(n.labels, v))) continue;
      if ((filters.get('label!') ?? []).some((v) => labelMatches(n.labels, v))) continue;
      try {
        removed.push(await this.remove(n.id));
      } catch (err) {
        // Taken into use or removed since it was listed: not pruned.
        if (isBerthError(err, 'network_in_use') || isBerthError(err, 'network_not_found')) continue;
        throw err;
      }
    }
    return removed;
  }

  private checkRemovable(record: NetworkRecord): void {
    if (isPredefined(record.name)) {
      throw failedPrecondition('network_predefined', `${record.name} is a pre-defined network and cannot be removed`, { details: { network: record.name } });
    }
    if (this.db.prepare('SELECT 1 FROM engine_networks WHERE id = ?').get(record.id) === undefined) {
      throw notFound('network_not_found', `network ${record.name} not found`, { details: { network: record.name } });
    }
    const users = this.users(record.id);
    const endpoints = this.endpointCount(record.id);
    if (users.length > 0 || endpoints > 0) {
      const who = users.length > 0 ? ` (container${users.length > 1 ? 's' : ''} ${users.map((u) => u.slice(0, 12)).join(', ')})` : '';
      throw failedPrecondition('network_in_use', `error while removing network: network ${record.name} id ${record.id} has active endpoints${who}`, {
        details: { network: record.name, containers: users, endpoints },
      });
    }
  }

  private endpointCount(networkId: string): number {
    const row = this.db.prepare('SELECT count(*) AS n FROM engine_endpoints WHERE network_id = ?').get(networkId);
    return storedInt(row?.['n'] ?? 0, 'engine endpoints count');
  }

  /** A subnet given by the user must not overlap another berth network's (the host is the user's to judge, as dockerd). */
  private checkFree(name: string, plan: SubnetPlan): SubnetPlan {
    const wanted = parseCidr(plan.subnet, 'subnet');
    for (const n of this.all()) {
      if (overlaps(wanted, parseCidr(n.subnet, 'subnet'))) {
        throw failedPrecondition('network_subnet_overlap', `network "${name}": subnet ${plan.subnet} overlaps subnet ${n.subnet} of network "${n.name}"`, {
          details: { field: 'subnet', value: plan.subnet, network: n.name },
        });
      }
    }
    return plan;
  }

  private allocate(name: string): SubnetPlan {
    const taken = [...this.all().map((n) => parseCidr(n.subnet, 'subnet')), ...this.hostNetworks()];
    const plan = allocateSubnet(taken);
    if (plan === undefined) {
      throw failedPrecondition('network_pools_exhausted', `network "${name}": could not find an available, non-overlapping IPv4 address pool among the defaults to assign to the network (give one with --subnet)`);
    }
    return plan;
  }

  private checkBridgeName(name: string, bridge: string): void {
    const bad = (why: string): never => {
      throw invalidArgument('network_option_invalid', `network "${name}": ${BRIDGE_NAME_OPTION}=${JSON.stringify(bridge)}: ${why}`, { details: { field: 'options', value: bridge } });
    };
    if (!IFNAME.test(bridge) || bridge === '.' || bridge === '..') bad('not an interface name (1 to 15 of [a-zA-Z0-9_.-])');
    if (bridge === DEFAULT_BRIDGE) bad('the default network\'s bridge');
    if (this.interfaceExists(bridge)) bad('an interface of that name exists on the host');
  }

  private all(): NetworkRecord[] {
    return this.db.prepare('SELECT * FROM engine_networks ORDER BY name').all().map(toRecord);
  }

  private byName(name: string): NetworkRecord | undefined {
    const row = this.db.prepare('SELECT * FROM engine_networks WHERE name = ?').get(name);
    return row === undefined ? undefined : toRecord(row);
  }

  private insert(r: NetworkRecord): NetworkRecord {
    this.db
      .prepare(
        `INSERT INTO engine_networks (id, name, driver, bridge, subnet, gateway, ip_range, internal, dns, labels, options, created_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      )
      .run(r.id, r.name, r.driver, r.bridge, r.subnet, r.gateway, r.ipRange ?? null, r.internal ? 1 : 0, r.dns ? 1 : 0, JSON.stringify(r.labels), JSON.stringify(r.options), r.created);
    return r;
  }
}

/** dockerd's --bip: the bridge's address with the prefix of its subnet ("172.17.0.1/16"). */
export function bipPlan(bip: string): SubnetPlan {
  const [address, prefix] = bip.split('/');
  const ip = parseIpv4(address ?? '');
  if (ip === undefined || prefix === undefined || !/^\d+$/.test(prefix) || Number(prefix) > 30 || Number(prefix) < 8) {
    throw invalidArgument('network_subnet_invalid', `--bip ${JSON.stringify(bip)}: not an IPv4 address with a prefix of 8 to 30 (e.g. 172.17.0.1/16)`, { details: { field: 'bip', value: bip } });
  }
  const mask = Number(prefix) === 0 ? 0 : (~0 << (32 - Number(prefix))) >>> 0;
  return checkSubnet({ subnet: `${formatIpv4((ip & mask) >>> 0)}/${prefix}`, gateway: address });
}

export function newNetworkId(): string {
  return randomBytes(32).toString('hex');
}

export function isPredefined(name: string): boolean {
  return PREDEFINED_NETWORKS.includes(name);
}

/** A name a user may give a network: docker's container-name characters, not a pre-defined one. */
export function checkNetworkName(name: string): string {
  if (name === '') throw invalidArgument('network_name_invalid', 'network name is required', { details: { field: 'name' } });
  if (name.length > MAX_NAME || !NAME.test(name)) {
    throw invalidArgument('network_name_invalid', `network name ${JSON.stringify(name)}: invalid, only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed (at most ${MAX_NAME})`, { details: { field: 'name', value: name } });
  }
  if (isPredefined(name)) {
    throw failedPrecondition('network_predefined', `operation is not permitted on predefined ${name} network`, { details: { network: name } });
  }
  return name;
}

function toRecord(row: Record<string, unknown>): NetworkRecord {
  const id = storedString(row['id'], 'engine network');
  const what = `engine network ${id}`;
  const ipRange = storedOptionalString(row['ip_range'], `${what} ip_range`);
  return {
    id,
    name: storedString(row['name'], `${what} name`),
    driver: 'bridge',
    bridge: storedString(row['bridge'], `${what} bridge`),
    subnet: storedString(row['subnet'], `${what} subnet`),
    gateway: storedString(row['gateway'], `${what} gateway`),
    ...(ipRange === null ? {} : { ipRange }),
    internal: storedInt(row['internal'], `${what} internal`) !== 0,
    dns: storedInt(row['dns'], `${what} dns`) !== 0,
    labels: parseStoredLabels(row['labels'], `${what} labels`),
    options: parseStoredLabels(row['options'], `${what} options`),
    created: storedString(row['created_at'], `${what} created`),
  };
}

/** docker's filters.Match: a regular expression, unanchored; one that does not compile matches nothing. */
function regexMatch(pattern: string, value: string): boolean {
  try {
    return new RegExp(pattern).test(value);
  } catch {
    return false;
  }
}

function boolFilter(key: string, value: string): boolean {
  if (value === 'true' || value === '1') return true;
  if (value === 'false' || value === '0') return false;
  throw invalidArgument('network_filter_invalid', `invalid value for filter '${key}', must be "true" (or "1"), or "false" (or "0")`);
}
