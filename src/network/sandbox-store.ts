/**
 * The rows of engine_sandboxes and engine_endpoints (schema in
 * src/engine/store/db.ts), read and written for sandboxes.ts. A row is
 * written before what it stands for is made and deleted after it is gone,
 * so the database always names a superset of what exists.
 */
import type { DatabaseSync } from 'node:sqlite';
import { internal } from '../errors.ts';
import { inUnsyncedTransaction } from '../sqlite.ts';
import type { PublishedPort } from './types.ts';

export type SandboxState = 'creating' | 'ready' | 'removing';
export type EndpointState = 'adding' | 'attached' | 'removing';

export interface SandboxRow {
  id: string;
  netns: string;
  containerId: string | null;
  state: SandboxState;
}

export interface EndpointRow {
  sandboxId: string;
  networkId: string;
  networkName: string;
  ifname: string;
  state: EndpointState;
  config: string;
  runtimeConfig: string;
  result: string | null;
  ipv4: string | null;
  mac: string | null;
  aliases: string[];
  ports: PublishedPort[];
}

type Row = Record<string, unknown>;

function text(r: Row, k: string): string {
  const v = r[k];
  if (typeof v !== 'string') throw internal('network_row_invalid', `network row: column ${k} is not text`);
  return v;
}

const textOrNull = (r: Row, k: string): string | null => (r[k] === null || r[k] === undefined ? null : text(r, k));

function jsonList<T>(r: Row, k: string): T[] {
  const v: unknown = JSON.parse(text(r, k));
  if (!Array.isArray(v)) throw internal('network_row_invalid', `engine_endpoints.${k}: not a JSON array`);
  return v as T[];
}

function toSandbox(r: Row): SandboxRow {
  return { id: text(r, 'id'), netns: text(r, 'netns'), containerId: textOrNull(r, 'container_id'), state: text(r, 'state') as SandboxState };
}

function toEndpoint(r: Row): EndpointRow {
  return {
    sandboxId: text(r, 'sandbox_id'),
    networkId: text(r, 'network_id'),
    networkName: textOrNull(r, 'network_name') ?? text(r, 'network_id'),
    ifname: text(r, 'ifname'),
    state: text(r, 'state') as EndpointState,
    config: text(r, 'config'),
    runtimeConfig: text(r, 'runtime_config'),
    result: textOrNull(r, 'result'),
    ipv4: textOrNull(r, 'ipv4'),
    mac: textOrNull(r, 'mac'),
    aliases: jsonList<string>(r, 'aliases'),
    ports: jsonList<PublishedPort>(r, 'ports'),
  };
}

const ENDPOINT_SELECT = `SELECT e.*, n.name AS network_name FROM engine_endpoints e LEFT JOIN engine_networks n ON n.id = e.network_id`;

export class SandboxStore {
  private readonly db: DatabaseSync;

  constructor(db: DatabaseSync) {
    this.db = db;
  }

  insertSandbox(id: string, netns: string, containerId: string | null): void {
    this.db
      .prepare(`INSERT INTO engine_sandboxes (id, netns, container_id, state, created_at) VALUES (?, ?, ?, 'creating', ?)`)
      .run(id, netns, containerId, new Date().toISOString());
  }

  setSandboxState(id: string, state: SandboxState): void {
    this.db.prepare(`UPDATE engine_sandboxes SET state = ? WHERE id = ?`).run(state, id);
  }

  /**
   * Gives a pooled sandbox (no container) to a container with its aliases,
   * in one transaction, or in the caller's when one is open; false when
   * another took it first.
   *
   * Committed without its own fsync (inUnsyncedTransaction): a start takes
   * it, and the start's next commit (the container `running`, or its failed
   * start) makes it durable. A kill -9 keeps it; a power cut before that
   * commit may lose it, and then the sandbox is a pool row again, which
   * recover() releases at the next start (after a crash pool rows are not
   * re-adopted), while the container was not running on record.
   */
  assign(id: string, containerId: string, networkId: string, aliases: readonly string[]): boolean {
    return inUnsyncedTransaction(this.db, () => {
      const r = this.db.prepare(`UPDATE engine_sandboxes SET container_id = ? WHERE id = ? AND container_id IS NULL AND state = 'ready'`).run(containerId, id);
      if (Number(r.changes) !== 1) return false;
      this.setAliases(id, networkId, [...aliases]);
      return true;
    });
  }

  /**
   * The reverse of assign: the container's sandbox is nobody's again (the
   * pool's), its aliases gone; false when it is not the container's. Without
   * its own fsync too: a power cut may lose it, and then the sandbox is still
   * the gone container's, which recover() releases as it would have been.
   */
  unassign(id: string, containerId: string): boolean {
    return inUnsyncedTransaction(this.db, () => {
      const r = this.db.prepare(`UPDATE engine_sandboxes SET container_id = NULL WHERE id = ? AND container_id = ? AND state = 'ready'`).run(id, containerId);
      if (Number(r.changes) !== 1) return false;
      this.db.prepare(`UPDATE engine_endpoints SET aliases = '[]' WHERE sandbox_id = ? AND aliases <> '[]'`).run(id);
      return true;
    });
  }

  deleteSandbox(id: string): void {
    this.db.prepare(`DELETE FROM engine_sandboxes WHERE id = ?`).run(id);
  }

  sandbox(id: string): SandboxRow | undefined {
    const r = this.db.prepare(`SELECT * FROM engine_sandboxes WHERE id = ?`).get(id);
    return r === undefined ? undefined : toSandbox(r);
  }

  sandboxOfContainer(containerId: string): SandboxRow | undefined {
    const r = this.db.prepare(`SELECT * FROM engine_sandboxes WHERE container_id = ?`).get(containerId);
    return r === undefined ? undefined : toSandbox(r);
  }

  sandboxes(): SandboxRow[] {
    return this.db.prepare(`SELECT * FROM engine_sandboxes ORDER BY created_at, id`).all().map(toSandbox);
  }

  /** Ready pool sandboxes whose only endpoint is on `networkId`, oldest first. */
  pooled(networkId: string): SandboxRow[] {
    return this.db
      .prepare(
        `SELECT s.* FROM engine_sandboxes s WHERE s.container_id IS NULL AND s.state = 'ready'
           AND EXISTS (SELECT 1 FROM engine_endpoints e WHERE e.sandbox_id = s.id AND e.network_id = ? AND e.state = 'attached')
         ORDER BY s.created_at, s.id`,
      )
      .all(networkId)
      .map(toSandbox);
  }

  insertEndpoint(sandboxId: string, networkId: string, ifname: string, config: string, runtimeConfig: string, aliases: string[]): void {
    this.db
      .prepare(
        `INSERT INTO engine_endpoints (sandbox_id, network_id, ifname, state, config, runtime_config, aliases) VALUES (?, ?, ?, 'adding', ?, ?, ?)`,
      )
      .run(sandboxId, networkId, ifname, config, runtimeConfig, JSON.stringify(aliases));
  }

  endpointAttached(sandboxId: string, networkId: string, result: string, ipv4: string, mac: string, ports: PublishedPort[]): void {
    this.db
      .prepare(`UPDATE engine_endpoints SET state = 'attached', result = ?, ipv4 = ?, mac = ?, ports = ? WHERE sandbox_id = ? AND network_id = ?`)
      .run(result, ipv4, mac, JSON.stringify(ports), sandboxId, networkId);
  }

  setAliases(sandboxId: string, networkId: string, aliases: string[]): void {
    // Not rewritten when unchanged: a page less in the WAL for the commit that makes a take durable.
    this.db.prepare(`UPDATE engine_endpoints SET aliases = ?1 WHERE sandbox_id = ?2 AND network_id = ?3 AND aliases <> ?1`).run(JSON.stringify(aliases), sandboxId, networkId);
  }

  setEndpointState(sandboxId: string, networkId: string, state: EndpointState): void {
    this.db.prepare(`UPDATE engine_endpoints SET state = ? WHERE sandbox_id = ? AND network_id = ?`).run(state, sandboxId, networkId);
  }

  deleteEndpoint(sandboxId: string, networkId: string): void {
    this.db.prepare(`DELETE FROM engine_endpoints WHERE sandbox_id = ? AND network_id = ?`).run(sandboxId, networkId);
  }

  endpointCount(networkId: string): number {
    return Number(this.db.prepare(`SELECT count(*) AS n FROM engine_endpoints WHERE network_id = ?`).get(networkId)?.['n'] ?? 0);
  }

  /** A sandbox's endpoints in the order they were attached. */
  endpoints(sandboxId: string): EndpointRow[] {
    return this.db.prepare(`${ENDPOINT_SELECT} WHERE e.sandbox_id = ? ORDER BY e.rowid`).all(sandboxId).map(toEndpoint);
  }

  endpoint(sandboxId: string, networkId: string): EndpointRow | undefined {
    const r = this.db.prepare(`${ENDPOINT_SELECT} WHERE e.sandbox_id = ? AND e.network_id = ?`).get(sandboxId, networkId);
    return r === undefined ? undefined : toEndpoint(r);
  }

  /** Attached endpoints of one network with their containers (the resolver's view). */
  endpointsOfNetwork(networkId: string): (EndpointRow & { containerId: string | null; containerName: string | null })[] {
    return this.db
      .prepare(
        `SELECT e.*, n.name AS network_name, s.container_id, c.name AS container_name FROM engine_endpoints e
           JOIN engine_sandboxes s ON s.id = e.sandbox_id
           LEFT JOIN engine_networks n ON n.id = e.network_id
           LEFT JOIN engine_containers c ON c.id = s.container_id
         WHERE e.network_id = ? AND e.state = 'attached' ORDER BY e.rowid`,
      )
      .all(networkId)
      .map((r) => ({ ...toEndpoint(r), containerId: textOrNull(r, 'container_id'), containerName: textOrNull(r, 'container_name') }));
  }
}
