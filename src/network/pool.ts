/**
 * A pool of sandboxes made before they are asked for: each a namespace
 * already attached to the default network, with no container and no
 * published port, so a container that asks for nothing more skips the
 * namespace and the whole CNI ADD chain at start (bench/network-pool.ts
 * measures what it saves).
 *
 *   const pool = new SandboxPool(sandboxes, defaultNetwork, { size: 2 });
 *   pool.start();                                   // after sandboxes.recover()
 *   const box = pool.take(containerId, req);        // undefined: make one as usual
 *   await pool.close();                             // daemon shutdown: every pooled one released
 *
 * A request is served from the pool only when a pooled sandbox is exactly
 * what it would have got: the pool's network, no --ip, no --mac-address,
 * no ports. Ports are not added to a pooled sandbox: measured here, a
 * portmap-only ADD costs ~48 ms (its DEL ~110 ms) against ~150-210 ms for
 * a whole create+attach and ~1.5-3.5 ms for a take, so it would keep only
 * part of the saving while splitting one endpoint's DEL state in two; a
 * container publishing ports gets a sandbox made for it (functions, the
 * pool's reason, publish none: the gateway reaches them by address).
 *
 * Refills run in the background after start and shortly after a take
 * (refillDelayMs, so the container that took one starts first), one at a
 * time, at most `size` sandboxes per round, and a round stops at its first
 * failure (logged) instead of retrying in a loop; close() stops them.
 * Pooled sandboxes are rows with no container: recover() at the next start
 * releases any a crash left (pool rows are re-adopted only after berthd
 * slept, a clean hand-over: NetworkLayerOptions.keepPooled).
 */
import { asError } from './cni/chain.ts';
import type { NetworkLog, Sandboxes } from './sandboxes.ts';
import type { AttachRequest, NetworkRecord, SandboxInfo } from './types.ts';

export interface PoolOptions {
  /** Sandboxes kept ready; 0 disables the pool. */
  size?: number;
  /**
   * How long after a take the refill starts: the taker's container starts
   * in that time without plugins competing for the CPU (two cores here).
   */
  refillDelayMs?: number;
  log?: NetworkLog;
}

/** What the pool uses of Sandboxes (a fake in unit tests). */
export type PoolSandboxes = Pick<Sandboxes, 'create' | 'attach' | 'release' | 'pooled' | 'assign' | 'unassign' | 'get'>;

/** Counts the sockets in a namespace (netns.ts socketsIn; a fake in unit tests). */
export type SocketCensus = (netns: string) => Promise<number>;

export const DEFAULT_POOL_SIZE = 2;
export const DEFAULT_REFILL_DELAY_MS = 100;

export class SandboxPool {
  readonly size: number;
  private readonly sandboxes: PoolSandboxes;
  private readonly network: NetworkRecord;
  private readonly log: NetworkLog | undefined;
  private readonly refillDelayMs: number;
  private timer: NodeJS.Timeout | undefined;
  private filling: Promise<void> | undefined;
  private again = false;
  private closed = false;

  constructor(sandboxes: PoolSandboxes, network: NetworkRecord, options: PoolOptions = {}) {
    this.sandboxes = sandboxes;
    this.network = network;
    this.size = Math.max(0, Math.floor(options.size ?? DEFAULT_POOL_SIZE));
    this.log = options.log;
    this.refillDelayMs = options.refillDelayMs ?? DEFAULT_REFILL_DELAY_MS;
  }

  /** Starts filling in the background. */
  start(): void {
    this.refill();
  }

  /** Whether a refill runs or is due (berthd sleeps only once it is done: src/api/sleep.ts). */
  get refilling(): boolean {
    return this.timer !== undefined || this.filling !== undefined;
  }

  /** Sandboxes ready in the pool now. */
  ready(): number {
    return this.sandboxes.pooled(this.network.id).length;
  }

  /** Resolves when the refill running now (if any) is done: for tests and benchmarks. */
  async settled(): Promise<void> {
    if (this.timer !== undefined) {
      clearTimeout(this.timer);
      this.timer = undefined;
      this.refill();
    }
    while (this.filling !== undefined) await this.filling;
  }

  /** Whether a request can be served by a pooled sandbox. */
  fits(req: AttachRequest): boolean {
    return req.network.id === this.network.id && req.ports.length === 0 && req.ipv4Address === undefined && req.macAddress === undefined;
  }

  /**
   * A pooled sandbox given to `containerId`, or undefined when none fits or
   * none is ready. The assignment is committed without its own fsync: the
   * start that takes it makes it durable (SandboxStore.assign).
   */
  take(containerId: string, req: AttachRequest): SandboxInfo | undefined {
    if (this.closed || this.size === 0 || !this.fits(req)) return undefined;
    let taken: SandboxInfo | undefined;
    for (const id of this.sandboxes.pooled(this.network.id)) {
      if (this.sandboxes.assign(id, containerId, this.network.id, req.aliases)) {
        taken = this.sandboxes.get(id);
        break;
      }
    }
    this.timer ??= setTimeout(() => {
      this.timer = undefined;
      this.refill();
    }, this.refillDelayMs).unref();
    return taken;
  }

  /**
   * A container's sandbox back into the pool when its container is gone,
   * instead of a CNI DEL now and an ADD for the refill later (together
   * ~250-350 ms of plugin processes here). Only when it is what the pool
   * makes (one endpoint on the pool's network, no published port), the
   * pool has room, the caller vouches for the container (it could not
   * change the namespace: no CAP_NET_ADMIN or CAP_SYS_ADMIN, no --ip or
   * --mac-address to give back, no other container sharing it), and no
   * socket is left in the namespace: none held by a process still there,
   * no TIME_WAIT that would keep the next container from binding its port.
   * The pool takes back up to twice its size: a container that ran longer
   * than the refill delay finds the pool refilled, and releasing its
   * sandbox then would put a DEL back on its removal's path; what is kept
   * beyond the size serves the next takes (a namespace, a veth and a lease
   * each). False: release it as usual.
   */
  async giveBack(box: SandboxInfo, containerId: string, census: SocketCensus): Promise<boolean> {
    if (this.closed || this.size === 0 || this.ready() >= 2 * this.size) return false;
    const [only, ...more] = box.endpoints;
    if (only === undefined || more.length > 0 || only.networkId !== this.network.id || only.ports.length > 0) return false;
    if ((await census(box.netns)) > 0) return false;
    return this.sandboxes.unassign(box.id, containerId);
  }

  /** Stops refilling and releases every pooled sandbox (their leases with them). */
  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.timer);
    this.timer = undefined;
    await this.settled();
    let first: Error | undefined;
    for (const id of this.sandboxes.pooled(this.network.id)) {
      try {
        await this.sandboxes.release(id);
      } catch (err) {
        first ??= asError(err);
        this.log?.warn('network pool: release failed', { sandbox: id, error: err });
      }
    }
    if (first !== undefined) throw first;
  }

  private refill(): void {
    if (this.closed || this.size === 0) return;
    if (this.filling !== undefined) {
      this.again = true;
      return;
    }
    this.filling = this.round().finally(() => {
      this.filling = undefined;
      if (this.again && !this.closed) {
        this.again = false;
        this.refill();
      }
    });
  }

  private async round(): Promise<void> {
    for (let made = 0; made < this.size && !this.closed && this.ready() < this.size; made++) {
      let box: SandboxInfo | undefined;
      try {
        box = await this.sandboxes.create(null);
        await this.sandboxes.attach(box.id, { network: this.network, containerId: '', containerName: '', aliases: [], ports: [] });
      } catch (err) {
        this.log?.warn('network pool: refill failed', { network: this.network.name, error: err });
        if (box !== undefined) {
          const id = box.id;
          await this.sandboxes.release(id).catch((cleanupErr: unknown) => {
            this.log?.warn('network pool: releasing a half-made sandbox failed (recover() retries it)', { sandbox: id, error: cleanupErr });
          });
        }
        return;
      }
    }
  }
}
