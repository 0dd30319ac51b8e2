/**
 * A cold start's phases (a request for a function at zero replicas, to the
 * first byte of its answer): each phase's time since the request arrived,
 * in milliseconds. berthd logs them (`function cold start`); with
 * BERTH_TRACE=1 each phase is also marked on stderr as src/trace.ts marks.
 *
 *   lookup                      the function's record read, its replicas set
 *   scheduled                   its reconciliation runs
 *   primed                      its prepared replica is primed: the engine's start is only
 *                               the runtime start (none of the phases from image config
 *                               to monitor and runtime create follow)
 *   prepared                    its prepared replica is created but not primed (beyond
 *                               berthd --faas-primed-max): the engine start's phases follow
 *   primed lost                 (engine start) the primed replica's process or monitor was
 *                               gone: un-primed, then started the whole way
 *   image config                the image resolved, its config read (engine create)
 *   snapshot                    the replica's rootfs snapshot prepared and mounted
 *   spec                        the OCI spec written
 *   created                     the container's record complete
 *   rootfs and run dir          (engine start) the rootfs mounted, the run dir new
 *   network                     a network namespace (from the pool) attached
 *   monitor and runtime create  berth-monitor spawned, the executor's create done
 *   runtime start               the container's process runs its program
 *   started                     recorded as running: held until the request is answered
 *                               (at most 100 ms: engine.start's holdRecord), so it comes
 *                               after `response` and is not in the logged line
 *   ready                       the watchdog (or the image's server) answers on :8080
 *   response                    the first byte of the replica's answer
 */
import { mark } from '../trace.ts';

export class ColdStart {
  readonly phases: Record<string, number> = {};
  /** Settles once the request that started the cold start is answered (or failed). */
  readonly answered: Promise<void>;
  private readonly answer: () => void;

  readonly fn: string;
  private readonly t0: number;

  /** `t0`: when the request arrived (performance.now()). */
  constructor(fn: string, t0 = performance.now()) {
    this.fn = fn;
    this.t0 = t0;
    const { promise, resolve } = Promise.withResolvers<void>();
    this.answered = promise;
    this.answer = resolve;
  }

  /** The request is answered (or failed): what waited for it goes on (the replica's record, see engine.start). */
  done(): void {
    this.answer();
  }

  phase(name: string): void {
    const ms = Math.round((performance.now() - this.t0) * 10) / 10;
    this.phases[name] = ms;
    mark(`faas ${this.fn} cold start: ${name} +${ms} ms`);
  }
}
