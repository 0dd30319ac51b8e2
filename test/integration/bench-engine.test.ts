/**
 * A smoke run of bench/engine.ts at its smallest size (--runs 1 --quick), as
 * root: it finishes, reports a figure for each part it measured, and leaves
 * none of its directories, mounts or processes behind. No figure is judged:
 * timings are the bench's to print, never a test's to assert.
 */
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { processesUsing } from '../helpers/processes.ts';
import { REPO, runCommand } from '../helpers/runtime.ts';

test('bench/engine.ts --runs 1 --quick measures every part and cleans up after itself', { timeout: 300_000 }, async () => {
  const r = await runCommand(join(REPO, 'build', 'node'), [join(REPO, 'bench', 'engine.ts'), '--runs', '1', '--quick', '--json'], { timeoutMs: 280_000 });
  assert.equal(r.code, 0, r.stderr);
  assert.doesNotMatch(r.stderr, /cleanup:/);
  const out = JSON.parse(r.stdout) as {
    dirs: string[];
    library: { toExitMs: number; cycleMs: number };
    runcRunMs: number;
    podmanRunMs: number;
    cli: { skipped: string } | { berthRunMs: number; podmanRunMs: number };
    sequential: { runs: number; libraryTotalMs: number; runcTotalMs: number };
    concurrent: { containers: number; monitorRssKiB: { median: number; sum: number }; residentRssKiB: number };
    idle: { berthd?: { rssKiB: number }; berthdSkipped?: string; containerd: { rssKiB: number }; podmanService: { rssKiB: number }; bareNode: { rssKiB: number } };
  };
  for (const [what, v] of Object.entries({
    'library to exit': out.library.toExitMs, 'library cycle': out.library.cycleMs, 'runc run': out.runcRunMs, 'podman run': out.podmanRunMs,
    'sequential library': out.sequential.libraryTotalMs, 'sequential runc': out.sequential.runcTotalMs,
    'monitor RSS': out.concurrent.monitorRssKiB.median, 'resident RSS': out.concurrent.residentRssKiB,
    'containerd RSS': out.idle.containerd.rssKiB, 'podman service RSS': out.idle.podmanService.rssKiB, 'bare node RSS': out.idle.bareNode.rssKiB,
  })) {
    assert.ok(Number.isFinite(v) && v > 0, `${what}: ${v}`);
  }
  assert.ok(out.library.cycleMs >= out.library.toExitMs);
  assert.equal(out.sequential.runs, 10);
  assert.equal(out.concurrent.containers, 5);
  assert.ok(out.concurrent.monitorRssKiB.sum >= 5 * out.concurrent.monitorRssKiB.median / 2);
  if ('skipped' in out.cli) assert.match(out.cli.skipped, /not available yet/);
  else assert.ok(out.cli.berthRunMs > 0 && out.cli.podmanRunMs > 0);
  if (out.idle.berthd === undefined) assert.match(out.idle.berthdSkipped ?? '', /not available yet/);
  else assert.ok(out.idle.berthd.rssKiB > 0);

  assert.equal(out.dirs.length, 2);
  for (const d of out.dirs) assert.equal(existsSync(d), false, `${d} left behind`);
  const mounts = readFileSync('/proc/self/mountinfo', 'utf8').split('\n').filter((l) => out.dirs.some((d) => l.includes(d)));
  assert.deepEqual(mounts, []);
  assert.deepEqual(processesUsing(out.dirs).map((p) => `${p.pid}: ${p.cmdline}`), []);
});
