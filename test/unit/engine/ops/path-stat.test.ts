/**
 * The X-Docker-Container-Path-Stat header's pieces: Go FileMode bits from
 * st_mode (the numbers dockerd's API shows), Go's time and Base, and
 * dockerd's cleaning of the requested path.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { decodePathStat, encodePathStat, goBase, GoMode, goFileMode, goTime } from '../../../../src/engine/ops/path-stat.ts';
import { absPath } from '../../../../src/engine/ops/archive.ts';
import { isBerthError } from '../../../../src/errors.ts';

test('st_mode to Go FileMode: type and special bits move to the high bits', () => {
  assert.equal(goFileMode(0o040755), 2147484141); // a 0755 directory, as docker's API reports it
  assert.equal(goFileMode(0o120777), 134218239); // a symlink
  assert.equal(goFileMode(0o104755), 0o755 + GoMode.Setuid);
  assert.equal(goFileMode(0o102755), 0o755 + GoMode.Setgid);
  assert.equal(goFileMode(0o041777), 0o777 + GoMode.Dir + GoMode.Sticky); // /tmp
  assert.equal(goFileMode(0o020666), 0o666 + GoMode.Device + GoMode.CharDevice);
  assert.equal(goFileMode(0o060660), 0o660 + GoMode.Device);
  assert.equal(goFileMode(0o010644), 0o644 + GoMode.NamedPipe);
  assert.equal(goFileMode(0o140755), 0o755 + GoMode.Socket);
  assert.equal(goFileMode(0o100644), 0o644);
});

test("Go's RFC 3339 nano time: trailing zeros dropped, none for whole seconds", () => {
  assert.equal(goTime(0, 0), '1970-01-01T00:00:00Z');
  assert.equal(goTime(1_600_000_000, 500_000_000), '2020-09-13T12:26:40.5Z');
  assert.equal(goTime(1_600_000_000, 123), '2020-09-13T12:26:40.000000123Z');
});

test("Go's filepath.Base and dockerd's absPath", () => {
  assert.equal(goBase('/'), '/');
  assert.equal(goBase('/foo/'), 'foo');
  assert.equal(goBase('/foo/.'), '.');
  assert.equal(goBase(''), '.');
  assert.equal(absPath('etc/passwd'), '/etc/passwd');
  assert.equal(absPath('/a/../../b'), '/b');
  assert.equal(absPath('/foo/'), '/foo/');
  assert.equal(absPath('/foo/.'), '/foo/.');
  assert.equal(absPath('.'), '/');
  assert.equal(absPath('/'), '/');
});

test('the header round-trips; a header that is not a path stat is refused by name', () => {
  const stat = { name: 'x', size: 3, mode: 420, mtime: '2020-09-13T12:26:40Z', linkTarget: '' };
  assert.deepEqual(decodePathStat(encodePathStat(stat)), stat);
  assert.equal((JSON.parse(Buffer.from(encodePathStat(stat), 'base64').toString()) as { mode: unknown }).mode, 420);
  for (const bad of ['not base64 json', Buffer.from('{"name":1}').toString('base64')]) {
    assert.throws(() => decodePathStat(bad), (err: unknown) => isBerthError(err, 'cp_path_stat_invalid'));
  }
});
