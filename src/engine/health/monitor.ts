/**
 * The health checks of running containers: for each, a probe (probe.ts)
 * every interval, one at a time, the state after each (check.ts) written
 * to the engine database before it is reported, and a `health_status:
 * healthy|unhealthy` event when the status changes. The engine calls
 * start when a container starts (the status goes back to starting, the
 * log stays, as in dockerd) and stop when it stops (the probe in flight is
 * killed, the last state stays for inspect).
 */
import type { ExecContainer, ExecSessions } from '../exec/sessions.ts';
import type { HealthState, HealthStatus, HealthStore } from '../store/health.ts';
import { applyProbe, healthSettings, nextInterval, type HealthcheckConfig, type HealthSettings } from './check.ts';
import { runProbe } from './probe.ts';

export type HealthEvent = `health_status: ${HealthStatus}`;

export interface HealthMonitorOptions {
  store: HealthStore;
  execs: ExecSessions;
  onEvent?: (containerId: string, action: HealthEvent) => void;
  /** A probe's result that could not be recorded (the database); the probes go on. */
  onError?: (containerId: string, err: unknown) => void;
}

export interface HealthTarget {
  container: ExecContainer;
  healthcheck: HealthcheckConfig | undefined;
  /** When the container started: the start period counts from here. */
  startedAt: Date;
}

interface Runner {
  target: HealthTarget;
  settings: HealthSettings;
  timer?: NodeJS.Timeout;
  abort: AbortController;
  inFlight?: Promise<void>;
}

export class HealthMonitor {
  private readonly runners = new Map<string, Runner>();
  private readonly options: HealthMonitorOptions;

  constructor(options: HealthMonitorOptions) {
    this.options = options;
  }

  /** The container started: probes begin after the first interval. Nothing happens without a check (none, NONE). */
  async start(target: HealthTarget): Promise<void> {
    const settings = healthSettings(target.healthcheck);
    const id = target.container.id;
    await this.stop(id);
    if (settings === undefined) return;
    const prev = this.options.store.get(id);
    this.options.store.put(id, { Status: 'starting', FailingStreak: 0, Log: prev?.Log ?? [] });
    const runner: Runner = { target, settings, abort: new AbortController() };
    this.runners.set(id, runner);
    this.schedule(runner);
  }

  /** The container stopped (or is removed): no more probes; the one running is killed and waited for. */
  async stop(containerId: string): Promise<void> {
    const runner = this.runners.get(containerId);
    if (runner === undefined) return;
    this.runners.delete(containerId);
    clearTimeout(runner.timer);
    runner.abort.abort();
    await runner.inFlight;
  }

  /** What inspect shows (State.Health), also for a stopped container and after a restart of the daemon. */
  state(containerId: string): HealthState | undefined {
    return this.options.store.get(containerId);
  }

  /** The daemon's shutdown: every runner stops. */
  async close(): Promise<void> {
    await Promise.all([...this.runners.keys()].map((id) => this.stop(id)));
  }

  private schedule(r: Runner): void {
    let state: HealthState | undefined;
    try {
      state = this.options.store.get(r.target.container.id);
    } catch (err) {
      this.options.onError?.(r.target.container.id, err);
      return;
    }
    if (state === undefined) return;
    const wait = nextInterval(r.settings, state, r.target.startedAt.getTime(), Date.now());
    r.timer = setTimeout(() => {
      r.inFlight = this.probe(r).catch((err: unknown) => {
        this.options.onError?.(r.target.container.id, err);
        if (!r.abort.signal.aborted) this.schedule(r);
      });
    }, wait);
    // Waiting for the next probe keeps no process alive; a daemon has its server for that.
    r.timer.unref();
  }

  private async probe(r: Runner): Promise<void> {
    const id = r.target.container.id;
    const result = await runProbe(this.options.execs, r.target.container, r.settings, r.abort.signal);
    if (result === undefined || r.abort.signal.aborted) return;
    const prev = this.options.store.get(id);
    if (prev === undefined) return;
    const next = applyProbe(r.settings, prev, result, r.target.startedAt.getTime());
    this.options.store.put(id, next);
    if (next.Status !== prev.Status) this.options.onEvent?.(id, `health_status: ${next.Status}`);
    this.schedule(r);
  }
}
