/**
 * `create`: a container set up and waiting for `start`. TypeScript claims
 * the id, prepares the cgroup and compiles the plan; the executor does the
 * rest, stopping at three points where TypeScript acts on the new process:
 * id mappings, cgroup placement, and the runtime-namespace hooks.
 */
import { renameSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { cleanupAfter } from '../../errors.ts';
import { RUNTIME_SPEC_VERSION, type State } from '../../oci/runtime-spec.ts';
import { cgroupMounts, type Cgroup } from '../cgroups/index.ts';
import { containerCgroup } from './cgroup.ts';
import { type Execution, runExecutor, type StdioEntry } from '../executor/executor.ts';
import { runHooks } from '../hooks.ts';
import { mountPointOf } from '../linux/mountinfo.ts';
import { withHome } from './home.ts';
import { compileCreatePlan, hostHasKcore, namespacesOf, parentMayBeShared, SYNC_CREATED, SYNC_HOOKS, SYNC_USERNS } from '../plan/create-plan.ts';
import { effectiveResources } from '../plan/device-rules.ts';
import { type Bundle, loadBundle } from '../spec/load.ts';
import type { Lock } from '../state/lock.ts';
import type { Plan } from '../plan/encode.ts';
import { readProcStat } from '../state/proc.ts';
import { type ContainerRecord, EXEC_FIFO } from '../state/store.ts';
import { writeIdMappings } from '../userns.ts';
import { type RuntimeContext, warn } from './context.ts';
import { compileSeccompFor, listenerState } from './seccomp.ts';
import { signalProcess } from './wait.ts';
import { mark } from '../../trace.ts';

export interface CreateOptions {
  bundle: string;
  pidFile?: string | undefined;
  consoleSocket?: string | undefined;
  noPivot?: boolean;
  preserveFds?: number;
  /** The executor stays, waits for the container and exits with its status (`run`, the engine). */
  wait?: boolean;
  stdio?: readonly [StdioEntry, StdioEntry, StdioEntry] | 'inherit';
}

export interface Created {
  pid: number;
  /** With `wait`: the executor that exits with the container's status. */
  execution: Execution;
  /** What state.json now says. */
  record: ContainerRecord;
}

/** Writes a pid file atomically, as runc does (callers poll for it). */
export function writePidFile(path: string, pid: number): void {
  const abs = resolve(path);
  const tmp = join(dirname(abs), `.${process.pid}.pid.tmp`);
  writeFileSync(tmp, String(pid));
  renameSync(tmp, abs);
}

/** Rootless: one line naming what is not enforced, instead of one per hierarchy. */
function reportCgroupWarnings(id: string, warnings: readonly string[]): void {
  const skipped: string[] = [];
  for (const w of warnings) {
    const m = /cannot be created \(rootless\): (\S+) is not managed/.exec(w);
    if (m?.[1]) skipped.push(m[1]);
    else warn(`container "${id}": ${w}`, { id });
  }
  if (skipped.length > 0) {
    warn(`container "${id}": rootless: cgroups ${skipped.join(', ')} are not writable, so their limits are not enforced and the container is not confined to them`, {
      id,
    });
  }
}

export async function create(ctx: RuntimeContext, id: string, options: CreateOptions): Promise<Created> {
  const created = await createLocked(ctx, id, options);
  await created.lock.release();
  return created;
}

/** `create`, still holding the container's lock (`run` starts it before letting go). */
export async function createLocked(ctx: RuntimeContext, id: string, options: CreateOptions): Promise<Created & { lock: Lock }> {
  // Creating and joining the cgroup wait for the kernel's grace period (see ../cgroups/warm.ts) unless
  // it has passed already: the host keeps it out of the way until the container is placed.
  const stopWarming = ctx.host.warmCgroupJoin();
  try {
    const bundle = await loadBundle(options.bundle);
    mark('create: bundle loaded and validated');
    const stateDir = await ctx.store.claim(id);
    const lock = await ctx.store.lock(id);
    mark('create: id claimed and locked');
    try {
      return { ...(await createClaimed(ctx, id, options, bundle, stateDir)), lock };
    } catch (err) {
      await lock.release();
      throw err;
    }
  } finally {
    stopWarming();
  }
}

async function createClaimed(ctx: RuntimeContext, id: string, options: CreateOptions, bundle: Bundle, stateDir: string): Promise<Created> {
  const { store } = ctx;
  const { spec } = bundle;

  const record: ContainerRecord = {
    ociVersion: spec.ociVersion || RUNTIME_SPEC_VERSION,
    id,
    status: 'creating',
    pid: 0,
    bundle: bundle.dir,
    rootfs: bundle.rootfs,
    created: new Date().toISOString(),
    owner: process.getuid?.() === 0 ? 'root' : String(process.getuid?.() ?? ''),
    config: spec,
    namespaces: Object.fromEntries(namespacesOf(spec).map((ns) => [ns.type, ns.path ?? ''])),
  };
  if (spec.annotations) record.annotations = spec.annotations;
  let cgroup: Cgroup | undefined;
  let creating: Promise<void> = Promise.resolve();
  let pid = 0;
  try {
    cgroup = containerCgroup(ctx, id, spec.linux?.cgroupsPath, effectiveResources(spec));
    // Recorded before it exists, so a crash in between leaves nothing `delete` cannot find;
    // again after, since a rootless create drops the hierarchies it cannot write.
    record.cgroup = cgroup.paths;
    await store.write(record);
    const cg = cgroup;
    const terminal = spec.process?.terminal === true;
    const seccomp = spec.linux?.seccomp ? await compileSeccompFor(spec.linux.seccomp) : undefined;
    // HOME, when the spec has none, from the container's /etc/passwd (./home.ts).
    const planSpec = spec.process ? { ...spec, process: withHome(spec.process, bundle.rootfs, bundle.dir, spec.mounts) } : spec;
    const compile = (selfJoin: boolean): Plan =>
      compileCreatePlan({
        spec: planSpec,
        bundle: bundle.dir,
        rootfs: bundle.rootfs,
        stateDir,
        fifoName: EXEC_FIFO,
        consoleSocket: options.consoleSocket ? resolve(options.consoleSocket) : undefined,
        noPivot: options.noPivot ?? false,
        preserveFds: options.preserveFds ?? 0,
        wait: options.wait ?? false,
        consoleProxy: terminal && !options.consoleSocket && (options.wait ?? false),
        cgroupMounts: (dest, readOnly, cgroupNamespace) => cgroupMounts(cg.paths, dest, { readOnly, cgroupNamespace }),
        // Read from mountinfo only when the plan uses it (it grows with every mount on the host).
        rootfsParentMount: parentMayBeShared(spec) ? mountPointOf(dirname(bundle.rootfs)) : undefined,
        seccomp,
        hostHasKcore: hostHasKcore(),
        unprivileged: process.geteuid?.() !== 0,
        cgroupProcs: selfJoin ? Object.values(cg.paths.dirs).map((dir) => join(dir, 'cgroup.procs')) : undefined,
      });
    const created = (): void => {
      mark('create: cgroup created');
      record.cgroup = cg.paths;
      reportCgroupWarnings(id, cg.warnings);
    };
    let plan: Plan;
    if (process.geteuid?.() !== 0) {
      // Rootless: the hierarchies it cannot write drop out of the paths, so the plan comes after;
      // the container process joins what is left itself.
      await cgroup.create();
      created();
      plan = compile(true);
    } else {
      // The cgroup's directories are made (waiting out the kernel's grace period, see
      // ../cgroups/warm.ts) while the executor starts; the container process waits at a sync
      // until this process has placed it there.
      plan = compile(false);
      creating = cgroup.create().then(created);
      creating.catch(() => undefined);
    }
    mark('create: plan compiled');
    const state = (status: State['status']): State => {
      const s: State = { ociVersion: record.ociVersion, id, status, pid, bundle: bundle.dir };
      if (spec.annotations) s.annotations = spec.annotations;
      return s;
    };
    const execution = await runExecutor(ctx.host, {
      plan,
      stdio: options.stdio ?? 'inherit',
      preserveFds: options.preserveFds ?? 0,
      onPid: (p) => {
        pid = p;
      },
      onSync: async (tag, sync) => {
        mark(`create: sync ${tag}`);
        switch (tag) {
          case SYNC_USERNS:
            await writeIdMappings(sync.executorPid, spec.linux?.uidMappings ?? [], spec.linux?.gidMappings ?? []);
            return [];
          case SYNC_CREATED:
            await creating;
            await cg.addProcess(pid);
            mark('create: placed in the cgroup');
            return [];
          case SYNC_HOOKS: {
            await runHooks('prestart', spec.hooks?.prestart, state('creating'));
            await runHooks('createRuntime', spec.hooks?.createRuntime, state('creating'));
            return [JSON.stringify(state('creating')), JSON.stringify(state('created')), listenerState(seccomp, pid, state('created'))];
          }
          default:
            return [];
        }
      },
    });
    await execution.ready;
    mark('create: ready');
    record.pid = pid;
    const stat = readProcStat(pid);
    if (stat) record.pidStartTime = stat.startTime;
    record.status = 'created';
    await store.write(record);
    mark('create: state written');
    if (options.pidFile) writePidFile(options.pidFile, pid);
    return { pid, execution, record };
  } catch (err) {
    if (pid > 0) signalProcess(pid, 9);
    // The cgroup's own creation failing may be `err` itself: awaited, not reported twice.
    await creating.catch(() => undefined);
    await cleanupAfter(err, () => cgroup?.destroy());
    await cleanupAfter(err, () => store.remove(id));
    throw err;
  }
}
