/** Prometheus' text format as berthd writes it, and the JSON log lines. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createLogger, parseLogLevel } from '../../../src/api/log.ts';
import { MetricsRegistry } from '../../../src/api/metrics.ts';
import { isBerthError, notFound } from '../../../src/errors.ts';

test('counters, gauges and collected gauges render with HELP, TYPE and escaped labels', () => {
  const m = new MetricsRegistry();
  const c = m.counter('berth_things_total', 'Things done\nby kind');
  c.inc({ kind: 'a' });
  c.inc({ kind: 'a' }, 2);
  c.inc({ kind: 'say "hi"\\' });
  const g = m.gauge('berth_level', 'A level');
  g.set(1.5);
  m.collect('berth_rows', 'Rows', () => [[{ table: 'x' }, 3]]);
  assert.equal(
    m.render(),
    [
      '# HELP berth_things_total Things done\\nby kind',
      '# TYPE berth_things_total counter',
      'berth_things_total{kind="a"} 3',
      'berth_things_total{kind="say \\"hi\\"\\\\"} 1',
      '# HELP berth_level A level',
      '# TYPE berth_level gauge',
      'berth_level 1.5',
      '# HELP berth_rows Rows',
      '# TYPE berth_rows gauge',
      'berth_rows{table="x"} 3',
      '',
    ].join('\n'),
  );
});

test('bad names, twice-registered metrics and counters going down are refused', () => {
  const m = new MetricsRegistry();
  m.counter('ok_total', 'x');
  assert.throws(() => m.counter('ok_total', 'x'), (err) => isBerthError(err, 'metric_invalid'));
  assert.throws(() => m.gauge('bad-name', 'x'), (err) => isBerthError(err, 'metric_invalid'));
  assert.throws(() => m.counter('c_total', 'x').inc({}, -1), (err) => isBerthError(err, 'metric_invalid'));
  assert.throws(() => m.counter('d_total', 'x').inc({ 'bad-label': 'v' }), (err) => isBerthError(err, 'metric_invalid'));
});

test('log lines: one JSON object each, below the level dropped, errors with their code, base keys kept', () => {
  const lines: string[] = [];
  const log = createLogger({ level: 'info', write: (l) => lines.push(l), now: () => new Date(0) }).child({ component: 'api' });
  log.debug('hidden');
  log.info('started', { socket: '/run/berth/berth.sock', msg: 'a field named msg' });
  log.error('failed', { err: notFound('container_not_found', 'container "web": not found'), n: 10n });
  assert.equal(lines.length, 2);
  assert.ok(lines.every((l) => l.endsWith('\n') && !l.slice(0, -1).includes('\n')));
  assert.deepEqual(JSON.parse(lines[0] ?? ''), { time: '1970-01-01T00:00:00.000Z', level: 'info', msg: 'started', component: 'api', socket: '/run/berth/berth.sock', field_msg: 'a field named msg' });
  assert.deepEqual(JSON.parse(lines[1] ?? ''), {
    time: '1970-01-01T00:00:00.000Z',
    level: 'error',
    msg: 'failed',
    component: 'api',
    err: { message: 'container "web": not found', code: 'container_not_found' },
    n: '10',
  });
  assert.equal(parseLogLevel('warn'), 'warn');
  assert.throws(() => parseLogLevel('verbose'), (err) => isBerthError(err, 'invalid_log_level') && err.message.includes('verbose'));
});
