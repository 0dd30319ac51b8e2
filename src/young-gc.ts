/**
 * A young-generation collection (V8's scavenge) at a moment of berthd's
 * choosing, after work that allocated and before work that must be fast:
 * a function's replica primed for its cold start. A scavenge stops the
 * event loop for 2-8 ms on this project's machine; one that the cold
 * start's own allocations trigger lands on that start (measured: the two
 * slowest of 20 static cold starts, 13 and 20 ms against a median of 7,
 * each had a scavenge of 5-8 ms inside). Collected just after the prime,
 * the young generation starts empty, and what a cold start allocates
 * fits in it.
 *
 * V8 offers no other way to ask for one: the `gc` function that
 * --expose-gc installs, turned on here once at run time (v8's
 * setFlagsFromString) and taken from a new context, called with
 * `{ type: 'minor' }`. When that is refused, nothing is collected ahead.
 */
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

type Gc = (options: { type: 'minor' | 'major' }) => void;

let gc: Gc | null | undefined;
let pending = false;

function load(): Gc | null {
  if (gc !== undefined) return gc;
  try {
    setFlagsFromString('--expose-gc');
    const found = runInNewContext('gc') as unknown;
    gc = typeof found === 'function' ? (found as Gc) : null;
  } catch {
    gc = null;
  }
  return gc;
}

/** Collects the young generation now (a benchmark, before what it times); false when it cannot. */
export function collectYoung(): boolean {
  const collect = load();
  collect?.({ type: 'minor' });
  return collect !== null;
}

/** Collects the young generation once the current turn of the event loop is done (several asks in a turn: one collection). */
export function collectYoungSoon(): void {
  if (pending || load() === null) return;
  pending = true;
  setImmediate(() => {
    pending = false;
    gc?.({ type: 'minor' });
  }).unref();
}
