/**
 * A smoke run of bench/docker-api.ts at its smallest size (--quick), as
 * root, with the docker CLI and podman on PATH: it finishes, reports a
 * figure for each part on both daemons, and leaves none of its directories,
 * mounts or processes behind. No figure is judged: timings are the bench's
 * to print, never a test's to assert.
 */
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { NO_DOCKER } from '../helpers/docker-cli.ts';
import { PODMAN } from '../helpers/podman-service.ts';
import { processesUsing } from '../helpers/processes.ts';
import { REPO, runCommand } from '../helpers/runtime.ts';

const SKIP = NO_DOCKER || (PODMAN === undefined ? 'no podman on PATH' : false);

test('bench/docker-api.ts --quick measures every part on both daemons and cleans up after itself', { skip: SKIP, timeout: 600_000 }, async () => {
  const r = await runCommand(join(REPO, 'build', 'node'), [join(REPO, 'bench', 'docker-api.ts'), '--quick', '--json'], { timeoutMs: 580_000 });
  assert.equal(r.code, 0, r.stderr);
  assert.doesNotMatch(r.stderr, /cleanup:/);
  type Pair = { berthMs: number; podmanMs: number };
  const out = JSON.parse(r.stdout) as {
    runs: number;
    dirs: string[];
    runRm: Pair;
    sequential: Pair & { runs: number };
    ps: Pair & { containers: number };
    logs: Pair & { writtenBytes: number; berthBytes: number; podmanBytes: number };
    exec: Pair;
  };
  for (const [what, p] of Object.entries({ runRm: out.runRm, sequential: out.sequential, ps: out.ps, logs: out.logs, exec: out.exec })) {
    assert.ok(Number.isFinite(p.berthMs) && p.berthMs > 0, `${what} berth: ${p.berthMs}`);
    assert.ok(Number.isFinite(p.podmanMs) && p.podmanMs > 0, `${what} podman: ${p.podmanMs}`);
  }
  assert.equal(out.runs, 3);
  assert.equal(out.sequential.runs, 10);
  assert.equal(out.ps.containers, 10);
  // 10 MB fits under berth's 3 × 10 MiB of log: both return all of it.
  assert.deepEqual([out.logs.berthBytes, out.logs.podmanBytes], [out.logs.writtenBytes, out.logs.writtenBytes]);

  assert.equal(out.dirs.length, 4);
  for (const d of out.dirs) assert.equal(existsSync(d), false, `${d} left behind`);
  const mounts = readFileSync('/proc/self/mountinfo', 'utf8').split('\n').filter((l) => out.dirs.some((d) => l.includes(d)));
  assert.deepEqual(mounts, []);
  assert.deepEqual(processesUsing(out.dirs).map((p) => `${p.pid}: ${p.cmdline}`), []);
});
