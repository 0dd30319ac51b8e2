/**
 * Which networks a container asks for (engine_container_networks, db.ts):
 * written with the container's create, changed by `network connect` and
 * `disconnect` whether it runs or not, read by each start to attach it.
 * The first row (by insertion) is the network `--network` named: it gets
 * the published ports. A network with rows cannot be deleted (RESTRICT).
 */
import type { DatabaseSync, StatementSync } from 'node:sqlite';
import { internal } from '../../errors.ts';
import { parseStoredJson, storedOptionalString, storedString } from '../../sqlite-row.ts';

export interface ContainerNetwork {
  containerId: string;
  networkId: string;
  aliases: string[];
  ipv4Address?: string;
  macAddress?: string;
}

function rowOf(row: Record<string, unknown>): ContainerNetwork {
  const what = `container network ${String(row['container_id'])}/${String(row['network_id'])}`;
  const aliases = parseStoredJson(row['aliases'], `${what} aliases`);
  if (!Array.isArray(aliases) || !aliases.every((a): a is string => typeof a === 'string')) throw internal('engine_record_corrupt', `${what}: aliases are not strings`);
  const ip = storedOptionalString(row['ipv4_address'], `${what} ipv4_address`);
  const mac = storedOptionalString(row['mac_address'], `${what} mac_address`);
  return {
    containerId: storedString(row['container_id'], `${what} container_id`),
    networkId: storedString(row['network_id'], `${what} network_id`),
    aliases,
    ...(ip === null ? {} : { ipv4Address: ip }),
    ...(mac === null ? {} : { macAddress: mac }),
  };
}

export class ContainerNetworkStore {
  readonly db: DatabaseSync;
  private ofStatement: StatementSync | undefined;

  constructor(db: DatabaseSync) {
    this.db = db;
  }

  add(n: ContainerNetwork): void {
    this.db
      .prepare('INSERT INTO engine_container_networks (container_id, network_id, aliases, ipv4_address, mac_address) VALUES (?, ?, ?, ?, ?)')
      .run(n.containerId, n.networkId, JSON.stringify(n.aliases), n.ipv4Address ?? null, n.macAddress ?? null);
  }

  /** Whether the row was there. */
  remove(containerId: string, networkId: string): boolean {
    return Number(this.db.prepare('DELETE FROM engine_container_networks WHERE container_id = ? AND network_id = ?').run(containerId, networkId).changes) > 0;
  }

  /** In the order they were asked for (asked for every container `ps` shows: the statement is kept). */
  of(containerId: string): ContainerNetwork[] {
    this.ofStatement ??= this.db.prepare('SELECT * FROM engine_container_networks WHERE container_id = ? ORDER BY rowid');
    return this.ofStatement.all(containerId).map((r) => rowOf(r));
  }

  usersOf(networkId: string): string[] {
    return this.db
      .prepare('SELECT container_id FROM engine_container_networks WHERE network_id = ? ORDER BY rowid')
      .all(networkId)
      .map((r) => storedString(r['container_id'], 'container network container_id'));
  }
}
