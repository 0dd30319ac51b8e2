/**
 * Function records in the engine's database (table engine_functions,
 * migration 4 of src/engine/store/db.ts, under the engine's schema version:
 * a function's record and its replicas' container records live in one file,
 * so the gateway and the engine never disagree about which file is newer).
 * The spec is kept as the FunctionDeployment it was deployed with and read
 * back through the same checks, so a hand-edited row fails naming itself.
 */
import type { DatabaseSync } from 'node:sqlite';
import { alreadyExists, internal, isBerthError, notFound } from '../errors.ts';
import { inTransaction, inUnsyncedTransaction, isUniqueViolation } from '../sqlite.ts';
import { parseStoredJson, storedInt, storedString } from '../sqlite-row.ts';
import { parseDeployment, type FunctionSpec } from './deployment.ts';

export interface FunctionRecord {
  spec: FunctionSpec;
  /** Replicas wanted (0 when scaled to zero). */
  replicas: number;
  /** Goes up at each update: replicas of an older revision are replaced. */
  revision: number;
  createdAt: string;
  updatedAt: string;
}

/** The FunctionDeployment a spec was made from (what is stored, and what describe shows). */
export function deploymentOf(s: FunctionSpec): Record<string, unknown> {
  return {
    service: s.name,
    namespace: s.namespace,
    image: s.image,
    ...(s.envProcess === undefined ? {} : { envProcess: s.envProcess }),
    envVars: s.envVars,
    labels: s.labels,
    annotations: s.annotations,
    secrets: s.secrets,
    ...(s.limits === undefined ? {} : { limits: s.limits }),
    ...(s.requests === undefined ? {} : { requests: s.requests }),
    readOnlyRootFilesystem: s.readOnlyRootFilesystem,
  };
}

const COLUMNS = 'name, namespace, spec, replicas, revision, created_at, updated_at';

export class FunctionStore {
  readonly db: DatabaseSync;

  constructor(db: DatabaseSync) {
    this.db = db;
  }

  private row(r: Record<string, unknown>): FunctionRecord {
    const what = `function "${String(r['name'])}"`;
    let spec: FunctionSpec;
    try {
      spec = parseDeployment(parseStoredJson(r['spec'], `${what} spec`));
    } catch (err) {
      if (isBerthError(err, 'faas_deployment_invalid')) throw internal('engine_record_corrupt', `${what}: stored spec is not valid`, { cause: err });
      throw err;
    }
    return {
      spec,
      replicas: storedInt(r['replicas'], `${what} replicas`),
      revision: storedInt(r['revision'], `${what} revision`),
      createdAt: storedString(r['created_at'], `${what} created_at`),
      updatedAt: storedString(r['updated_at'], `${what} updated_at`),
    };
  }

  list(namespace: string): FunctionRecord[] {
    return this.db.prepare(`SELECT ${COLUMNS} FROM engine_functions WHERE namespace = ? ORDER BY name`).all(namespace).map((r) => this.row(r));
  }

  /** The namespaces that hold a function. */
  namespaces(): string[] {
    return this.db.prepare('SELECT DISTINCT namespace FROM engine_functions ORDER BY namespace').all().map((r) => String(r['namespace']));
  }

  get(namespace: string, name: string): FunctionRecord | undefined {
    const r = this.db.prepare(`SELECT ${COLUMNS} FROM engine_functions WHERE namespace = ? AND name = ?`).get(namespace, name);
    return r === undefined ? undefined : this.row(r);
  }

  mustGet(namespace: string, name: string): FunctionRecord {
    const r = this.get(namespace, name);
    if (r === undefined) throw notFound('faas_function_not_found', `function "${name}": not found in namespace ${namespace}`);
    return r;
  }

  /** A new function (refused when the name is taken), durable when it returns. */
  create(spec: FunctionSpec, replicas: number): FunctionRecord {
    const now = new Date().toISOString();
    try {
      this.db
        .prepare(
          `INSERT INTO engine_functions (namespace, name, image, env_process, spec, replicas, revision, scale_zero, scale_zero_ms, scale_min, scale_max, created_at, updated_at)
           VALUES (?, ?, ?, ?, ?, ?, 1, ?, ?, ?, ?, ?, ?)`,
        )
        .run(spec.namespace, spec.name, spec.image, spec.envProcess ?? null, JSON.stringify(deploymentOf(spec)), replicas, spec.scaling.zero ? 1 : 0, spec.scaling.zeroDurationMs, spec.scaling.min, spec.scaling.max, now, now);
    } catch (err) {
      if (isUniqueViolation(err)) throw alreadyExists('faas_function_exists', `function "${spec.name}": already deployed in namespace ${spec.namespace} (update it with PUT)`);
      throw err;
    }
    return this.mustGet(spec.namespace, spec.name);
  }

  /** A new spec for a deployed function: the next revision, replicas as given. */
  update(spec: FunctionSpec, replicas: number): FunctionRecord {
    return inTransaction(this.db, () => {
      const old = this.mustGet(spec.namespace, spec.name);
      this.db
        .prepare(
          `UPDATE engine_functions SET image = ?, env_process = ?, spec = ?, replicas = ?, revision = ?, scale_zero = ?, scale_zero_ms = ?, scale_min = ?, scale_max = ?, updated_at = ?
           WHERE namespace = ? AND name = ?`,
        )
        .run(spec.image, spec.envProcess ?? null, JSON.stringify(deploymentOf(spec)), replicas, old.revision + 1, spec.scaling.zero ? 1 : 0, spec.scaling.zeroDurationMs, spec.scaling.min, spec.scaling.max, new Date().toISOString(), spec.namespace, spec.name);
      return this.mustGet(spec.namespace, spec.name);
    });
  }

  /**
   * `durable: false` commits without an fsync of its own (inUnsyncedTransaction): for a scale from
   * zero on a cold start's path, which a power cut may lose without harm (the function is found at
   * zero again, as its replica is after one); the start's own durable commit follows.
   */
  setReplicas(namespace: string, name: string, replicas: number, durable = true): FunctionRecord {
    const update = (): number | bigint => this.db.prepare('UPDATE engine_functions SET replicas = ? WHERE namespace = ? AND name = ?').run(replicas, namespace, name).changes;
    const changes = durable ? update() : inUnsyncedTransaction(this.db, update);
    if (changes === 0) throw notFound('faas_function_not_found', `function "${name}": not found in namespace ${namespace}`);
    return this.mustGet(namespace, name);
  }

  remove(namespace: string, name: string): void {
    const r = this.db.prepare('DELETE FROM engine_functions WHERE namespace = ? AND name = ?').run(namespace, name);
    if (r.changes === 0) throw notFound('faas_function_not_found', `function "${name}": not found in namespace ${namespace}`);
  }
}
