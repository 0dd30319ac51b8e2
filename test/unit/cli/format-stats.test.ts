/**
 * `berth stats` output (src/cli/berth/format/stats.ts) against docker's
 * formatter tests (formatter_stats_test.go) and the row of docker's stats
 * documentation, rebuilt from a stats JSON answer: CPU % from the two
 * samples, memory less the inactive page cache, binary units for memory,
 * decimal ones for I/O.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { cpuPercent, invalidStatsEntry, memoryUsage, renderStats, statsEntry, type StatsEntry } from '../../../src/cli/berth/format/stats.ts';
import { isBerthError } from '../../../src/errors.ts';

const ID = 'b95a83497c9161c9b444e3d70e1a9dfba0c1840d41720e146a95a08ebf938afc';

/** The container of docker's documentation example, as the daemon would answer. */
const answer = {
  id: ID,
  name: '/awesome_brattain',
  pids_stats: { current: 9 },
  cpu_stats: { cpu_usage: { total_usage: 1_000_280_000 }, system_cpu_usage: 5_100_000_000, online_cpus: 2 },
  precpu_stats: { cpu_usage: { total_usage: 1_000_000_000 }, system_cpu_usage: 4_900_000_000, online_cpus: 2 },
  memory_stats: { usage: 5_902_434 + 1_000_000, limit: 2_095_944_040, stats: { inactive_file: 1_000_000 } },
  networks: { eth0: { rx_bytes: 916, tx_bytes: 0 } },
  blkio_stats: { io_service_bytes_recursive: [{ major: 8, minor: 0, op: 'read', value: 147_456 }, { major: 8, minor: 0, op: 'write', value: 0 }] },
};

test('the default table from a stats answer: docker\'s documentation row', () => {
  const entry = statsEntry('b95a83497c91', answer);
  assert.equal(
    renderStats([entry], undefined),
    'CONTAINER ID   NAME               CPU %     MEM USAGE / LIMIT     MEM %     NET I/O     BLOCK I/O    PIDS\n' +
      'b95a83497c91   awesome_brattain   0.28%     5.629MiB / 1.952GiB   0.28%     916B / 0B   147kB / 0B   9\n',
  );
  assert.equal(renderStats([entry], '{{.ID}}', false), `${ID}\n`, '--no-trunc');
});

test('docker\'s TestContainerStatsContextWrite', () => {
  const one: StatsEntry = { container: 'container1', id: 'abcdef', name: '/foo', cpuPercentage: 20, memory: 20, memoryLimit: 20, memoryPercentage: 20, networkRx: 20, networkTx: 20, blockRead: 20, blockWrite: 20, pidsCurrent: 2, isInvalid: false };
  const two: StatsEntry = { ...invalidStatsEntry('container2') };
  assert.equal(renderStats([one, two], 'table {{.MemUsage}}'), 'MEM USAGE / LIMIT\n20B / 20B\n-- / --\n');
  assert.equal(renderStats([one, two], '{{.Container}}  {{.ID}}  {{.Name}}'), 'container1  abcdef  foo\ncontainer2    --\n');
  assert.equal(renderStats([one, two], '{{.Container}}  {{.CPUPerc}}'), 'container1  20.00%\ncontainer2  --\n');
  assert.equal(renderStats([], 'table {{.Container}}\t{{.CPUPerc}}'), 'CONTAINER   CPU %\n');
  assert.equal(renderStats([], '{{.Container}}'), '');
  assert.throws(() => renderStats([one], '{{InvalidFunction}}'), (err) => isBerthError(err, 'invalid_format') && err.message.endsWith('template parsing error: template: :1: function "InvalidFunction" not defined'));
  assert.throws(() => renderStats([one], '{{nil}}'), (err) => isBerthError(err, 'invalid_format') && err.message.endsWith('template parsing error: template: :1:2: executing "" at <nil>: nil is not a command'));
});

test('docker\'s TestContainerStatsContext, field by field', () => {
  const base = invalidStatsEntry('c');
  const row = (over: Partial<StatsEntry>, format: string): string => renderStats([{ ...base, isInvalid: false, ...over }], format).trimEnd();
  assert.equal(row({ cpuPercentage: 5.5 }, '{{.CPUPerc}}'), '5.50%');
  assert.equal(row({ networkRx: 0.31, networkTx: 12.3 }, '{{.NetIO}}'), '0.31B / 12.3B');
  assert.equal(row({ blockRead: 0.1, blockWrite: 2.3 }, '{{.BlockIO}}'), '0.1B / 2.3B');
  assert.equal(row({ memoryPercentage: 10.2 }, '{{.MemPerc}}'), '10.20%');
  assert.equal(row({ memory: 24, memoryLimit: 30 }, '{{.MemUsage}}'), '24B / 30B');
  assert.equal(row({ pidsCurrent: 10 }, '{{.PIDs}}'), '10');
  assert.equal(renderStats([{ ...base, pidsCurrent: 10 }], '{{.PIDs}} {{.NetIO}} {{.BlockIO}} {{.MemPerc}}'), '-- -- -- --\n', 'invalid: "--"');
});

test('CPU % and memory as docker\'s CLI computes them', () => {
  assert.equal(cpuPercent({ total: 0, system: 0, online: 4 }, { total: 50, system: 100, online: 4 }), 200);
  assert.equal(cpuPercent({ total: 10, system: 0, online: 4 }, { total: 10, system: 100, online: 4 }), 0, 'no CPU used');
  const noOnline = statsEntry('x', { cpu_stats: { cpu_usage: { total_usage: 35, percpu_usage: [10, 10, 5, 0] }, system_cpu_usage: 100 }, precpu_stats: { cpu_usage: { total_usage: 10 }, system_cpu_usage: 0 } });
  assert.equal(noOnline.cpuPercentage, 100, 'without online_cpus: the per-CPU list\'s length');
  assert.equal(memoryUsage({ usage: 100, stats: { total_inactive_file: 30, inactive_file: 10 } }), 70, 'cgroup v1 first');
  assert.equal(memoryUsage({ usage: 100, stats: { inactive_file: 10 } }), 90, 'cgroup v2');
  assert.equal(memoryUsage({ usage: 100, stats: { inactive_file: 200 } }), 100, 'never below zero');
  assert.throws(() => statsEntry('web', 'nope'), (err) => isBerthError(err, 'daemon_response_invalid') && /container "web"/.test(err.message));
});
