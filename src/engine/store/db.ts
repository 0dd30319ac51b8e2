/**
 * The engine's metadata database: its own tables in the image store's
 * SQLite file (`<root>/berth.db`, WAL), so a container's record and its
 * rootfs snapshot can later be written in one transaction. Every table
 * starts with `engine_` and the engine carries its own schema version in
 * `engine_schema`, as the image tables do in `image_schema`: SQLite's
 * `user_version` is one number per file, and the file is shared.
 *
 * This connection runs with `synchronous = FULL`: a state change the
 * engine reports (started, exited, removed) is on disk before the call
 * returns, also across a power cut, not only a crash of the daemon.
 *
 *   engine_schema            (version)                         one row
 *
 *   engine_containers        id PK (64 hex) ───────────────┐
 *     name UNIQUE            the reservation: a name is held by exactly one record
 *     image_ref, image_id, created_at
 *     options                JSON: the run options the spec is made from
 *     state                  creating → created → running ⇄ paused → exited | dead, removing
 *     pid, exit_code, error, started_at, finished_at      │
 *     restart_policy, restart_max, restart_count          │
 *     stopped_by_user        unless-stopped remembers a user's stop
 *     labels                 JSON object of strings       │
 *                                                         │
 *   engine_volumes           name PK ──────────────┐      │
 *     driver ('local'), mountpoint, labels (JSON), │      │
 *     anonymous, created_at                        │      │
 *                                                  │      │
 *   engine_container_volumes (container_id, volume_name)  which containers use a volume
 *     ON DELETE CASCADE from engine_containers; a volume in use cannot be
 *     deleted (RESTRICT) until its rows are gone.
 *
 *   engine_health            container_id PK, ON DELETE CASCADE from engine_containers
 *     status                 starting | healthy | unhealthy
 *     failing_streak, log    JSON: the last 5 probes {Start, End, ExitCode, Output}
 *
 *   engine_networks          id PK (64 hex), name UNIQUE ──────────────┐
 *     driver ('bridge'), bridge (host interface, UNIQUE), subnet, │
 *     gateway, ip_range, internal, dns (the embedded resolver     │
 *     answers names), labels, options (JSON), created_at          │
 *                                                                 │
 *   engine_container_networks (container_id, network_id)  what a container asks for:
 *     aliases (JSON), ipv4_address, mac_address; CASCADE from the container,
 *     RESTRICT on the network (a network in use cannot be deleted)
 *
 *   engine_sandboxes         id PK (64 hex: the CNI container ID)
 *     netns                  the bind-mounted namespace file (RUNROOT/netns/ID)
 *     container_id           its container; NULL while it waits in the pool
 *     state                  creating → ready, removing
 *
 *   engine_endpoints         (sandbox_id, network_id): one CNI attachment
 *     ifname, state          adding → attached, removing
 *     config, runtime_config the conflist and capability args as ADD ran them (DEL runs the same)
 *     result                 the CNI result (prevResult of CHECK and DEL)
 *     ipv4, mac, aliases, ports (JSON: the host ports held for it)
 *
 *   engine_functions         (namespace, name) PK: the functions platform's
 *     deployments (src/faas/store.ts): image, env_process, spec (JSON:
 *     envVars, labels, annotations, secrets, limits, requests, read-only
 *     root), replicas wanted, revision (an update's replicas replace the
 *     previous revision's), the scaling labels as columns (scale_zero,
 *     scale_zero_ms, scale_min, scale_max), created_at, updated_at. Its
 *     replicas are ordinary containers labelled com.openfaas.function=NAME.
 *
 *   engine_function_usage    (namespace, name, minute) PK: what a function's
 *     calls used in a minute (invocations, failures, duration_ms, cpu_us,
 *     gb_seconds, memory_peak_bytes); no foreign key: usage outlives the
 *     function, until it ages out (src/faas/usage-store.ts).
 *   engine_fn_calls          seq PK (acceptance order: a new rowid is above every
 *     live one), id UNIQUE (X-Call-Id):
 *     an async call (src/faas/queue/store.ts), written before its 202:
 *     namespace, function, method, path, query, headers (JSON pairs), body,
 *     callback_url; state queued → running → (deleted when done) | dead;
 *     attempts finished, next_at (ms: not before, the back-off), last_status,
 *     last_error, dead_at. A `running` row at start is re-queued.
 *   engine_fn_call_attempts  n PK, call_seq (CASCADE from the call): one
 *     delivery each: started_at, seconds, status or error (NULL while it runs)
 *
 * A sandbox or endpoint row is written before the namespace or the CNI ADD
 * it stands for, so what a crash leaves half made is in the database and
 * the next start of berthd deletes it; nothing that is not in the database
 * is touched.
 *
 * A record in state `creating` was written before any of its resources
 * were made; one still there when the daemon starts is what a crash left
 * half made (see ContainerStore.listIncomplete).
 */
import type { DatabaseSync } from 'node:sqlite';
import { failedPrecondition } from '../../errors.ts';
import { openVersionedDatabase } from '../../sqlite.ts';

export { inTransaction, inUnsyncedTransaction, isUniqueViolation, statementCache } from '../../sqlite.ts';

/** Each entry moves the schema one version up; never edit one that has shipped, add the next. */
const MIGRATIONS: readonly string[] = [
  // version 1
  `CREATE TABLE engine_containers (
     id TEXT PRIMARY KEY CHECK (length(id) = 64),
     name TEXT NOT NULL UNIQUE,
     image_ref TEXT NOT NULL,
     image_id TEXT NOT NULL,
     created_at TEXT NOT NULL,
     options TEXT NOT NULL,
     state TEXT NOT NULL CHECK (state IN ('creating', 'created', 'running', 'paused', 'exited', 'dead', 'removing')),
     pid INTEGER,
     exit_code INTEGER,
     error TEXT,
     started_at TEXT,
     finished_at TEXT,
     restart_policy TEXT NOT NULL CHECK (restart_policy IN ('no', 'on-failure', 'always', 'unless-stopped')),
     restart_max INTEGER NOT NULL DEFAULT 0,
     restart_count INTEGER NOT NULL DEFAULT 0,
     stopped_by_user INTEGER NOT NULL DEFAULT 0,
     labels TEXT NOT NULL DEFAULT '{}'
   );
   CREATE INDEX engine_containers_by_state ON engine_containers(state);
   CREATE TABLE engine_volumes (
     name TEXT PRIMARY KEY,
     driver TEXT NOT NULL CHECK (driver = 'local'),
     mountpoint TEXT NOT NULL,
     labels TEXT NOT NULL DEFAULT '{}',
     anonymous INTEGER NOT NULL DEFAULT 0,
     created_at TEXT NOT NULL
   );
   CREATE TABLE engine_container_volumes (
     container_id TEXT NOT NULL REFERENCES engine_containers(id) ON DELETE CASCADE,
     volume_name TEXT NOT NULL REFERENCES engine_volumes(name) ON DELETE RESTRICT,
     PRIMARY KEY (container_id, volume_name)
   );
   CREATE INDEX engine_container_volumes_by_volume ON engine_container_volumes(volume_name);`,
  // version 2
  `CREATE TABLE engine_health (
     container_id TEXT PRIMARY KEY REFERENCES engine_containers(id) ON DELETE CASCADE,
     status TEXT NOT NULL CHECK (status IN ('starting', 'healthy', 'unhealthy')),
     failing_streak INTEGER NOT NULL DEFAULT 0,
     log TEXT NOT NULL DEFAULT '[]'
   );`,
  // version 3
  `CREATE TABLE engine_networks (
     id TEXT PRIMARY KEY CHECK (length(id) = 64),
     name TEXT NOT NULL UNIQUE,
     driver TEXT NOT NULL CHECK (driver = 'bridge'),
     bridge TEXT NOT NULL UNIQUE CHECK (length(bridge) BETWEEN 1 AND 15),
     subnet TEXT NOT NULL,
     gateway TEXT NOT NULL,
     ip_range TEXT,
     internal INTEGER NOT NULL DEFAULT 0,
     dns INTEGER NOT NULL DEFAULT 1,
     labels TEXT NOT NULL DEFAULT '{}',
     options TEXT NOT NULL DEFAULT '{}',
     created_at TEXT NOT NULL
   );
   CREATE TABLE engine_container_networks (
     container_id TEXT NOT NULL REFERENCES engine_containers(id) ON DELETE CASCADE,
     network_id TEXT NOT NULL REFERENCES engine_networks(id) ON DELETE RESTRICT,
     aliases TEXT NOT NULL DEFAULT '[]',
     ipv4_address TEXT,
     mac_address TEXT,
     PRIMARY KEY (container_id, network_id)
   );
   CREATE INDEX engine_container_networks_by_network ON engine_container_networks(network_id);
   CREATE TABLE engine_sandboxes (
     id TEXT PRIMARY KEY CHECK (length(id) = 64),
     netns TEXT NOT NULL UNIQUE,
     container_id TEXT UNIQUE REFERENCES engine_containers(id) ON DELETE SET NULL,
     state TEXT NOT NULL CHECK (state IN ('creating', 'ready', 'removing')),
     created_at TEXT NOT NULL
   );
   CREATE TABLE engine_endpoints (
     sandbox_id TEXT NOT NULL REFERENCES engine_sandboxes(id) ON DELETE CASCADE,
     network_id TEXT NOT NULL REFERENCES engine_networks(id) ON DELETE RESTRICT,
     ifname TEXT NOT NULL,
     state TEXT NOT NULL CHECK (state IN ('adding', 'attached', 'removing')),
     config TEXT NOT NULL,
     runtime_config TEXT NOT NULL DEFAULT '{}',
     result TEXT,
     ipv4 TEXT,
     mac TEXT,
     aliases TEXT NOT NULL DEFAULT '[]',
     ports TEXT NOT NULL DEFAULT '[]',
     PRIMARY KEY (sandbox_id, network_id),
     UNIQUE (sandbox_id, ifname)
   );
   CREATE INDEX engine_endpoints_by_network ON engine_endpoints(network_id);`,
  // version 4 (functions, src/faas/)
  `CREATE TABLE engine_functions (
     namespace TEXT NOT NULL,
     name TEXT NOT NULL CHECK (length(name) BETWEEN 1 AND 63),
     image TEXT NOT NULL,
     env_process TEXT,
     spec TEXT NOT NULL,
     replicas INTEGER NOT NULL CHECK (replicas >= 0),
     revision INTEGER NOT NULL DEFAULT 1,
     scale_zero INTEGER NOT NULL DEFAULT 0,
     scale_zero_ms INTEGER NOT NULL,
     scale_min INTEGER NOT NULL,
     scale_max INTEGER NOT NULL,
     created_at TEXT NOT NULL,
     updated_at TEXT NOT NULL,
     PRIMARY KEY (namespace, name)
   );`,
  // functions' usage per minute (src/faas/usage-store.ts)
  `CREATE TABLE engine_function_usage (
     namespace TEXT NOT NULL,
     name TEXT NOT NULL,
     minute INTEGER NOT NULL,
     invocations INTEGER NOT NULL,
     failures INTEGER NOT NULL,
     duration_ms INTEGER NOT NULL,
     cpu_us INTEGER NOT NULL,
     gb_seconds REAL NOT NULL,
     memory_peak_bytes INTEGER NOT NULL,
     PRIMARY KEY (namespace, name, minute)
   ) WITHOUT ROWID;
   CREATE INDEX engine_function_usage_by_minute ON engine_function_usage(minute);`,
  // async calls of functions (src/faas/queue/)
  `CREATE TABLE engine_fn_calls (
     seq INTEGER PRIMARY KEY,
     id TEXT NOT NULL UNIQUE CHECK (length(id) BETWEEN 1 AND 128),
     namespace TEXT NOT NULL,
     function TEXT NOT NULL,
     method TEXT NOT NULL,
     path TEXT NOT NULL,
     query TEXT NOT NULL,
     headers TEXT NOT NULL,
     body BLOB NOT NULL,
     callback_url TEXT,
     state TEXT NOT NULL CHECK (state IN ('queued', 'running', 'dead')),
     attempts INTEGER NOT NULL DEFAULT 0,
     next_at INTEGER NOT NULL,
     accepted_at TEXT NOT NULL,
     last_status INTEGER,
     last_error TEXT,
     dead_at TEXT
   );
   CREATE INDEX engine_fn_calls_by_state ON engine_fn_calls(state, function, seq);
   CREATE TABLE engine_fn_call_attempts (
     call_seq INTEGER NOT NULL REFERENCES engine_fn_calls(seq) ON DELETE CASCADE,
     n INTEGER PRIMARY KEY,
     started_at TEXT NOT NULL,
     seconds REAL,
     status INTEGER,
     error TEXT
   );
   CREATE INDEX engine_fn_call_attempts_by_call ON engine_fn_call_attempts(call_seq);`,
];

export const ENGINE_SCHEMA_VERSION = MIGRATIONS.length;

export function openEngineDatabase(path: string): DatabaseSync {
  return openVersionedDatabase(path, {
    versionTable: 'engine_schema',
    migrations: MIGRATIONS,
    synchronous: 'FULL',
    tooNew: (version, known) =>
      failedPrecondition('engine_schema_too_new', `engine database: schema version ${version} is newer than this berth understands (${known})`),
  });
}
