/**
 * A replica's cgroup as metering reads it, on fake v1 and v2 trees: CPU
 * time in ns, the peak, the limit (unlimited as none), OOM kills, the v1
 * peak reset; a cgroup gone reads as unknown, not as zero.
 */
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { ReplicaCgroup } from '../../../src/faas/cgroup-usage.ts';
import { tempDir } from '../../helpers/cleanup.ts';

function tree(base: string, files: Record<string, string>): void {
  for (const [rel, text] of Object.entries(files)) {
    mkdirSync(join(base, rel, '..'), { recursive: true });
    writeFileSync(join(base, rel), text);
  }
}

test('v1 (and hybrid): cpuacct.usage, memory.max_usage_in_bytes (reset by writing 0), limit_in_bytes, oom_control', (t) => {
  const base = tempDir(t, 'faas-cg-');
  tree(base, {
    'cpuacct/berth/x/cpuacct.usage': '123456789\n',
    'memory/berth/x/memory.max_usage_in_bytes': '4096000\n',
    'memory/berth/x/memory.limit_in_bytes': '9223372036854771712\n',
    'memory/berth/x/memory.oom_control': 'oom_kill_disable 0\nunder_oom 0\noom_kill 2\n',
  });
  const cg = new ReplicaCgroup({ mode: 'hybrid', dirs: { cpuacct: join(base, 'cpuacct/berth/x'), cpu: join(base, 'cpuacct/berth/x'), memory: join(base, 'memory/berth/x') } });
  assert.equal(cg.cpuNs(), 123456789);
  assert.equal(cg.peakBytes(), 4096000);
  assert.equal(cg.limitBytes(), undefined, 'v1 writes no limit as a huge number');
  assert.equal(cg.oomKills(), 2);
  assert.equal(cg.resetPeak(), true);
  assert.equal(readFileSync(join(base, 'memory/berth/x/memory.max_usage_in_bytes'), 'utf8'), '0');
  writeFileSync(join(base, 'memory/berth/x/memory.limit_in_bytes'), '33554432\n');
  assert.equal(cg.limitBytes(), 32 * 2 ** 20);
  rmSync(join(base, 'cpuacct'), { recursive: true });
  assert.equal(cg.cpuNs(), undefined, 'gone: unknown');
});

test('v2: cpu.stat usage_usec, memory.peak, memory.max ("max": none), memory.events', (t) => {
  const base = tempDir(t, 'faas-cg-');
  tree(base, {
    'berth/x/cpu.stat': 'usage_usec 2500\nuser_usec 2000\nsystem_usec 500\n',
    'berth/x/memory.peak': '8192\n',
    'berth/x/memory.max': 'max\n',
    'berth/x/memory.events': 'low 0\nhigh 0\nmax 3\noom 1\noom_kill 1\n',
  });
  const cg = new ReplicaCgroup({ mode: 'v2', dirs: { unified: join(base, 'berth/x') } });
  assert.equal(cg.cpuNs(), 2_500_000);
  assert.equal(cg.peakBytes(), 8192);
  assert.equal(cg.limitBytes(), undefined);
  assert.equal(cg.oomKills(), 1);
  cg.close();
});

test('no memory controller: nothing to read, no reset', () => {
  const cg = new ReplicaCgroup({ mode: 'v1', dirs: {} });
  assert.equal(cg.cpuNs(), undefined);
  assert.equal(cg.peakBytes(), undefined);
  assert.equal(cg.oomKills(), undefined);
  assert.equal(cg.resetPeak(), false);
});
