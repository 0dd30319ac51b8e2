import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseResources, parseUlimit } from '../../../../src/engine/spec/resources.ts';
import { throwsCode } from './helpers.ts';

const MiB = 1024 * 1024;

test('--memory in go-units sizes, swap twice the memory unless given, -1 unlimited', () => {
  assert.deepEqual(parseResources({ memory: '64m' }).resources, { memory: { limit: 64 * MiB, swap: 128 * MiB } });
  assert.deepEqual(parseResources({ memory: '1g', memorySwap: '1.5g' }).resources, { memory: { limit: 1024 * MiB, swap: 1536 * MiB } });
  assert.deepEqual(parseResources({ memory: '64MiB', memorySwap: '-1' }).resources, { memory: { limit: 64 * MiB, swap: -1 } });
  assert.deepEqual(parseResources({ memory: '6291456' }).resources.memory?.limit, 6 * MiB);
});

test('memory refusals', () => {
  throwsCode(() => parseResources({ memory: '64x' }), 'run_flag_invalid', /--memory "64x": not a size/);
  throwsCode(() => parseResources({ memory: '4m' }), 'run_flag_invalid', /--memory "4m": the minimum memory limit is 6m/);
  throwsCode(() => parseResources({ memory: '64m', memorySwap: '32m' }), 'run_flag_invalid', /--memory-swap "32m": .*at least the memory limit/);
  throwsCode(() => parseResources({ memorySwap: '1g' }), 'run_flags_conflict', /--memory-swap/);
});

test('--cpus as quota over a 100ms period, --cpu-shares, --pids-limit', () => {
  assert.deepEqual(parseResources({ cpus: '1.5' }).resources, { cpu: { quota: 150000, period: 100000 } });
  assert.deepEqual(parseResources({ cpus: '.5', cpuShares: '512' }).resources, { cpu: { quota: 50000, period: 100000, shares: 512 } });
  assert.deepEqual(parseResources({ cpus: '0.01' }).resources.cpu?.quota, 1000);
  assert.deepEqual(parseResources({ pidsLimit: '100' }).resources, { pids: { limit: 100 } });
  assert.deepEqual(parseResources({ pidsLimit: '0' }).resources, { pids: { limit: -1 } });
  assert.deepEqual(parseResources({ pidsLimit: '-1' }).resources, { pids: { limit: -1 } });
  throwsCode(() => parseResources({ cpus: '0.001' }), 'run_flag_invalid', /--cpus "0\.001": .*at least 0\.01/);
  throwsCode(() => parseResources({ cpus: 'two' }), 'run_flag_invalid', /--cpus "two"/);
  throwsCode(() => parseResources({ cpus: '-1' }), 'run_flag_invalid', /--cpus "-1"/);
  throwsCode(() => parseResources({ cpuShares: '-2' }), 'run_flag_invalid', /--cpu-shares "-2": cannot be negative/);
  throwsCode(() => parseResources({ pidsLimit: '1.5' }), 'run_flag_invalid', /--pids-limit "1\.5": not an integer/);
});

test('--ulimit NAME=SOFT[:HARD], the last of a name winning', () => {
  assert.deepEqual(parseUlimit('nofile=1024:2048'), { type: 'RLIMIT_NOFILE', soft: 1024, hard: 2048 });
  assert.deepEqual(parseUlimit('nproc=64'), { type: 'RLIMIT_NPROC', soft: 64, hard: 64 });
  assert.deepEqual(parseResources({ ulimit: ['nofile=1:2', 'core=0', 'nofile=3:4'] }).rlimits, [
    { type: 'RLIMIT_NOFILE', soft: 3, hard: 4 },
    { type: 'RLIMIT_CORE', soft: 0, hard: 0 },
  ]);
  throwsCode(() => parseUlimit('nofile=2048:1024'), 'run_flag_invalid', /--ulimit "nofile=2048:1024": the soft limit 2048 is above the hard limit 1024/);
  throwsCode(() => parseUlimit('files=1'), 'run_flag_invalid', /"files" is not a limit/);
  throwsCode(() => parseUlimit('nofile'), 'run_flag_invalid', /not NAME=SOFT\[:HARD\]/);
  throwsCode(() => parseUlimit('nofile=-1'), 'run_flag_invalid', /not NAME=SOFT/);
});
