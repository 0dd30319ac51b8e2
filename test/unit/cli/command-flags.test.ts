/**
 * The flags of the other container and volume commands
 * (src/cli/berth/command-flags.ts) and docker's --since/--until times
 * (src/cli/berth/since.ts). Expected times are computed independently
 * with Date.UTC from the text of docker's documentation examples.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { commandsFor, type Program } from '../../../src/cli/framework/command.ts';
import { DOCKER, type FlagSpec, type FlagValues } from '../../../src/cli/framework/flags.ts';
import { parseCommandLine } from '../../../src/cli/framework/run.ts';
import {
  CP_FLAGS,
  KILL_FLAGS,
  LOGS_FLAGS,
  PS_FLAGS,
  RM_FLAGS,
  STOP_FLAGS,
  VOLUME_CREATE_FLAGS,
  logsOptionsFrom,
  volumeCreateFrom,
} from '../../../src/cli/berth/command-flags.ts';
import { apiTimestamp, parseSince } from '../../../src/cli/berth/since.ts';
import { isBerthError } from '../../../src/errors.ts';

const define = commandsFor<null>();

async function parse(flags: readonly FlagSpec[], ...argv: string[]): Promise<{ flags: FlagValues; args: readonly string[] }> {
  const program: Program<null> = {
    name: 'berth',
    summary: 'test',
    dialect: DOCKER,
    globals: [{ name: 'quiet', short: 'q', type: 'bool', help: 'print less' }],
    commands: [{ name: 'cmd', summary: 'cmd', load: () => Promise.resolve({ default: define({ args: ['[ARG...]'], flags, run: () => Promise.resolve(undefined) }) }) }],
    groups: [],
  };
  const inv = await parseCommandLine(program, ['cmd', ...argv]);
  if (inv.kind !== 'command') throw new Error(`unreachable: parsed as ${inv.kind}`);
  return { flags: inv.input.flags, args: inv.input.args };
}

const sec = (iso: string): bigint => BigInt(Date.parse(iso)) * 1_000_000n;

test('docker\'s short forms: ps -aq -n 3 -f, rm -fv, stop -t -s, kill -s, cp -aL, logs -fn', async () => {
  const ps = await parse(PS_FLAGS, '-aq', '-n', '3', '-f', 'status=exited', '--filter', 'name=web', '--no-trunc', '-s', '-l');
  assert.deepEqual(ps.flags, { all: true, quiet: true, last: 3, filter: ['status=exited', 'name=web'], 'no-trunc': true, size: true, latest: true });
  assert.deepEqual((await parse(RM_FLAGS, '-fv', 'a', 'b')).flags, { force: true, volumes: true });
  assert.deepEqual((await parse(STOP_FLAGS, '-t', '3', '-s', 'SIGINT', 'web')).flags, { time: 3, signal: 'SIGINT' });
  assert.deepEqual((await parse(KILL_FLAGS, '-s', 'HUP', 'web')).flags, { signal: 'HUP' });
  assert.deepEqual((await parse(CP_FLAGS, '-aL', 'web:/a', '/b')).flags, { archive: true, 'follow-link': true });
  assert.deepEqual((await parse(LOGS_FLAGS, '-ftn', '5', 'web')).flags, { follow: true, timestamps: true, tail: '5' });
});

test('parseSince: docker\'s time forms to Unix nanoseconds', () => {
  const now = Date.parse('2026-12-06T23:59:01.700Z');
  assert.equal(parseSince('2013-01-02T13:23:37Z', now), sec('2013-01-02T13:23:37Z'));
  assert.equal(parseSince('2013-01-02T13:23:37.123456789Z', now), sec('2013-01-02T13:23:37Z') + 123_456_789n);
  assert.equal(parseSince('2013-01-02T13:23:37.5+01:00', now), sec('2013-01-02T12:23:37Z') + 500_000_000n);
  assert.equal(parseSince('2013-01-02T13:23-02:00', now), sec('2013-01-02T15:23:00Z'));
  assert.equal(parseSince('2013-01-02T13Z', now), sec('2013-01-02T13:00:00Z'));
  assert.equal(parseSince('2013-01-02Z', now), sec('2013-01-02T00:00:00Z'));
  // Relative: back from now, truncated to the second as docker's CLI does.
  assert.equal(parseSince('42m', now), sec('2026-12-06T23:17:01Z'));
  assert.equal(parseSince('1h30m', now), sec('2026-12-06T22:29:01Z'));
  assert.equal(parseSince('1.5h', now), sec('2026-12-06T22:29:01Z'));
  // Unix seconds, with docker's scaling of a short fraction.
  assert.equal(parseSince('1483228800', now), 1_483_228_800_000_000_000n);
  assert.equal(parseSince('1483228800.5', now), 1_483_228_800_500_000_000n);
  assert.equal(parseSince('0', now), 0n, '"0" is the epoch, not a zero duration');
});

test('parseSince: a time without a zone is in the local zone as it is now', () => {
  const now = Date.parse('2026-12-06T23:59:01Z');
  const offsetMin = -new Date(now).getTimezoneOffset();
  const utc = sec('2013-01-02T13:23:37Z');
  assert.equal(parseSince('2013-01-02T13:23:37', now), utc - BigInt(offsetMin * 60) * 1_000_000_000n);
  assert.equal(parseSince('2013-01-02', now), sec('2013-01-02T00:00:00Z') - BigInt(offsetMin * 60) * 1_000_000_000n);
});

test('parseSince: bad times are refused naming the flag and value', () => {
  for (const [value, why] of [
    ['yesterday', /failed to parse value as time or duration/],
    ['2013-13-02T13:23:37Z', /not a time/],
    ['2013-01-02T25:00:00Z', /not a time/],
    ['10', null],
  ] as const) {
    if (why === null) {
      assert.equal(parseSince(value, 0), 10_000_000_000n, 'a bare integer is Unix seconds');
      continue;
    }
    assert.throws(() => parseSince(value, 0, '--until'), (err) => {
      assert.ok(isBerthError(err, 'invalid_flag'));
      assert.ok(err.message.startsWith(`--until ${JSON.stringify(value)}: `), err.message);
      assert.match(err.message, why);
      return true;
    });
  }
});

test('apiTimestamp: seconds.nanoseconds as docker\'s CLI sends them', () => {
  assert.equal(apiTimestamp(1_483_228_800_500_000_000n), '1483228800.500000000');
  assert.equal(apiTimestamp(7n), '0.000000007');
});

test('logs: --since/--until/--tail/-f/-t into options', async () => {
  const now = Date.parse('2026-12-06T23:59:01Z');
  const { flags } = await parse(LOGS_FLAGS, '--since', '10m', '--until', '2026-12-06T23:59:00Z', '-n', '20', '-f', 'web');
  assert.deepEqual(logsOptionsFrom(flags, now), { follow: true, timestamps: false, since: sec('2026-12-06T23:49:01Z'), until: sec('2026-12-06T23:59:00Z'), tail: 20 });
  assert.deepEqual(logsOptionsFrom((await parse(LOGS_FLAGS, '--tail', 'all', 'web')).flags, now), { follow: false, timestamps: false });
  assert.deepEqual(logsOptionsFrom((await parse(LOGS_FLAGS, '--tail', '-1', 'web')).flags, now), { follow: false, timestamps: false }, 'negative: all, as docker');
  const bad = await parse(LOGS_FLAGS, '--tail', 'ten', 'web');
  assert.throws(() => logsOptionsFrom(bad.flags, now), (err) => isBerthError(err, 'invalid_flag') && /^--tail "ten": /.test(err.message));
});

test('volume create: the local driver and labels; other drivers and --opt refused by name', async () => {
  assert.deepEqual(volumeCreateFrom((await parse(VOLUME_CREATE_FLAGS, '--label', 'a=b', '--label', 'c', 'v')).flags), { driver: 'local', labels: { a: 'b', c: '' } });
  const nfs = await parse(VOLUME_CREATE_FLAGS, '-d', 'nfs', 'v');
  assert.throws(() => volumeCreateFrom(nfs.flags), (err) => isBerthError(err, 'volume_driver_unsupported') && /^--driver "nfs"/.test(err.message));
  const opt = await parse(VOLUME_CREATE_FLAGS, '-o', 'type=tmpfs', 'v');
  assert.throws(() => volumeCreateFrom(opt.flags), (err) => isBerthError(err, 'volume_opt_unsupported') && /^--opt "type=tmpfs"/.test(err.message));
});
