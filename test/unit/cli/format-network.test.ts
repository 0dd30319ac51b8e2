import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isBerthError } from '../../../src/errors.ts';
import { parseFilters } from '../../../src/cli/berth/format/filters.ts';
import { goCreatedString, renderNetworks, type NetworkSummary } from '../../../src/cli/berth/format/network.ts';

// Go's Time.String is in the local zone; Node takes a new TZ at once.
process.env['TZ'] = 'UTC';

const net = (name: string, id: string, extra: Partial<NetworkSummary> = {}): NetworkSummary => ({
  Id: id.repeat(64 / id.length),
  Name: name,
  Driver: 'bridge',
  Scope: 'local',
  Created: '2026-12-07T02:47:18.937Z',
  Labels: {},
  ...extra,
});

const NETS = [net('n10', 'c'), net('bridge', 'a'), net('n2', 'b', { Internal: true, Labels: { tier: 'web', app: 'x' } })];

test("network ls: docker's table, names in natural order, IDs cut to 12", () => {
  assert.equal(
    renderNetworks(NETS, {}),
    [
      'NETWORK ID     NAME      DRIVER    SCOPE',
      'aaaaaaaaaaaa   bridge    bridge    local',
      'bbbbbbbbbbbb   n2        bridge    local',
      'cccccccccccc   n10       bridge    local',
      '',
    ].join('\n'),
  );
});

test('network ls -q and --no-trunc', () => {
  assert.equal(renderNetworks(NETS, { quiet: true }), 'aaaaaaaaaaaa\nbbbbbbbbbbbb\ncccccccccccc\n');
  assert.equal(renderNetworks(NETS, { quiet: true, noTrunc: true }).split('\n')[0], 'a'.repeat(64));
});

test("network ls --format: docker's placeholders", () => {
  assert.equal(
    renderNetworks([NETS[2]!], { format: '{{.Name}} {{.Internal}} {{.IPv6}} {{.Labels}} {{.Label "tier"}} {{.CreatedAt}}' }),
    'n2 true false app=x,tier=web web 2026-12-07 02:47:18.937 +0000 UTC\n',
  );
  assert.equal(renderNetworks([NETS[1]!], { format: 'table {{.Name}}\t{{.Label "com.example.tier"}}' }), 'NAME      tier\nbridge    \n');
  assert.throws(() => renderNetworks(NETS, { format: '{{.Nope}}' }), (e: unknown) => isBerthError(e, 'invalid_format'));
});

test("goCreatedString is Go's Time.String of an RFC 3339 time (fraction without trailing zeros)", () => {
  assert.equal(goCreatedString('2026-12-07T02:47:18.930Z'), '2026-12-07 02:47:18.93 +0000 UTC');
  assert.equal(goCreatedString('2026-12-07T02:47:18Z'), '2026-12-07 02:47:18 +0000 UTC');
});

test('network filters are checked on the client, naming the filter', () => {
  assert.deepEqual(parseFilters(['type=custom', 'name=a'], 'network ls'), { type: { custom: true }, name: { a: true } });
  assert.throws(() => parseFilters(['type=other'], 'network ls'), (e: unknown) => isBerthError(e, 'filter_invalid') && e.message.includes("'type'"));
  assert.throws(() => parseFilters(['status=x'], 'network ls'), (e: unknown) => isBerthError(e, 'filter_invalid') && e.message.includes("'status'"));
  assert.throws(() => parseFilters(['dangling=maybe'], 'network ls'), (e: unknown) => isBerthError(e, 'filter_invalid'));
  assert.deepEqual(parseFilters(['until=10m'], 'network prune'), { until: { '10m': true } });
});
