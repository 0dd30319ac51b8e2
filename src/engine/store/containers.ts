/**
 * Container records: the name reservation, the state machine and the
 * half-made marker, over the engine_containers table (schema in db.ts).
 * Every write is one transaction on a `synchronous = FULL` connection, so
 * when a method returns, what it wrote survives a crash of the process;
 * callers report a state change only after the call returns.
 */
import type { DatabaseSync, StatementSync } from 'node:sqlite';
import { alreadyExists, failedPrecondition, internal, invalidArgument, notFound } from '../../errors.ts';
import { inTransaction, inUnsyncedTransaction, isUniqueViolation, statementCache } from './db.ts';
import { checkContainerName, isContainerId, newContainerId } from './names.ts';
import {
  parseStoredJson,
  parseStoredLabels,
  storedInt,
  storedOptionalInt,
  storedOptionalString,
  storedString,
} from '../../sqlite-row.ts';
import { canDelete, canMove, isContainerState, type ContainerState } from './states.ts';

export const RESTART_POLICIES = ['no', 'on-failure', 'always', 'unless-stopped'] as const;
export type RestartPolicyName = (typeof RESTART_POLICIES)[number];

export interface RestartPolicy {
  name: RestartPolicyName;
  /** For on-failure: how many restarts at most (0: no limit). */
  maximumRetryCount: number;
}

export interface ContainerRecord {
  id: string;
  name: string;
  imageRef: string;
  imageId: string;
  createdAt: string;
  /** The run options the spec is made from, as stored; the spec generator validates them. */
  options: unknown;
  state: ContainerState;
  pid: number | null;
  exitCode: number | null;
  error: string | null;
  startedAt: string | null;
  finishedAt: string | null;
  restartPolicy: RestartPolicy;
  restartCount: number;
  stoppedByUser: boolean;
  labels: Record<string, string>;
}

export interface NewContainer {
  /** Made here when absent. */
  id?: string;
  name: string;
  imageRef: string;
  imageId: string;
  /** Must survive JSON.stringify. */
  options: unknown;
  restartPolicy?: RestartPolicy;
  labels?: Record<string, string>;
}

/** What a move writes beside the state. */
export interface Transition {
  /** Required when a container starts (not when it is unpaused). */
  pid?: number;
  /** Required when a container exits. */
  exitCode?: number;
  error?: string;
  restartCount?: number;
  stoppedByUser?: boolean;
}

/** Flags that change without a move (a user's stop is remembered before the process has exited). */
export interface Marks {
  restartCount?: number;
  stoppedByUser?: boolean;
}

export class ContainerStore {
  readonly db: DatabaseSync;
  /** Each statement compiled once: compiling one costs more than running it (every start reads the record several times). */
  private readonly sql: (text: string) => StatementSync;

  constructor(db: DatabaseSync) {
    this.db = db;
    this.sql = statementCache(db);
  }

  /**
   * Writes the record in state `creating`, holding the name, before anything
   * else of the container exists; `finishCreate` flips it to `created` once
   * all is made. Of two creates of one name, in any processes, exactly one
   * wins; the other gets `container_name_in_use` naming the name. `also`
   * writes the container's other rows (its networks) in the same transaction.
   *
   * Committed without its own fsync (inUnsyncedTransaction): a crash of
   * this process (kill -9) keeps it; `finishCreate`'s fsync makes it
   * durable with the `created`; and a power cut before that, which may lose
   * it, leaves only a snapshot and a directory no record names, which
   * `recover()` removes. Nothing was reported from it.
   */
  beginCreate(input: NewContainer, also?: (record: ContainerRecord) => void): ContainerRecord {
    const name = checkContainerName(input.name);
    const id = input.id ?? newContainerId();
    if (!isContainerId(id)) throw invalidArgument('invalid_id', `container ID ${JSON.stringify(id)}: not 64 lowercase hex digits`);
    const policy = input.restartPolicy ?? { name: 'no', maximumRetryCount: 0 };
    checkRestartPolicy(policy);
    const options = JSON.stringify(input.options);
    if (options === undefined) throw invalidArgument('invalid_container_options', `container "${name}": run options cannot be stored as JSON`);
    const now = new Date().toISOString();
    return inUnsyncedTransaction(this.db, () => {
      const holder = this.sql('SELECT id FROM engine_containers WHERE name = ?').get(name);
      if (holder !== undefined) throw nameInUse(name, String(holder['id']));
      try {
        this.sql(
          `INSERT INTO engine_containers
             (id, name, image_ref, image_id, created_at, options, state, restart_policy, restart_max, labels)
           VALUES (?, ?, ?, ?, ?, ?, 'creating', ?, ?, ?)`,
        ).run(id, name, input.imageRef, input.imageId, now, options, policy.name, policy.maximumRetryCount, JSON.stringify(input.labels ?? {}));
      } catch (err) {
        if (!isUniqueViolation(err)) throw err;
        const taken = this.sql('SELECT id FROM engine_containers WHERE name = ?').get(name);
        if (taken !== undefined) throw nameInUse(name, String(taken['id']));
        throw alreadyExists('container_exists', `container ${id}: already exists`, { cause: err });
      }
      const record = this.mustGet(id);
      also?.(record);
      return record;
    });
  }

  /** The end of a create: every resource is made, the container is `created`. */
  finishCreate(id: string, options?: unknown): ContainerRecord {
    if (options === undefined) return this.transition(id, 'created');
    const json = JSON.stringify(options);
    if (json === undefined) throw invalidArgument('invalid_container_options', `container ${id}: run options cannot be stored as JSON`);
    // The options as the create settled them (its volumes) and `created`: one commit.
    return inTransaction(this.db, () => {
      this.sql('UPDATE engine_containers SET options = ? WHERE id = ?').run(json, id);
      return this.move(id, 'created', {});
    });
  }

  /** Moves a container to `to` if that move is legal, writing what the move needs; refused with container_state_conflict otherwise. */
  transition(id: string, to: ContainerState, change: Transition = {}): ContainerRecord {
    return inTransaction(this.db, () => this.move(id, to, change));
  }

  private move(id: string, to: ContainerState, change: Transition): ContainerRecord {
    const record = this.mustGet(id);
    if (!canMove(record.state, to)) {
      throw failedPrecondition('container_state_conflict', `container "${record.name}": cannot go from ${record.state} to ${to}`, {
        details: { id: record.id, from: record.state, to },
      });
    }
    const now = new Date().toISOString();
    const next = { ...record, state: to };
    if (to === 'running' && record.state !== 'paused') {
      if (change.pid === undefined || !Number.isInteger(change.pid) || change.pid <= 0) {
        throw invalidArgument('invalid_container_pid', `container "${record.name}": starting needs the process ID, got ${String(change.pid)}`);
      }
      Object.assign(next, { pid: change.pid, startedAt: now, exitCode: null, error: null, finishedAt: null });
    } else if (to === 'exited') {
      if (change.exitCode === undefined || !Number.isInteger(change.exitCode)) {
        throw invalidArgument('invalid_exit_code', `container "${record.name}": exiting needs the exit code, got ${String(change.exitCode)}`);
      }
      Object.assign(next, { pid: null, exitCode: change.exitCode, finishedAt: now });
    } else if (to === 'dead') {
      Object.assign(next, { pid: null, finishedAt: record.finishedAt ?? now });
    }
    if (change.error !== undefined) next.error = change.error;
    this.write(next, change);
    return this.mustGet(id);
  }

  mark(id: string, marks: Marks): ContainerRecord {
    return inTransaction(this.db, () => {
      const record = this.mustGet(id);
      this.write(record, marks);
      return this.mustGet(id);
    });
  }

  /** Gives a container another name, as atomically as a create takes one; refused while half made or being removed. */
  rename(id: string, newName: string): ContainerRecord {
    const name = checkContainerName(newName);
    return inTransaction(this.db, () => {
      const record = this.mustGet(id);
      if (record.state === 'creating' || record.state === 'removing') {
        throw failedPrecondition('container_state_conflict', `container "${record.name}": cannot be renamed while ${record.state}`, {
          details: { id: record.id, from: record.state },
        });
      }
      if (name === record.name) return record;
      const holder = this.sql('SELECT id FROM engine_containers WHERE name = ?').get(name);
      if (holder !== undefined) throw nameInUse(name, String(holder['id']));
      this.sql('UPDATE engine_containers SET name = ? WHERE id = ?').run(name, id);
      return this.mustGet(id);
    });
  }

  /** Deletes a record being removed, or one a crash left half made; refused in any other state. */
  remove(id: string): void {
    inTransaction(this.db, () => {
      const record = this.mustGet(id);
      if (!canDelete(record.state)) {
        throw failedPrecondition('container_state_conflict', `container "${record.name}": cannot be deleted while ${record.state}`, {
          details: { id: record.id, from: record.state },
        });
      }
      this.sql('DELETE FROM engine_containers WHERE id = ?').run(id);
    });
  }

  /** The record of exactly this ID, in any state (half made too), or undefined. */
  get(id: string): ContainerRecord | undefined {
    const row = this.sql('SELECT * FROM engine_containers WHERE id = ?').get(id);
    return row === undefined ? undefined : toRecord(row);
  }

  /**
   * What a user's reference names, as docker resolves it: the full ID, else
   * the name (with or without "/"), else a unique ID prefix. Half-made
   * records are not found. An ID prefix two containers share is refused,
   * naming it.
   */
  find(ref: string): ContainerRecord {
    const bare = ref.startsWith('/') ? ref.slice(1) : ref;
    const byId = isContainerId(ref) ? this.get(ref) : undefined;
    if (byId !== undefined && byId.state !== 'creating') return byId;
    const byName = this.sql("SELECT * FROM engine_containers WHERE name = ? AND state != 'creating'").get(bare);
    if (byName !== undefined) return toRecord(byName);
    if (/^[0-9a-f]+$/.test(ref)) {
      const rows = this.sql("SELECT * FROM engine_containers WHERE substr(id, 1, ?) = ? AND state != 'creating' LIMIT 2").all(ref.length, ref);
      if (rows.length > 1) {
        throw invalidArgument('ambiguous_container_id', `container ID prefix "${ref}": matches more than one container, give more of the ID`);
      }
      const [row] = rows;
      if (row !== undefined) return toRecord(row);
    }
    throw notFound('container_not_found', `container "${ref}": not found`);
  }

  /** Every container a user can see (not the half made), newest first. */
  list(): ContainerRecord[] {
    return this.sql("SELECT * FROM engine_containers WHERE state != 'creating' ORDER BY created_at DESC, rowid DESC").all().map(toRecord);
  }

  /** How many containers are in each state, the half made included (berthd's sleep asks every second: no record is read whole). */
  countByState(): Map<ContainerState, number> {
    return new Map(this.sql('SELECT state, count(*) AS n FROM engine_containers GROUP BY state').all().map((r) => [String(r['state']) as ContainerState, Number(r['n'])]));
  }

  /** Records still `creating`: after a crash, what the daemon must clean up (remove their resources, then `remove`). */
  listIncomplete(): ContainerRecord[] {
    return this.sql("SELECT * FROM engine_containers WHERE state = 'creating' ORDER BY created_at").all().map(toRecord);
  }

  private mustGet(id: string): ContainerRecord {
    const record = this.get(id);
    if (record === undefined) throw notFound('container_not_found', `container "${id}": not found`);
    return record;
  }

  private write(next: ContainerRecord, marks: Marks): void {
    this.sql(
      `UPDATE engine_containers SET state = ?, pid = ?, exit_code = ?, error = ?, started_at = ?, finished_at = ?,
         restart_count = ?, stopped_by_user = ? WHERE id = ?`,
    ).run(
      next.state,
      next.pid,
      next.exitCode,
      next.error,
      next.startedAt,
      next.finishedAt,
      marks.restartCount ?? next.restartCount,
      (marks.stoppedByUser ?? next.stoppedByUser) ? 1 : 0,
      next.id,
    );
  }
}

function nameInUse(name: string, holder: string): Error {
  return alreadyExists(
    'container_name_in_use',
    `container name "${name}": already in use by container ${holder.slice(0, 12)}, remove or rename that container to reuse the name`,
    { details: { name, id: holder } },
  );
}

function isRestartPolicyName(value: unknown): value is RestartPolicyName {
  return typeof value === 'string' && (RESTART_POLICIES as readonly string[]).includes(value);
}

function checkRestartPolicy(policy: RestartPolicy): void {
  if (!isRestartPolicyName(policy.name)) {
    throw invalidArgument('invalid_restart_policy', `restart policy ${JSON.stringify(policy.name)}: not one of ${RESTART_POLICIES.join(', ')}`);
  }
  const max = policy.maximumRetryCount;
  if (!Number.isInteger(max) || max < 0 || (max > 0 && policy.name !== 'on-failure')) {
    throw invalidArgument('invalid_restart_policy', `restart policy "${policy.name}": maximum retry count ${max} is not allowed`);
  }
}

function toRecord(row: Record<string, unknown>): ContainerRecord {
  const id = storedString(row['id'], 'engine container');
  const what = `engine container ${id}`;
  const state = row['state'];
  if (!isContainerState(state)) throw internal('engine_record_corrupt', `${what}: unknown state ${String(state)}`);
  const policy = row['restart_policy'];
  if (!isRestartPolicyName(policy)) throw internal('engine_record_corrupt', `${what}: unknown restart policy ${String(policy)}`);
  return {
    id,
    name: storedString(row['name'], `${what} name`),
    imageRef: storedString(row['image_ref'], `${what} image reference`),
    imageId: storedString(row['image_id'], `${what} image ID`),
    createdAt: storedString(row['created_at'], `${what} created`),
    options: parseStoredJson(row['options'], `${what} options`),
    state,
    pid: storedOptionalInt(row['pid'], `${what} pid`),
    exitCode: storedOptionalInt(row['exit_code'], `${what} exit code`),
    error: storedOptionalString(row['error'], `${what} error`),
    startedAt: storedOptionalString(row['started_at'], `${what} started`),
    finishedAt: storedOptionalString(row['finished_at'], `${what} finished`),
    restartPolicy: { name: policy, maximumRetryCount: storedInt(row['restart_max'], `${what} restart max`) },
    restartCount: storedInt(row['restart_count'], `${what} restart count`),
    stoppedByUser: storedInt(row['stopped_by_user'], `${what} stopped by user`) !== 0,
    labels: parseStoredLabels(row['labels'], `${what} labels`),
  };
}
