/**
 * The engine: containers from images, as users of docker and podman know
 * them. A library first; berthd (src/api) and the command line are thin
 * shells over it.
 *
 * Promises kept, and how:
 * - Durable before reported: every state change is a transaction on the
 *   engine database (synchronous = FULL) that returns before the caller
 *   hears of it, and before the next step that depends on it.
 * - Whole or nothing: a create writes its record (`creating`) first, then
 *   the snapshot, the files and the spec, then `created`; whatever a crash
 *   leaves in `creating` (or `removing`) is undone by `recover()` at the
 *   next start, as is any snapshot or directory no record names.
 * - Containers outlive the engine: each runs under berth-monitor (native,
 *   src/engine/monitor), which holds its stdio, writes its log and keeps
 *   its exit status in RUN/exit. The engine watches that file; a new
 *   engine re-adopts what runs and reads the exits it missed.
 * - One operation per container at a time (`serial`), so an exit racing a
 *   stop, or a start racing a removal, see each other's result.
 * - A created container can be primed (`prime`): carried through the first
 *   half of a start (rootfs, run dir, network, berth-monitor and the
 *   runtime's create, its process blocked before execve) and held there,
 *   its record still `created`; its start is then only the runtime's start.
 *   Whatever changes what that half made (rm, update, network connect)
 *   un-primes it first; a new engine un-primes what a previous one primed
 *   (recover), so only this process's memory says what is primed.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, symlinkSync, watch, writeFileSync, type FSWatcher } from 'node:fs';
import { join } from 'node:path';
import type { DatabaseSync } from 'node:sqlite';
import { alreadyExists, failedPrecondition, internal, invalidArgument, isBerthError, notFound } from '../errors.ts';
import { buildDir } from '../paths.ts';
import { delay } from '../delay.ts';
import { lazy } from '../lazy.ts';
import type { ImageConfig } from '../oci/image-spec.ts';
import type { LinuxResources, Spec } from '../oci/runtime-spec.ts';
import type { ImageRecord, ImageStore } from '../image/store/store.ts';
import { describeError } from '../errors.ts';
import { readExit } from './monitor/exit-file.ts';
import { type ExecutorMonitorOptions, startMonitor } from './monitor/spawn.ts';
import { executorPath } from '../runtime/host/spawn.ts';
import { isAlive } from '../runtime/state/proc.ts';
import { containerDir, containersDir, databasePath, logPath, runDir, runtimeRoot, type EnginePaths } from './paths.ts';
import { containerSnapshots, imageTop, isMounted, mountRootfs, releaseRootfs, sweepSnapshots } from './rootfs.ts';
import { overwrite, writeEtcFiles, writeNetworkFiles } from './etc-files.ts';
import { attachRequests, exposedPorts, joinsNetns, networkFileInputs, netnsLink, portsToPublish, requireLayer, type NetworkLayer, type NetworkUp } from './networking.ts';
import { networkKind } from './spec/network-options.ts';
import type { NetworkRecord, SandboxInfo } from '../network/types.ts';
import { ContainerNetworkStore, type ContainerNetwork } from './store/container-networks.ts';
import { EngineEvents } from './events.ts';
import { readStoredOptions, type StoredOptions } from './stored.ts';
import { commandLine, containerSpec, stopSignal, volumesToResolve } from './spec/container-spec.ts';
import { effectiveHealthcheck } from './spec/health.ts';
import type { RunOptions } from './spec/options.ts';
import { openEngineDatabase } from './store/db.ts';
import { ContainerStore, type ContainerRecord, type RestartPolicy as StoredRestart } from './store/containers.ts';
import { VolumeStore } from './volumes/volumes.ts';
import type { RuntimeContext } from '../runtime/lifecycle/context.ts';
import type { ContainerRecord as RuntimeRecord } from '../runtime/state/store.ts';
import type { Lock } from '../runtime/state/lock.ts';
import type { ExecContainer } from './exec/sessions.ts';
import type { ContainerView as OpsView } from './ops/container-fs.ts';

export interface LogLimits {
  maxSize: number;
  maxFiles: number;
  lineMax: number;
}

/** Docker's json-file has no cap; berth caps every log (10 MiB × 3 files), as podman's k8s-file can. */
export const DEFAULT_LOG_LIMITS: LogLimits = { maxSize: 10 * 1024 * 1024, maxFiles: 3, lineMax: 16 * 1024 };
const DEFAULT_STOP_TIMEOUT = 10;
const SIGKILL = 9;
/**
 * Test only (test/integration/engine/crash.test.ts): holds every create
 * this long with all its parts made but its record still `creating`, so a
 * crash of berthd reliably hits the widest half-made window.
 */
/** In ROOT/containers/ID while a removal with rm -v runs. */
export const REMOVE_VOLUMES = 'remove-volumes';
/** How long a monitor whose container was killed may take to record the exit and go. */
const MONITOR_GONE_MS = 10_000;
const TEST_CREATE_DELAY_MS = Number(process.env['BERTH_TEST_CREATE_DELAY_MS'] ?? 0) || 0;
/** Test only (crash tests): holds each start with its monitor up and the container created, before the runtime's start. */
const TEST_START_DELAY_MS = Number(process.env['BERTH_TEST_START_DELAY_MS'] ?? 0) || 0;
// What every run needs, loaded on the first and kept (src/lazy.ts).
const namesModule = lazy(() => import('./names.ts'));
const userDbModule = lazy(() => import('../image/bundle/read-user-db.ts'));
const rootfsModule = lazy(() => import('../image/unpack/rootfs.ts'));
const monitorHostModule = lazy(() => import('./monitor/host.ts'));
const createModule = lazy(() => import('../runtime/lifecycle/create.ts'));
const startModule = lazy(() => import('../runtime/lifecycle/start.ts'));
const oomModule = lazy(() => import('./oom.ts'));
/** How long a create or start keeps the cgroup join warm (warmCgroupJoin): a start right after a create finds it so. */
const CGROUP_WARM_MS = 200;
/** Image configs kept parsed (imageConfig). */
const IMAGE_CONFIGS_KEPT = 32;
/** In RUN (the run dir) while the container is primed: its process's pid (recover() un-primes what it finds so marked). */
export const PRIMED_MARKER = 'primed';

/** The runtime's record of a container its create just made, and that create's lock, still held (launch starts it before letting go). */
interface Held {
  record: RuntimeRecord;
  lock: Lock;
}

/** A primed container's process, blocked before execve under its monitor, and the runtime's record of it (read at the prime). */
interface Primed {
  pid: number;
  startTime: string | undefined;
  record: RuntimeRecord;
}

export interface EngineOptions extends Partial<EnginePaths> {
  /** The image store to run images from (opened at `root` when absent). */
  images?: ImageStore;
  /** The OCI runtime the monitor runs (default: berth-runtime next to this build). */
  runtime?: string;
  monitor?: string;
  logLimits?: LogLimits;
  /** Pulls an image that is not in the store (`--pull`); without it, pulling is refused. */
  pull?: (ref: string) => Promise<ImageRecord>;
  /** Where `--init` finds its program (default build/berth-init). */
  initProgram?: string;
  /** Bridged networks and published ports (berthd's), made over the engine's database; without it only none, host and container:X run. */
  network?: (db: DatabaseSync, paths: EnginePaths) => NetworkLayer;
}

export interface CreateRequest {
  image: string;
  args?: string[];
  options: RunOptions;
  tty?: boolean;
  openStdin?: boolean;
  stdinOnce?: boolean;
  /** The text of the profile `--security-opt seccomp=FILE` names (the client reads the file). */
  seccompProfileText?: string;
  /** The terminal's size from its start (Docker's HostConfig.ConsoleSize); with `tty` only. */
  consoleSize?: { height: number; width: number };
  /** Called as each step of the create ends (the functions gateway times its cold starts so). */
  onPhase?: Phase;
}

/** Told the name of each step of a create or a start as it ends. */
export type Phase = (name: string) => void;

/** The longest a start's `holdRecord` may hold the record's `running` back. */
export const RUNNING_HOLD_MAX_MS = 100;

export interface StartOptions {
  /**
   * Once the program runs, the record's `running` (a synchronous, fsync'd
   * commit: it blocks this process's event loop, 2 ms on a quiet disk, more
   * under load) waits for this to settle, at most RUNNING_HOLD_MAX_MS: the
   * functions gateway answers a cold start's request first. The start
   * resolves, and its event is published, once the record says running.
   */
  holdRecord?: Promise<unknown>;
}

export type WaitCondition = 'not-running' | 'next-exit' | 'removed';

export interface ExitResult {
  code: number;
  error?: string;
}

/** A container as the engine shows it: the record and what is read from its files. */
export interface ContainerView {
  record: ContainerRecord;
  options: StoredOptions;
  restarting: boolean;
  paths: { dir: string; rootfs: string; log: string; runDir: string; hosts: string; hostname: string; resolvConf: string; config: string };
  /** The networks it asks for (resolved; one gone since is left out) and, while it runs, what CNI made. */
  networks: { record: NetworkRecord; request: ContainerNetwork }[];
  sandbox?: SandboxInfo;
}

export class Engine {
  readonly paths: EnginePaths;
  readonly containers: ContainerStore;
  readonly volumes: VolumeStore;
  readonly containerNetworks: ContainerNetworkStore;
  readonly network: NetworkLayer | undefined;
  readonly events = new EngineEvents();
  readonly images: ImageStore;
  private readonly runtime: string;
  private readonly options: EngineOptions;
  private readonly logLimits: LogLimits;
  private readonly queues = new Map<string, Promise<unknown>>();
  private readonly watchers = new Map<string, FSWatcher>();
  private readonly restartTimers = new Map<string, NodeJS.Timeout>();
  /** Attach requests that came before the container started: connected between the runtime's create and start. */
  private readonly beforeStart = new Map<string, ((runDir: string) => Promise<void>)[]>();
  /** Created containers carried through the first half of their start (`prime`). */
  private readonly primed = new Map<string, Primed>();
  private runtimeCtx: Promise<RuntimeContext> | undefined;
  private readonly configs = new Map<string, ImageConfig>();
  private warm: { until: number; stop?: () => void } | undefined;
  private closed = false;
  private readonly closers: (() => void)[] = [];

  private constructor(paths: EnginePaths, images: ImageStore, options: EngineOptions) {
    this.paths = paths;
    this.images = images;
    this.options = options;
    this.runtime = options.runtime ?? join(buildDir(), '..', 'bin', 'berth-runtime');
    this.logLimits = options.logLimits ?? DEFAULT_LOG_LIMITS;
    const db = openEngineDatabase(databasePath(paths));
    this.containers = new ContainerStore(db);
    this.volumes = new VolumeStore(db, paths.root);
    this.containerNetworks = new ContainerNetworkStore(db);
    this.network = options.network?.(db, paths);
  }

  /** Opens the engine at its root; `recover()` must run before containers are served. */
  static async open(options: EngineOptions = {}): Promise<Engine> {
    const { ImageStore, DEFAULT_ROOT } = await import('../image/store/store.ts');
    const root = options.root ?? options.images?.root ?? DEFAULT_ROOT;
    const images = options.images ?? (await ImageStore.open({ root }));
    const paths: EnginePaths = { root, runRoot: options.runRoot ?? '/run/berth' };
    mkdirSync(containersDir(paths), { recursive: true, mode: 0o700 });
    mkdirSync(join(paths.runRoot, 'containers'), { recursive: true, mode: 0o700 });
    return new Engine(paths, images, options);
  }

  /** Runs `fn` when the engine closes (the daemon's other parts that hold per-container state). */
  onClose(fn: () => void): void {
    this.closers.push(fn);
  }

  /**
   * Why the engine needs this process to go on: a container that is not
   * at rest (running, paused, being made, started or removed), a restart
   * due, a replica primed, an operation under way on a container, or the
   * network layer's own work; undefined when there is none and berthd may
   * sleep (src/api/sleep.ts). A container at rest needs nothing of it:
   * its record and files are all there is.
   */
  busy(): string | undefined {
    const active = [...this.containers.countByState()].filter(([state]) => state !== 'created' && state !== 'exited');
    const n = active.reduce((sum, [, count]) => sum + count, 0);
    if (n > 0) return `${n} container(s) ${active.map(([state]) => state).join(', ')}`;
    if (this.restartTimers.size > 0) return `${this.restartTimers.size} restart(s) due`;
    if (this.primed.size > 0) return `${this.primed.size} replica(s) primed`;
    if (this.queues.size > 0) return `${this.queues.size} container operation(s) under way`;
    return this.network?.busy();
  }

  /** close(), then what the network layer holds in this process (the pool's sandboxes, the resolver, held ports' sockets). */
  async shutdown(): Promise<void> {
    this.close();
    await this.network?.close();
  }

  close(): void {
    this.closed = true;
    this.warm?.stop?.();
    this.warm = undefined;
    for (const fn of this.closers.splice(0)) fn();
    for (const w of this.watchers.values()) w.close();
    this.watchers.clear();
    for (const t of this.restartTimers.values()) clearTimeout(t);
    this.restartTimers.clear();
  }

  // ---- lookup ---------------------------------------------------------

  /** By full ID, unique ID prefix or name (a half-made container is not found). */
  find(ref: string): ContainerRecord {
    return this.containers.find(ref);
  }

  view(ref: string): ContainerView {
    const record = this.find(ref);
    return this.viewOf(record);
  }

  list(): ContainerView[] {
    return this.containers
      .list()
      .filter((r) => r.state !== 'creating')
      .map((r) => this.viewOf(r));
  }

  private viewOf(record: ContainerRecord): ContainerView {
    const dir = containerDir(this.paths, record.id);
    const layer = this.network;
    const networks = layer === undefined ? [] : this.containerNetworks.of(record.id).flatMap((request) => {
      try {
        return [{ record: layer.network(request.networkId), request }];
      } catch {
        return [];
      }
    });
    const sandbox = record.state === 'running' || record.state === 'paused' ? layer?.sandboxOf(record.id) : undefined;
    return {
      networks,
      ...(sandbox === undefined ? {} : { sandbox }),
      record,
      options: readStoredOptions(record.options, record.name),
      restarting: this.restartTimers.has(record.id),
      paths: {
        dir,
        rootfs: join(dir, 'rootfs'),
        log: logPath(this.paths, record.id),
        runDir: runDir(this.paths, record.id),
        hosts: join(dir, 'hosts'),
        hostname: join(dir, 'hostname'),
        resolvConf: join(dir, 'resolv.conf'),
        config: join(dir, 'config.json'),
      },
    };
  }

  /** The image a reference names, pulled first when the policy says so. */
  async resolveImage(ref: string, policy: RunOptions['pull']): Promise<ImageRecord> {
    const local = policy === 'always' ? undefined : this.images.tryResolve(ref);
    if (local !== undefined) return local;
    if (policy === 'never') throw notFound('image_not_found', `image "${ref}": not in the store, and --pull never forbids pulling it`);
    if (this.options.pull === undefined) throw notFound('image_not_found', `image "${ref}": not in the store`);
    this.events.publish('image', 'pull', ref);
    try {
      return await this.options.pull(ref);
    } catch (err) {
      // The registry's words alone ("connect ECONNREFUSED") would not say which image was wanted.
      throw notFound('image_not_found', `image "${ref}": not in the store, and pulling it failed`, { cause: err });
    }
  }

  /**
   * The image's config, read (its blob's digest checked) once per config
   * digest: content-addressed, it never changes. Each caller gets its own
   * copy. The last few images are kept.
   */
  private async imageConfig(img: ImageRecord): Promise<ImageConfig> {
    const digest = img.config.digest;
    let config = this.configs.get(digest);
    if (config === undefined) {
      config = await this.images.readConfig(img);
      if (this.configs.size >= IMAGE_CONFIGS_KEPT) this.configs.delete(this.configs.keys().next().value!);
      this.configs.set(digest, config);
    }
    return structuredClone(config);
  }

  // ---- create ---------------------------------------------------------

  async create(req: CreateRequest): Promise<ContainerRecord> {
    this.warmCgroupJoin();
    const options = req.options;
    if (options.autoRemove && options.restart.name !== 'no') {
      throw invalidArgument('run_flag_conflict', `--rm and --restart ${options.restart.name}: a container removed at its exit cannot be restarted`);
    }
    const img = await this.resolveImage(req.image, options.pull);
    const config = await this.imageConfig(img);
    req.onPhase?.('image config');
    const args = req.args ?? [];
    // Checked before anything is made: a command is needed, the stop signal must parse.
    const command = commandLine(config, options, args);
    const signal = stopSignal(config, options);
    for (const m of options.mounts) {
      if (m.type === 'bind' && !existsSync(m.source)) {
        throw invalidArgument('bind_source_missing', `bind mount source "${m.source}" (for ${m.target}): no such file or directory on the host`);
      }
    }
    const networks = this.networksAskedFor(options);
    const top = await imageTop(this.images, img);
    const restartPolicy: StoredRestart =
      options.restart.name === 'on-failure' ? { name: 'on-failure', maximumRetryCount: options.restart.maxRetries } : { name: options.restart.name, maximumRetryCount: 0 };
    const health = effectiveHealthcheck(config.config?.Healthcheck, options.health);
    const stored: StoredOptions = {
      run: options,
      args,
      command,
      tty: req.tty === true,
      openStdin: req.openStdin === true,
      stdinOnce: req.stdinOnce === true,
      stopSignal: signal,
      stopTimeout: options.stopTimeout ?? DEFAULT_STOP_TIMEOUT,
      imageTop: top,
      ...(health === undefined ? {} : { health }),
      volumes: {},
      exposed: exposedPorts(config, options),
    };
    const name = options.name ?? (await namesModule()).randomName((n) => this.containers.get(n) !== undefined || this.nameTaken(n));
    const record = this.containers.beginCreate(
      {
        name,
        imageRef: req.image,
        imageId: img.id,
        options: stored,
        restartPolicy,
        labels: { ...config.config?.Labels, ...options.labels },
      },
      // In the record's transaction: a commit of their own would be one more fsync.
      (r) => {
        for (const n of networks) this.containerNetworks.add({ ...n, containerId: r.id });
      },
    );
    try {
      stored.volumes = await this.make(record, config, req, stored);
      if (TEST_CREATE_DELAY_MS > 0) await delay(TEST_CREATE_DELAY_MS);
      // The volumes chosen are part of the record, written with `created`: then the container exists.
      const created = this.containers.finishCreate(record.id, stored);
      this.events.publish('container', 'create', created.id, this.attributes(created));
      return created;
    } catch (err) {
      await this.destroy(record.id, true).catch(() => undefined);
      throw err;
    }
  }

  /**
   * The networks a create asks for, resolved before anything is made (an
   * unknown network or container is an error naming it); `container:X`
   * needs X to exist now and to run at each start.
   */
  private networksAskedFor(o: RunOptions): Omit<ContainerNetwork, 'containerId'>[] {
    const kind = networkKind(o.network);
    if (kind.kind === 'container') {
      this.find(kind.container);
      return [];
    }
    if (kind.kind !== 'network') return [];
    const layer = requireLayer(this.network, o.network);
    const net = kind.name === 'bridge' ? layer.defaultNetwork() : layer.network(kind.name);
    return [
      {
        networkId: net.id,
        aliases: o.networkAliases ?? [],
        ...(o.ipv4Address === undefined ? {} : { ipv4Address: o.ipv4Address }),
        ...(o.macAddress === undefined ? {} : { macAddress: o.macAddress }),
      },
    ];
  }

  private nameTaken(name: string): boolean {
    try {
      return this.containers.find(name).name === name;
    } catch {
      return false;
    }
  }

  /** Everything a container is made of, beside its record; returns its volumes by target. */
  private async make(record: ContainerRecord, config: ImageConfig, req: CreateRequest, stored: StoredOptions): Promise<Record<string, string>> {
    const dir = containerDir(this.paths, record.id);
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    const rootfs = await mountRootfs(this.paths, record.id, stored.imageTop);
    req.onPhase?.('snapshot');
    const volumePaths: Record<string, string> = {};
    const volumeNames: Record<string, string> = {};
    for (const v of volumesToResolve(config, req.options)) {
      const vol = this.volumes.createFor(record.id, v.name === undefined ? {} : { name: v.name });
      volumePaths[v.target] = vol.mountpoint;
      volumeNames[v.target] = vol.name;
      if (vol.anonymous || v.name !== undefined) await copyUpVolume(rootfs, v.target, vol.mountpoint);
    }
    const hostname = req.options.hostname ?? record.id.slice(0, 12);
    const files = writeEtcFiles(dir, hostname, { network: req.options.network, extraHosts: req.options.extraHosts ?? [], dns: req.options.dns ?? [], dnsSearch: req.options.dnsSearch ?? [], dnsOptions: req.options.dnsOptions ?? [] });
    const [{ readUserDb }, { Rootfs }] = await Promise.all([userDbModule(), rootfsModule()]);
    using root = Rootfs.open(rootfs);
    const spec = containerSpec(config, req.options, req.args ?? [], {
      id: record.id,
      rootfs,
      ...files,
      volumePaths,
      userDb: readUserDb(root),
      init: { source: this.options.initProgram ?? join(buildDir(), 'berth-init'), target: '/sbin/berth-init' },
      ...(req.seccompProfileText === undefined ? {} : { seccompProfileText: req.seccompProfileText }),
      terminal: req.tty === true,
      ...(req.consoleSize === undefined ? {} : { consoleSize: req.consoleSize }),
      ...(joinsNetns(req.options.network) ? { netnsPath: netnsLink(runDir(this.paths, record.id)) } : {}),
    });
    spec.linux = { ...spec.linux, cgroupsPath: `/berth/${record.id}` };
    writeFileSync(join(dir, 'config.json'), JSON.stringify(spec), { mode: 0o600 });
    req.onPhase?.('spec');
    return volumeNames;
  }

  // ---- start ----------------------------------------------------------

  /** `onPhase` is told each step of the start as it ends. */
  async start(ref: string, onPhase?: Phase, options: StartOptions = {}): Promise<ContainerRecord> {
    this.warmCgroupJoin();
    const id = this.find(ref).id;
    return this.serial(id, async () => {
      const record = this.mustGet(id);
      if (record.state === 'running' || record.state === 'paused') return record;
      if (record.state !== 'created' && record.state !== 'exited') {
        throw failedPrecondition('container_state_conflict', `container "${record.name}": cannot start while ${record.state}`);
      }
      this.cancelRestart(id);
      // Its process or monitor killed while primed: undone, then started the whole way.
      if (this.primed.has(id) && !this.primedAlive(id)) {
        await this.unprimeNow(id);
        onPhase?.('primed lost');
      }
      return this.launch(record, { stoppedByUser: false }, onPhase, options.holdRecord);
    });
  }

  /**
   * Carries a created container through the first half of its start
   * (rootfs, run dir, network, berth-monitor and the runtime's create) and
   * stops there: its process waits before execve, its record stays
   * `created`, and its `start` is only the runtime's start. Already primed:
   * nothing to do. A failure leaves it created and un-primed.
   */
  async prime(ref: string, onPhase?: Phase): Promise<ContainerRecord> {
    const id = this.find(ref).id;
    return this.serial(id, async () => {
      const record = this.mustGet(id);
      if (record.state !== 'created') {
        throw failedPrecondition('container_state_conflict', `container "${record.name}": cannot be primed while ${record.state}; only a created container can`);
      }
      if (this.primed.has(id)) return record;
      const { pid } = await this.launchFirstHalf(record, onPhase, false);
      try {
        const ctx = await this.runtimeContext();
        const runtimeRecord = await ctx.store.read(id);
        this.primed.set(id, { pid, startTime: runtimeRecord.pidStartTime, record: runtimeRecord });
        writeFileSync(join(runDir(this.paths, id), PRIMED_MARKER), `${pid}\n`, { mode: 0o600 });
      } catch (err) {
        this.primed.delete(id);
        await this.undoFirstHalf(id);
        throw err;
      }
      onPhase?.('primed');
      return record;
    });
  }

  /** Undoes a prime (its process and monitor killed, its network released), leaving the container plainly created; not primed: nothing to do. */
  async unprime(ref: string): Promise<void> {
    const id = this.find(ref).id;
    await this.serial(id, () => this.unprimeNow(id));
  }

  /** Whether the container is primed (its start would be only the runtime's start). */
  isPrimed(ref: string): boolean {
    return this.primed.has(this.find(ref).id);
  }

  private async unprimeNow(id: string): Promise<void> {
    if (!this.primed.delete(id)) return;
    await this.undoFirstHalf(id);
  }

  /** What the first half of a start made, gone: the process, the runtime's state and the monitor, then the network and the run dir. */
  private async undoFirstHalf(id: string): Promise<void> {
    await this.clearRun(id);
    await this.networkDown(id);
    rmSync(runDir(this.paths, id), { recursive: true, force: true });
  }

  /** A primed container's process still waits to start, under its monitor. */
  private primedAlive(id: string): boolean {
    const p = this.primed.get(id);
    return p !== undefined && isAlive(p.pid, p.startTime) && monitorAlive(runDir(this.paths, id));
  }

  /**
   * Keeps joining a cgroup fast for a moment from now (runtime/cgroups/warm.ts),
   * from a create's or a start's first step: the first join after a quiet
   * while waits out a kernel grace period (5-20 ms here), holding the cgroup
   * mutex that making the container's cgroup needs too; begun here, it passes
   * while the engine makes the record, the snapshot and the spec, not on the
   * container's path. Creates and starts close together share one.
   */
  private warmCgroupJoin(): void {
    const until = Date.now() + CGROUP_WARM_MS;
    if (this.warm !== undefined) {
      this.warm.until = Math.max(this.warm.until, until);
      return;
    }
    const warm: { until: number; stop?: () => void } = { until };
    this.warm = warm;
    const end = (): void => {
      warm.stop?.();
      if (this.warm === warm) this.warm = undefined;
    };
    const check = (): void => {
      if (this.closed || this.warm !== warm || Date.now() >= warm.until) end();
      else setTimeout(check, warm.until - Date.now()).unref();
    };
    void this.runtimeContext().then((ctx) => {
      if (this.closed || this.warm !== warm) return;
      warm.stop = ctx.host.warmCgroupJoin();
      check();
    }, end);
  }

  private async runtimeContext(): Promise<RuntimeContext> {
    this.runtimeCtx ??= import('../runtime/lifecycle/context.ts').then(({ runtimeContext }) => ({ ...runtimeContext(runtimeRoot(this.paths)), execFifoOnLoop: true }));
    return this.runtimeCtx;
  }

  /**
   * Whether the runtime keeps anything of the container: its state, or a
   * directory without one (a delete cut off by a crash between its state
   * file and its directory, or a create before its state was written).
   */
  private async runtimeLeft(id: string): Promise<boolean> {
    const ctx = await this.runtimeContext();
    return (await ctx.store.exists(id)) || existsSync(ctx.store.dir(id));
  }

  /** Removes what the runtime keeps of a container (a previous run's state, or a directory a crash left); absent is fine. */
  private async deleteRuntimeState(id: string): Promise<void> {
    const ctx = await this.runtimeContext();
    if (!(await this.runtimeLeft(id))) return;
    const { deleteContainer } = await import('../runtime/lifecycle/delete.ts');
    await deleteContainer(ctx, id, true);
  }

  private async launch(record: ContainerRecord, marks: { stoppedByUser?: boolean; restartCount?: number }, onPhase?: Phase, holdRecord?: Promise<unknown>): Promise<ContainerRecord> {
    const id = record.id;
    const primed = this.primed.get(id);
    // Not primed: the runtime's create hands over its record and its lock, so the start need not read them again.
    const first = primed === undefined ? await this.launchFirstHalf(record, onPhase, true, true) : undefined;
    const pid = first?.pid ?? primed!.pid;
    let held = first?.held;
    this.primed.delete(id);
    if (primed !== undefined) rmSync(join(runDir(this.paths, id), PRIMED_MARKER), { force: true });
    const rd = runDir(this.paths, id);
    try {
      if (TEST_START_DELAY_MS > 0) await delay(TEST_START_DELAY_MS);
      for (const connect of this.beforeStart.get(id) ?? []) await connect(rd).catch(() => undefined);
      this.beforeStart.delete(id);
      const ctx = await this.runtimeContext();
      const { start, startCreated } = await startModule();
      // Primed: nothing but this container's queue here changed its runtime record since its prime, and its process and
      // monitor were just found alive, so the start takes only the lock again, not the state file and the status checks.
      if (primed !== undefined) held = { record: primed.record, lock: await ctx.store.lock(id) };
      // Told as the program runs, before the runtime writes its state: the gateway's readiness probes begin there.
      const running = (): void => onPhase?.('runtime start');
      if (held !== undefined) await startCreated(ctx, held.record, running);
      else await start(ctx, id, running);
      await held?.lock.release();
    } catch (err) {
      await held?.lock.release();
      await this.deleteRuntimeState(id).catch(() => undefined);
      await this.networkDown(id);
      this.failStart(record, err);
      throw err;
    }
    if (holdRecord !== undefined) await settledWithin(holdRecord, RUNNING_HOLD_MAX_MS);
    const running = this.containers.transition(id, 'running', { pid, ...marks });
    this.watchExit(id);
    this.events.publish('container', 'start', id, this.attributes(running));
    return running;
  }

  /**
   * The first half of a start, up to the container created by the runtime
   * (its process blocked before execve) under its monitor; returns its pid.
   * `failStart`: a failure leaves the container exited with the error (a
   * start); without it (a prime) the container stays as it was.
   */
  private async launchFirstHalf(record: ContainerRecord, onPhase: Phase | undefined, failStart: boolean, keepLock = false): Promise<{ pid: number; held?: Held }> {
    const id = record.id;
    const view = this.viewOf(record);
    const o = view.options;
    const failed = async (err: unknown): Promise<void> => {
      if (!failStart) return this.undoFirstHalf(id).catch(() => undefined);
      await this.networkDown(id);
      this.failStart(record, err);
    };
    await mountRootfs(this.paths, id, o.imageTop);
    const rd = view.paths.runDir;
    // Before the run dir is made anew: an old monitor still there would write its exit into the new one.
    await this.clearRun(id);
    rmSync(rd, { recursive: true, force: true });
    mkdirSync(rd, { recursive: true, mode: 0o700 });
    onPhase?.('rootfs and run dir');
    let pid: number;
    let held: Held | undefined;
    try {
      await this.networkUp(record, view);
      onPhase?.('network');
    } catch (err) {
      await failed(err);
      throw err;
    }
    try {
      const monitored = {
        id,
        runDir: rd,
        log: { path: view.paths.log, ...this.logLimitsOf(view) },
        stdin: o.openStdin,
        stdinOnce: o.stdinOnce,
        terminal: o.tty,
        // RUN/exit is only how the exit reaches this engine, which makes it durable (the record's commit)
        // before it reports it; the run dir does not outlive the machine (a tmpfs), so its fsync bought nothing.
        noSync: true,
        ...(this.options.monitor === undefined ? {} : { monitor: this.options.monitor }),
      };
      if (this.options.runtime === undefined) {
        ({ pid, held } = await this.createMonitored({ ...monitored, executor: executorPath() }, view.paths.dir, keepLock));
      } else {
        // Another OCI runtime: the monitor runs its `create` command.
        const started = await startMonitor({ ...monitored, runtime: this.runtime, root: runtimeRoot(this.paths), bundle: view.paths.dir });
        pid = started.pid;
        writeFileSync(join(rd, 'monitor.pid'), `${started.monitorPid}\n`, { mode: 0o600 });
      }
    } catch (err) {
      await failed(err);
      throw err;
    }
    onPhase?.('monitor and runtime create');
    return { pid, ...(held === undefined ? {} : { held }) };
  }

  /**
   * The container's network for this run: a sandbox attached to its
   * networks (or the namespace of the container it shares), hosts and
   * resolv.conf written to match, and the spec pointed at the namespace.
   */
  private async networkUp(record: ContainerRecord, view: ContainerView): Promise<NetworkUp> {
    const o = view.options;
    const kind = networkKind(o.run.network);
    const hostname = o.run.hostname ?? record.id.slice(0, 12);
    let up: NetworkUp = {};
    if (kind.kind === 'container') {
      const other = this.find(kind.container);
      if (other.state !== 'running' && other.state !== 'paused') {
        throw failedPrecondition('container_state_conflict', `cannot join the network of container "${other.name}": it is not running`);
      }
      const theirs = this.viewOf(other).paths;
      for (const f of ['hosts', 'resolv.conf'] as const) overwrite(join(view.paths.dir, f), readFileSync(join(theirs.dir, f)));
      up = { netns: this.network?.sandboxOf(other.id)?.netns ?? `/proc/${other.pid}/ns/net` };
    } else if (kind.kind === 'network') {
      const layer = requireLayer(this.network, o.run.network);
      const requests = attachRequests(layer, record, this.containerNetworks.of(record.id), portsToPublish(o.run, o.exposed ?? []));
      const sandbox = await layer.acquire(record.id, requests);
      writeNetworkFiles(view.paths.dir, hostname, networkFileInputs(o.run, sandbox, (id) => requests.some((r) => r.network.id === id && r.network.dns)));
      up = { netns: sandbox.netns, sandbox };
    }
    if (up.netns !== undefined) {
      // The spec names a link in the run dir (made anew by each start); this run's namespace is its target.
      const link = netnsLink(view.paths.runDir);
      symlinkSync(up.netns, link);
      const config = readFileSync(view.paths.config, 'utf8');
      if (!config.includes(JSON.stringify(link))) this.joinNetworkNamespace(view.paths.config, config, link);
    }
    return up;
  }

  /** A spec written before it named the link (an older berth's container): pointed at it, once. */
  private joinNetworkNamespace(path: string, text: string, netns: string): void {
    const spec = JSON.parse(text) as Spec;
    const namespaces = (spec.linux?.namespaces ?? []).filter((n) => n.type !== 'network');
    spec.linux = { ...spec.linux, namespaces: [...namespaces, { type: 'network', path: netns }] };
    writeFileSync(`${path}.tmp`, JSON.stringify(spec), { mode: 0o600 });
    renameSync(`${path}.tmp`, path);
  }

  /** Releases what a run held of the network (its sandbox, its host ports); nothing there is fine. */
  private async networkDown(id: string): Promise<void> {
    if (this.network === undefined) return;
    await this.network.release(id, { recyclable: this.sandboxRecyclable(id) }).catch((err: unknown) => {
      this.events.publish('container', 'error', id, { error: `releasing its network: ${describeError(err)}` });
    });
  }

  /**
   * The container's log rotation: its --log-opt over the daemon's limits.
   * No max-size is no rotation: the largest size the monitor takes.
   */
  logLimitsOf(view: ContainerView): LogLimits {
    const own = view.options.run.log?.rotation;
    if (own === undefined) return this.logLimits;
    return { ...this.logLimits, maxSize: own.maxSize ?? Number.MAX_SAFE_INTEGER, maxFiles: own.maxFiles };
  }

  /** The defaults a container without --log-opt gets (inspect's LogConfig shows them). */
  get defaultLogLimits(): LogLimits {
    return this.logLimits;
  }

  /**
   * Whether the container's network namespace could serve another container
   * once it is gone (the layer checks the rest: SandboxPool.giveBack): the
   * container could not have changed it (no NET_ADMIN, SYS_ADMIN or ALL
   * added), asked for no address or MAC of its own (its next start wants
   * them back), and no running container shares it (--network container:).
   */
  private sandboxRecyclable(id: string): boolean {
    const record = this.containers.get(id);
    if (record === undefined) return false;
    const o = readStoredOptions(record.options, record.name);
    if (o.run.security.capAdd.some((c) => c === 'ALL' || c === 'CAP_NET_ADMIN' || c === 'CAP_SYS_ADMIN')) return false;
    if (this.containerNetworks.of(id).some((n) => n.ipv4Address !== undefined || n.macAddress !== undefined)) return false;
    return !this.containers.list().some((other) => {
      if (other.id === id || (other.state !== 'running' && other.state !== 'paused' && other.state !== 'created')) return false;
      const kind = networkKind(readStoredOptions(other.options, other.name).run.network);
      if (kind.kind !== 'container') return false;
      try {
        return this.find(kind.container).id === id;
      } catch {
        return true; // cannot tell: keep the namespace to itself
      }
    });
  }

  /**
   * Ends what a previous run left: the runtime's state (its process killed,
   * its cgroups removed), then waits for its monitor to go. A start cut
   * short by a crash leaves both with the record still `created` or
   * `exited`; whether anything was there.
   */
  private async clearRun(id: string): Promise<boolean> {
    const rd = runDir(this.paths, id);
    if (!monitorAlive(rd) && !(await this.runtimeLeft(id))) return false;
    // The monitor may still be making the runtime's state: deleted again until the monitor is gone.
    for (const end = Date.now() + MONITOR_GONE_MS; Date.now() < end; await delay(20)) {
      await this.deleteRuntimeState(id).catch(() => undefined);
      if (!monitorAlive(rd)) return true;
    }
    throw failedPrecondition('monitor_still_running', `container "${id}": its previous berth-monitor did not exit within ${MONITOR_GONE_MS} ms`);
  }

  /**
   * The runtime's create in this process, its executor exec'd by the
   * container's monitor (monitor/host.ts), so no runtime command starts; the
   * monitor learns the container's pid once create returned.
   */
  private async createMonitored(m: ExecutorMonitorOptions, bundle: string, keepLock: boolean): Promise<{ pid: number; held?: Held }> {
    const [{ monitorHost, tellMonitor }, { createLocked }] = await Promise.all([monitorHostModule(), createModule()]);
    const base = await this.runtimeContext();
    const host = monitorHost(m, base.host);
    const { id, runDir: rd } = m;
    let created: Awaited<ReturnType<typeof createLocked>>;
    try {
      created = await createLocked({ ...base, host }, id, { bundle, consoleSocket: m.terminal === true ? join(rd, 'console.sock') : undefined });
    } catch (err) {
      tellMonitor(rd, 'abort');
      throw err;
    }
    const { pid, record, lock } = created;
    try {
      // Its report came before (it makes RUN/ctl while the executor starts, and reports after).
      const monitorPid = await host.monitorPid;
      if (!tellMonitor(rd, `pid ${pid}`)) throw internal('monitor_gone', `container "${id}": its monitor quit before the container started`);
      writeFileSync(join(rd, 'monitor.pid'), `${monitorPid}\n`, { mode: 0o600 });
    } catch (err) {
      await lock.release();
      throw err;
    }
    if (keepLock) return { pid, held: { record, lock } };
    await lock.release();
    return { pid };
  }

  /** A start that failed before the process ran: the container is exited with the error, as docker leaves it. */
  private failStart(record: ContainerRecord, err: unknown): void {
    const text = describeError(err);
    if (record.state === 'created' || record.state === 'exited') {
      try {
        if (record.state === 'created') this.containers.transition(record.id, 'exited', { exitCode: 127, error: text });
        else this.containers.db.prepare('UPDATE engine_containers SET error = ?, exit_code = 127 WHERE id = ?').run(text, record.id);
      } catch {
        // The record is already in a state that says enough.
      }
    }
  }

  /** Runs `connect` with the monitor's run dir once the container's monitor is up, before its process starts. */
  attachBeforeStart(ref: string, connect: (runDir: string) => Promise<void>): void {
    const id = this.find(ref).id;
    const list = this.beforeStart.get(id) ?? [];
    list.push(connect);
    this.beforeStart.set(id, list);
  }

  /** Takes back an attachBeforeStart (its client left); the container may be gone by then. */
  cancelAttachBeforeStart(id: string, connect: (runDir: string) => Promise<void>): void {
    const list = (this.beforeStart.get(id) ?? []).filter((c) => c !== connect);
    if (list.length === 0) this.beforeStart.delete(id);
    else this.beforeStart.set(id, list);
  }

  // ---- exits ----------------------------------------------------------

  private watchExit(id: string): void {
    if (this.watchers.has(id) || this.closed) return;
    const rd = runDir(this.paths, id);
    const w = watch(rd, (_event, file) => {
      if (file === 'exit') void this.onExit(id);
    });
    w.on('error', () => undefined);
    this.watchers.set(id, w);
    // The exit may have been written before the watch began.
    if (existsSync(join(rd, 'exit'))) void this.onExit(id);
  }

  private unwatch(id: string): void {
    this.watchers.get(id)?.close();
    this.watchers.delete(id);
  }

  private async onExit(id: string): Promise<void> {
    let exited: ContainerRecord | undefined;
    try {
      exited = await this.serial(id, async () => this.recordExit(id));
    } catch (err) {
      this.events.publish('container', 'error', id, { error: describeError(err) });
      return;
    }
    if (exited !== undefined) await this.afterExit(exited);
  }

  /** Writes the exit the monitor recorded (once); returns the exited record, or undefined when there was nothing to do. */
  private async recordExit(id: string, lost = false): Promise<ContainerRecord | undefined> {
    const record = this.containers.get(id);
    if (record === undefined || (record.state !== 'running' && record.state !== 'paused')) return undefined;
    const rd = runDir(this.paths, id);
    const status = readExit(rd);
    if (status === undefined && !lost) return undefined;
    this.unwatch(id);
    const code = status === undefined ? 255 : status.code ?? 128 + status.signal;
    const oom = await this.oomKilled(id);
    const exited = this.containers.transition(id, 'exited', {
      exitCode: code,
      ...(lost ? { error: 'berth-monitor was lost: the container was stopped' } : {}),
    });
    // After the exit is reported (a waiter need not wait for the runtime's delete or CNI's DEL), next in this
    // container's queue, so a start or removal waits for it; a crash before it leaves what recover() clears.
    void this.serial(id, async () => {
      await this.deleteRuntimeState(id).catch(() => undefined);
      await this.networkDown(id);
    });
    if (oom) writeFileSync(join(containerDir(this.paths, id), 'oom'), '1\n');
    else rmSync(join(containerDir(this.paths, id), 'oom'), { force: true });
    if (oom) this.events.publish('container', 'oom', id, this.attributes(exited));
    this.events.publish('container', 'die', id, { ...this.attributes(exited), exitCode: String(code) });
    return exited;
  }

  /** Whether the kernel's OOM killer killed a process of the container's cgroup (memory.events or memory.oom_control). */
  private async oomKilled(id: string): Promise<boolean> {
    const { oomKillCount } = await oomModule();
    return oomKillCount(id) > 0;
  }

  /** --rm, then the restart policy, as docker applies them after an exit. */
  private async afterExit(record: ContainerRecord): Promise<void> {
    const o = readStoredOptions(record.options, record.name);
    if (o.run.autoRemove) {
      await this.remove(record.id, { force: true, volumes: true }).catch((err: unknown) => {
        this.events.publish('container', 'error', record.id, { error: describeError(err) });
      });
      return;
    }
    if (!this.shouldRestart(record)) return;
    // Docker's back-off: 100 ms, doubled per restart, at most a minute.
    const wait = Math.min(100 * 2 ** record.restartCount, 60_000);
    const timer = setTimeout(() => {
      this.restartTimers.delete(record.id);
      void this.serial(record.id, async () => {
        const now = this.containers.get(record.id);
        if (now === undefined || now.state !== 'exited' || now.stoppedByUser) return;
        await this.launch(now, { restartCount: now.restartCount + 1 });
        this.events.publish('container', 'restart', record.id, this.attributes(now));
      }).catch((err: unknown) => this.events.publish('container', 'error', record.id, { error: describeError(err) }));
    }, wait);
    this.restartTimers.set(record.id, timer);
  }

  private shouldRestart(r: ContainerRecord): boolean {
    if (r.stoppedByUser || this.closed) return false;
    const p = r.restartPolicy;
    if (p.name === 'always' || p.name === 'unless-stopped') return true;
    if (p.name === 'on-failure') return (r.exitCode ?? 0) !== 0 && (p.maximumRetryCount === 0 || r.restartCount < p.maximumRetryCount);
    return false;
  }

  private cancelRestart(id: string): void {
    const t = this.restartTimers.get(id);
    if (t !== undefined) clearTimeout(t);
    this.restartTimers.delete(id);
  }

  // ---- stop, kill, restart ------------------------------------------

  /** Resolves when the container is no longer running (at once when it is not). */
  private untilExit(id: string, timeoutMs?: number): Promise<boolean> {
    return new Promise((resolve) => {
      let timer: NodeJS.Timeout | undefined;
      const done = (v: boolean): void => {
        unsubscribe();
        if (timer !== undefined) clearTimeout(timer);
        resolve(v);
      };
      const unsubscribe = this.events.subscribe((e) => {
        if (e.Actor.ID === id && (e.Action === 'die' || e.Action === 'destroy')) done(true);
      });
      const now = this.containers.get(id);
      if (now === undefined || (now.state !== 'running' && now.state !== 'paused')) return done(true);
      if (timeoutMs !== undefined) timer = setTimeout(() => done(false), timeoutMs);
    });
  }

  private async signal(id: string, signal: number): Promise<void> {
    const ctx = await this.runtimeContext();
    const { kill } = await import('../runtime/lifecycle/kill.ts');
    try {
      await kill(ctx, id, signal);
    } catch (err) {
      // Exited meanwhile: the exit is (or will be) recorded from the monitor's file.
      if (!(isBerthError(err) && (err.code === 'not_running' || err.code === 'container_not_found'))) throw err;
    }
  }

  /** docker stop: the stop signal, `timeout` seconds (the container's own by default), then SIGKILL. A user's stop is remembered. */
  async stop(ref: string, options: { timeout?: number; signal?: number } = {}): Promise<ContainerRecord> {
    const record = this.find(ref);
    const id = record.id;
    this.cancelRestart(id);
    this.containers.mark(id, { stoppedByUser: true });
    if (record.state !== 'running' && record.state !== 'paused') return this.mustGet(id);
    const o = readStoredOptions(record.options, record.name);
    const timeout = options.timeout ?? o.stopTimeout;
    if (record.state === 'paused') await this.unpause(id);
    await this.signal(id, options.signal ?? o.stopSignal);
    if (timeout < 0 || !(await this.untilExit(id, timeout * 1000))) {
      if (timeout >= 0) await this.signal(id, SIGKILL);
      await this.untilExit(id);
    }
    // The release queued behind the exit: a stopped container's host ports are free when stop returns.
    await this.serial(id, () => Promise.resolve());
    this.events.publish('container', 'stop', id, this.attributes(record));
    return this.mustGet(id);
  }

  async kill(ref: string, signal = SIGKILL): Promise<void> {
    const record = this.find(ref);
    if (record.state !== 'running' && record.state !== 'paused') {
      throw failedPrecondition('container_not_running', `container "${record.name}": is not running`);
    }
    const o = readStoredOptions(record.options, record.name);
    // As docker: killing with the stop signal or SIGKILL is a stop the restart policy respects.
    if (signal === SIGKILL || signal === o.stopSignal) {
      this.cancelRestart(record.id);
      this.containers.mark(record.id, { stoppedByUser: true });
    }
    await this.signal(record.id, signal);
    this.events.publish('container', 'kill', record.id, { ...this.attributes(record), signal: String(signal) });
  }

  async restart(ref: string, options: { timeout?: number; signal?: number } = {}): Promise<ContainerRecord> {
    const record = await this.stop(ref, options);
    const started = await this.start(record.id);
    this.events.publish('container', 'restart', record.id, this.attributes(started));
    return started;
  }

  async pause(ref: string): Promise<void> {
    const id = this.find(ref).id;
    await this.serial(id, async () => {
      const r = this.mustGet(id);
      if (r.state !== 'running') throw failedPrecondition('container_not_running', `container "${r.name}": is ${r.state}, only a running container can be paused`);
      const { pause } = await import('../runtime/lifecycle/pause.ts');
      await pause(await this.runtimeContext(), id);
      this.containers.transition(id, 'paused');
      this.events.publish('container', 'pause', id, this.attributes(r));
    });
  }

  async unpause(ref: string): Promise<void> {
    const id = this.find(ref).id;
    await this.serial(id, async () => {
      const r = this.mustGet(id);
      if (r.state !== 'paused') throw failedPrecondition('container_not_paused', `container "${r.name}": is ${r.state}, not paused`);
      const { resume } = await import('../runtime/lifecycle/pause.ts');
      await resume(await this.runtimeContext(), id);
      this.containers.transition(id, 'running');
      this.events.publish('container', 'unpause', id, this.attributes(r));
    });
  }

  // ---- wait, remove ---------------------------------------------------

  /** docker wait: the exit code once the condition holds. */
  async wait(ref: string, condition: WaitCondition = 'not-running'): Promise<ExitResult> {
    const record = this.find(ref);
    const id = record.id;
    const result = (r: ContainerRecord | undefined, fallback?: ContainerRecord): ExitResult => {
      const x = r ?? fallback;
      return { code: x?.exitCode ?? 0, ...(x?.error ? { error: x.error } : {}) };
    };
    return new Promise((resolve) => {
      let last: ContainerRecord = record;
      const unsubscribe = this.events.subscribe((e) => {
        if (e.Actor.ID !== id) return;
        if (e.Action === 'die') {
          last = this.containers.get(id) ?? last;
          if (condition !== 'removed') {
            unsubscribe();
            resolve(result(last));
          }
        } else if (e.Action === 'destroy') {
          unsubscribe();
          resolve(result(last));
        }
      });
      const now = this.containers.get(id);
      if (now === undefined) {
        unsubscribe();
        resolve(result(last));
      } else if (condition === 'not-running' && now.state !== 'running' && now.state !== 'paused' && !this.restartTimers.has(id)) {
        unsubscribe();
        resolve(result(now));
      }
    });
  }

  /** docker rm: refused while running unless `force` (then killed); `volumes` also removes its anonymous volumes. */
  async remove(ref: string, options: { force?: boolean; volumes?: boolean } = {}): Promise<void> {
    const record = this.find(ref);
    const id = record.id;
    this.cancelRestart(id);
    if (record.state === 'running' || record.state === 'paused') {
      if (options.force !== true) {
        throw failedPrecondition('container_running', `container "${record.name}": is ${record.state}; stop it first or remove it with --force`);
      }
      this.containers.mark(id, { stoppedByUser: true });
      if (record.state === 'paused') await this.unpause(id).catch(() => undefined);
      await this.signal(id, SIGKILL);
      await this.untilExit(id);
    }
    await this.serial(id, async () => {
      const r = this.containers.get(id);
      if (r === undefined) return;
      if (r.state === 'running' || r.state === 'paused') throw failedPrecondition('container_running', `container "${r.name}": started again while being removed`);
      // rm -v's choice, beside the record: a removal that a crash cuts short is finished by recover() as asked.
      if (options.volumes === true) writeFileSync(join(containerDir(this.paths, id), REMOVE_VOLUMES), '');
      if (r.state !== 'removing') this.containers.transition(id, 'removing');
      await this.destroy(id, options.volumes === true);
      this.events.publish('container', 'destroy', id, this.attributes(r));
    });
  }

  /** Undoes everything a container is made of, then its record. Each step skips what is gone, so it can run again after a crash. */
  private async destroy(id: string, anonymousVolumes: boolean): Promise<void> {
    this.unwatch(id);
    // Primed: its process waits under a live monitor, which goes too (the marker on disk: primed by an engine that crashed since).
    if (this.primed.delete(id) || existsSync(join(runDir(this.paths, id), PRIMED_MARKER))) await this.clearRun(id);
    else await this.deleteRuntimeState(id);
    await this.networkDown(id);
    await releaseRootfs(this.paths, id);
    const dir = containerDir(this.paths, id);
    // Before the record and the marker go, so a removal cut short still knows rm -v was asked.
    if (anonymousVolumes || existsSync(join(dir, REMOVE_VOLUMES))) {
      for (const v of this.volumes.usedBy(id)) {
        // One another container uses too stays.
        if (v.anonymous && v.usedBy.every((c) => c === id)) this.volumes.remove(v.name, { force: true });
      }
    }
    rmSync(runDir(this.paths, id), { recursive: true, force: true });
    if (!(await isMounted(join(dir, 'rootfs')))) rmSync(dir, { recursive: true, force: true });
    if (this.containers.get(id) !== undefined) this.containers.remove(id);
  }

  // ---- networks ------------------------------------------------------

  /** docker network connect: recorded for every later start, attached now when it runs. */
  async connectNetwork(ref: string, networkRef: string, endpoint: { aliases?: string[]; ipv4Address?: string; macAddress?: string } = {}): Promise<void> {
    const record = this.find(ref);
    const layer = requireLayer(this.network, networkRef);
    const net = layer.network(networkRef);
    const o = readStoredOptions(record.options, record.name);
    const kind = networkKind(o.run.network);
    if (kind.kind !== 'network') {
      throw failedPrecondition('container_network_mode', `container "${record.name}": runs with --network ${o.run.network}; it cannot be connected to network "${net.name}"`);
    }
    if ((endpoint.aliases ?? []).length > 0 && !net.dns) {
      throw invalidArgument('network_alias_unsupported', `network "${net.name}": network-scoped aliases are supported only on user-defined networks`);
    }
    await this.serial(record.id, async () => {
      if (this.containerNetworks.of(record.id).some((n) => n.networkId === net.id)) {
        throw alreadyExists('container_network_exists', `container "${record.name}": already connected to network "${net.name}"`);
      }
      // A primed container's sandbox was attached without this network: un-primed, its start attaches them all.
      await this.unprimeNow(record.id);
      const row = { containerId: record.id, networkId: net.id, aliases: endpoint.aliases ?? [], ...endpoint };
      this.containerNetworks.add(row);
      const now = this.mustGet(record.id);
      if (now.state === 'running' || now.state === 'paused') {
        try {
          const [request] = attachRequests(layer, now, [row], []);
          await layer.connect(record.id, request!);
        } catch (err) {
          this.containerNetworks.remove(record.id, net.id);
          throw err;
        }
        this.rewriteNetworkFiles(now, layer);
      }
    });
    this.events.publish('network', 'connect', net.id, { name: net.name, type: net.driver, container: record.id });
  }

  /** docker network disconnect: detached now when it runs, and not attached again. */
  async disconnectNetwork(ref: string, networkRef: string): Promise<void> {
    const record = this.find(ref);
    const layer = requireLayer(this.network, networkRef);
    const net = layer.network(networkRef);
    await this.serial(record.id, async () => {
      if (!this.containerNetworks.of(record.id).some((n) => n.networkId === net.id)) {
        throw notFound('container_network_gone', `container "${record.name}": is not connected to network "${net.name}"`);
      }
      await this.unprimeNow(record.id);
      const now = this.mustGet(record.id);
      if (now.state === 'running' || now.state === 'paused') await layer.disconnect(record.id, net.id);
      this.containerNetworks.remove(record.id, net.id);
      if (now.state === 'running' || now.state === 'paused') this.rewriteNetworkFiles(now, layer);
    });
    this.events.publish('network', 'disconnect', net.id, { name: net.name, type: net.driver, container: record.id });
  }

  /**
   * hosts and resolv.conf of a running container after a connect or a
   * disconnect, as docker rewrites them: its addresses on every network it
   * is on now. Written in place, since the container sees the files
   * through bind mounts of their inodes.
   */
  private rewriteNetworkFiles(record: ContainerRecord, layer: NetworkLayer): void {
    const sandbox = layer.sandboxOf(record.id);
    if (sandbox === undefined) return;
    const o = this.viewOf(record).options;
    writeNetworkFiles(this.viewOf(record).paths.dir, o.run.hostname ?? record.id.slice(0, 12), networkFileInputs(o.run, sandbox, (id) => layer.network(id).dns));
  }

  rename(ref: string, name: string): void {
    const r = this.containers.rename(this.find(ref).id, name);
    this.events.publish('container', 'rename', r.id, { ...this.attributes(r), oldName: ref });
  }

  /**
   * docker update: new limits land in the running container's cgroup (the
   * runtime's update) and in its spec, so the next start keeps them; a new
   * restart policy is stored.
   */
  async update(ref: string, change: { resources?: LinuxResources; restart?: RunOptions['restart'] }): Promise<ContainerRecord> {
    const id = this.find(ref).id;
    return this.serial(id, async () => {
      const r = this.mustGet(id);
      const view = this.viewOf(r);
      if (change.restart !== undefined) {
        if (view.options.run.autoRemove && change.restart.name !== 'no') {
          throw invalidArgument('run_flag_conflict', `container "${r.name}": --restart ${change.restart.name} with --rm (auto-remove): a container removed at its exit cannot be restarted`);
        }
        const max = change.restart.name === 'on-failure' ? change.restart.maxRetries : 0;
        this.containers.db.prepare('UPDATE engine_containers SET restart_policy = ?, restart_max = ? WHERE id = ?').run(change.restart.name, max, id);
      }
      if (change.resources !== undefined && Object.keys(change.resources).length > 0) {
        // A primed container's cgroup was made with the old limits: un-primed, its next start makes it anew.
        await this.unprimeNow(id);
        const { mergeResources, update } = await import('../runtime/lifecycle/update.ts');
        if (r.state === 'running' || r.state === 'paused') await update(await this.runtimeContext(), id, change.resources);
        const spec = JSON.parse(readFileSync(view.paths.config, 'utf8')) as Spec;
        const merged = mergeResources(spec.linux?.resources ?? {}, change.resources).merged;
        spec.linux = { ...spec.linux, resources: merged };
        writeFileSync(`${view.paths.config}.tmp`, JSON.stringify(spec), { mode: 0o600 });
        renameSync(`${view.paths.config}.tmp`, view.paths.config);
      }
      const updated = this.mustGet(id);
      this.events.publish('container', 'update', id, this.attributes(updated));
      return updated;
    });
  }

  /** docker container prune: every container not running (created, exited, dead) that the filter keeps. */
  async prune(keep: (v: ContainerView) => boolean = () => true): Promise<{ removed: string[]; spaceReclaimed: number }> {
    const removed: string[] = [];
    let spaceReclaimed = 0;
    const [{ upperDir }, { writableLayerSize }] = await Promise.all([import('./disk.ts'), import('./ops/disk.ts')]);
    for (const v of this.list()) {
      if (!['created', 'exited', 'dead'].includes(v.record.state) || v.restarting || !keep(v)) continue;
      const upper = await upperDir(this.paths.root, v.record.id);
      const size = upper === undefined ? 0 : writableLayerSize(upper);
      try {
        await this.remove(v.record.id);
        removed.push(v.record.id);
        spaceReclaimed += size;
      } catch {
        // Started again meanwhile: it stays.
      }
    }
    return { removed, spaceReclaimed };
  }

  /** What the runtime keeps of a running container (its cgroup paths, its pid). */
  async runtimeRecord(ref: string, o: { starting?: boolean } = {}): Promise<RuntimeRecord> {
    const r = this.find(ref);
    // `starting`: a container whose start is under way (the runtime has made it; the record may still say created).
    const ok = r.state === 'running' || r.state === 'paused' || (o.starting === true && r.state === 'created');
    if (!ok) throw failedPrecondition('container_not_running', `container "${r.name}": is not running`);
    const ctx = await this.runtimeContext();
    return ctx.store.read(r.id);
  }

  /** The container as exec sessions see it (src/engine/exec). */
  execContainer(ref: string): ExecContainer {
    const v = this.view(ref);
    const id = v.record.id;
    return {
      id,
      name: v.record.name,
      runtime: this.runtime,
      runtimeRoot: runtimeRoot(this.paths),
      configPath: v.paths.config,
      rootfs: v.paths.rootfs,
      state: () => this.containers.get(id)?.state ?? 'removed',
      // Created by the runtime library here: its execs take the same road (no runtime command).
      ...(this.options.runtime === undefined ? { runtimeContext: () => this.runtimeContext() } : {}),
    };
  }

  /** The container's file system as `cp` walks it: the rootfs and, over it, its bind mounts and volumes (src/engine/ops). */
  fsView(ref: string): OpsView {
    const v = this.view(ref);
    const mounts: OpsView['mounts'] = [];
    for (const m of v.options.run.mounts) if (m.type === 'bind') mounts.push({ target: m.target, source: m.source, readonly: m.readonly });
    for (const [target, name] of Object.entries(v.options.volumes)) {
      const req = v.options.run.mounts.find((m) => m.type === 'volume' && m.target === target);
      mounts.push({ target, source: this.volumes.inspect(name).mountpoint, readonly: req?.type === 'volume' && req.readonly });
    }
    const taken = new Set(mounts.map((m) => m.target));
    const generated: [string, string][] = [['/etc/hostname', v.paths.hostname], ['/etc/hosts', v.paths.hosts], ['/etc/resolv.conf', v.paths.resolvConf]];
    for (const [target, source] of generated) if (!taken.has(target)) mounts.push({ target, source, readonly: v.options.run.readOnly });
    mounts.sort((a, b) => a.target.split('/').length - b.target.split('/').length);
    return { rootfs: v.paths.rootfs, mounts, readonlyRootfs: v.options.run.readOnly };
  }

  // ---- recovery -------------------------------------------------------

  /**
   * After a start of the engine (a crash, a reboot): finishes or undoes
   * what was half done, re-adopts running containers, records the exits
   * missed, and restarts what the restart policies say.
   */
  async recover(): Promise<{ adopted: string[]; exited: string[]; cleaned: string[]; restarted: string[] }> {
    const report = { adopted: [] as string[], exited: [] as string[], cleaned: [] as string[], restarted: [] as string[] };
    for (const r of this.containers.listIncomplete()) {
      await this.destroy(r.id, true);
      report.cleaned.push(r.id);
    }
    for (const r of this.containers.list().filter((x) => x.state === 'removing')) {
      await this.destroy(r.id, false);
      report.cleaned.push(r.id);
    }
    // A start the crash cut short, or a container a previous engine primed: the record never said running, so neither
    // does the container (a primed one is un-primed: its process and monitor go here, its sandbox with the network's
    // recovery below, which keeps only the live ones; whoever primed it primes it again).
    for (const r of this.containers.list()) {
      if (r.state === 'running' || r.state === 'paused') continue;
      const wasPrimed = existsSync(join(runDir(this.paths, r.id), PRIMED_MARKER));
      if (await this.clearRun(r.id)) report.cleaned.push(r.id);
      if (wasPrimed) rmSync(runDir(this.paths, r.id), { recursive: true, force: true });
    }
    // Volumes a crash cut between their directory and their record (after the containers, whose removals may free some).
    const volumes = this.volumes.recover();
    for (const v of volumes.refused) this.events.publish('volume', 'error', v.name, { error: describeError(v.error) });
    const known = new Set(this.containers.list().map((r) => r.id));
    for (const id of await containerSnapshots(this.paths.root)) {
      if (!known.has(id)) {
        await this.destroy(id, false);
        report.cleaned.push(id);
      }
    }
    await sweepSnapshots(this.paths.root);
    for (const id of readdirSync(containersDir(this.paths))) {
      if (!known.has(id) && !report.cleaned.includes(id)) {
        await this.destroy(id, false);
        report.cleaned.push(id);
      }
    }
    // What CNI made for a container that is not running any more (or was half made) goes before anything starts again.
    const live = new Set(
      this.containers
        .list()
        .filter((r) => (r.state === 'running' || r.state === 'paused') && readExit(runDir(this.paths, r.id)) === undefined && monitorAlive(runDir(this.paths, r.id)))
        .map((r) => r.id),
    );
    await this.network?.recover((id) => live.has(id));
    for (const r of this.containers.list()) {
      if (r.state !== 'running' && r.state !== 'paused') continue;
      if (readExit(runDir(this.paths, r.id)) !== undefined) {
        const x = await this.serial(r.id, () => this.recordExit(r.id));
        // What the exit queued (the runtime's state, the network) is done before the daemon serves.
        await this.serial(r.id, () => Promise.resolve());
        if (x !== undefined) {
          report.exited.push(r.id);
          await this.afterExit(x);
        }
      } else if (monitorAlive(runDir(this.paths, r.id))) {
        this.watchExit(r.id);
        report.adopted.push(r.id);
      } else {
        await this.killLost(r);
        const x = await this.serial(r.id, () => this.recordExit(r.id, true));
        await this.serial(r.id, () => Promise.resolve());
        if (x !== undefined) {
          report.exited.push(r.id);
          await this.afterExit(x);
        }
      }
    }
    // An --rm container whose exit was recorded but whose removal a crash cut off: removed now, as its exit asked.
    for (const r of this.containers.list()) {
      if (r.state !== 'exited' || !readStoredOptions(r.options, r.name).run.autoRemove) continue;
      try {
        await this.remove(r.id, { force: true, volumes: true });
        report.cleaned.push(r.id);
      } catch (err) {
        this.events.publish('container', 'error', r.id, { error: describeError(err) });
      }
    }
    // Docker's rule at a daemon start: `always` restarts even after a user's stop, `unless-stopped` only without one.
    for (const r of this.containers.list()) {
      if (r.state !== 'exited' || this.restartTimers.has(r.id)) continue;
      if (r.restartPolicy.name === 'always' || (r.restartPolicy.name === 'unless-stopped' && !r.stoppedByUser)) {
        try {
          await this.serial(r.id, () => this.launch(r, { stoppedByUser: false }));
          report.restarted.push(r.id);
        } catch (err) {
          this.events.publish('container', 'error', r.id, { error: describeError(err) });
        }
      }
    }
    return report;
  }

  /** A container whose monitor is gone cannot be watched: its processes are killed, so it does not run unseen. */
  private async killLost(r: ContainerRecord): Promise<void> {
    const ctx = await this.runtimeContext();
    if (!(await ctx.store.exists(r.id))) return;
    const { kill } = await import('../runtime/lifecycle/kill.ts');
    await kill(ctx, r.id, SIGKILL, true).catch(() => undefined);
  }

  // ---- helpers --------------------------------------------------------

  attributes(r: ContainerRecord): Record<string, string> {
    return { ...r.labels, image: r.imageRef, name: r.name };
  }

  private mustGet(id: string): ContainerRecord {
    const r = this.containers.get(id);
    if (r === undefined) throw notFound('container_not_found', `container "${id}": not found`);
    return r;
  }

  /** Runs `fn` after every earlier operation on the same container has settled. */
  serial<T>(id: string, fn: () => Promise<T>): Promise<T> {
    const before = this.queues.get(id) ?? Promise.resolve();
    const run = before.then(fn, fn);
    const settled = run.then(
      () => undefined,
      () => undefined,
    );
    this.queues.set(id, settled);
    void settled.then(() => {
      if (this.queues.get(id) === settled) this.queues.delete(id);
    });
    return run;
  }
}

/** Resolves once `p` settles (either way) or `ms` have passed. */
function settledWithin(p: Promise<unknown>, ms: number): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, ms);
    const done = (): void => {
      clearTimeout(timer);
      resolve();
    };
    p.then(done, done);
  });
}

/** Whether the monitor whose pid the engine wrote is still that monitor (pids are reused). */
function monitorAlive(rd: string): boolean {
  let pid: number;
  try {
    pid = Number(readFileSync(join(rd, 'monitor.pid'), 'utf8').trim());
    if (!Number.isInteger(pid) || pid <= 0) return false;
    return readFileSync(`/proc/${pid}/cmdline`, 'latin1').split('\0')[0]!.endsWith('berth-monitor');
  } catch {
    return false;
  }
}

/** Docker copies what the image has at a volume's target into a new, empty volume. */
async function copyUpVolume(rootfs: string, target: string, volume: string): Promise<void> {
  if (readdirSync(volume).length > 0) return;
  const { copyInRoot } = await import('./volumes/copy-up.ts');
  copyInRoot(rootfs, target, volume);
}
