/**
 * src/young-gc.ts: collectYoungSoon runs one young-generation collection
 * (a scavenge) after the current turn, seen as a minor GC entry by a
 * PerformanceObserver (a forced one); several asks in one turn make one.
 */
import assert from 'node:assert/strict';
import { constants, PerformanceObserver, type PerformanceEntry } from 'node:perf_hooks';
import { setImmediate as immediate, setTimeout as sleep } from 'node:timers/promises';
import { test } from 'node:test';
import { collectYoungSoon } from '../../src/young-gc.ts';

test('collectYoungSoon: one scavenge after the turn, for several asks in it', async () => {
  const seen: PerformanceEntry[] = [];
  const obs = new PerformanceObserver((list) => seen.push(...list.getEntries()));
  obs.observe({ entryTypes: ['gc'] });
  try {
    await sleep(20);
    seen.length = 0;
    const asked = performance.now();
    collectYoungSoon();
    collectYoungSoon();
    collectYoungSoon();
    await immediate();
    await sleep(20);
    // Forced ones only: the test's own allocations may trigger a scavenge of their own meanwhile.
    const minor = seen.filter((e) => {
      const d = (e as PerformanceEntry & { detail?: { kind?: number; flags?: number } }).detail;
      return d?.kind === constants.NODE_PERFORMANCE_GC_MINOR && ((d.flags ?? 0) & constants.NODE_PERFORMANCE_GC_FLAGS_FORCED) !== 0 && e.startTime >= asked;
    });
    assert.equal(minor.length, 1, `minor collections after the asks: ${JSON.stringify(seen.map((e) => [e.startTime, (e as PerformanceEntry & { detail?: unknown }).detail]))}`);
  } finally {
    obs.disconnect();
  }
});
