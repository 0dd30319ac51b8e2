/**
 * A cold start's phases (a request for a function at zero replicas, to the
 * first byte of its answer): each phase's time since the request arrived,
 * in milliseconds. berthd logs them (`function cold start`); with
 * BERTH_TRACE=1 each phase is also marked on stderr as src/trace.ts marks.
 */
import { mark } from '../trace.ts';

export class ColdStart {
  private readonly t0 = performance.now();
  readonly phases: Record<string, number> = {};

  readonly fn: string;

  constructor(fn: string) {
    this.fn = fn;
  }

  phase(name: string): void {
    const ms = Math.round((performance.now() - this.t0) * 10) / 10;
    this.phases[name] = ms;
    mark(`faas ${this.fn} cold start: ${name} +${ms} ms`);
  }
}
