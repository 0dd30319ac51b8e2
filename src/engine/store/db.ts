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
 * A record in state `creating` was written before any of its resources
 * were made; one still there when the daemon starts is what a crash left
 * half made (see ContainerStore.listIncomplete).
 */
import type { DatabaseSync } from 'node:sqlite';
import { failedPrecondition } from '../../errors.ts';
import { openVersionedDatabase } from '../../image/store/sqlite.ts';

export { inTransaction } from '../../image/store/sqlite.ts';

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

/** A UNIQUE or PRIMARY KEY constraint failed (SQLITE_CONSTRAINT_UNIQUE, _PRIMARYKEY). */
export function isUniqueViolation(err: unknown): boolean {
  if (typeof err !== 'object' || err === null || !('errcode' in err)) return false;
  return err.errcode === 2067 || err.errcode === 1555;
}
