/** mount(8)-style options → mount(2) flags, propagation and data, with runc's meaning for each. */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { MS } from '../../../../src/runtime/linux/constants.ts';
import { BIND_REMOUNT_FLAGS, KNOWN_MOUNT_OPTIONS, parseMountOptions, UNSUPPORTED_OPTIONS } from '../../../../src/runtime/plan/mount-options.ts';

describe('parseMountOptions', () => {
  test('each flag option sets its flag', () => {
    const cases: [string, number][] = [
      ['ro', MS.RDONLY],
      ['nosuid', MS.NOSUID],
      ['nodev', MS.NODEV],
      ['noexec', MS.NOEXEC],
      ['sync', MS.SYNCHRONOUS],
      ['remount', MS.REMOUNT],
      ['mand', MS.MANDLOCK],
      ['dirsync', MS.DIRSYNC],
      ['nosymfollow', MS.NOSYMFOLLOW],
      ['noatime', MS.NOATIME],
      ['nodiratime', MS.NODIRATIME],
      ['silent', MS.SILENT],
      ['relatime', MS.RELATIME],
      ['iversion', MS.I_VERSION],
      ['strictatime', MS.STRICTATIME],
      ['lazytime', MS.LAZYTIME],
    ];
    for (const [opt, flag] of cases) {
      const p = parseMountOptions([opt], 'tmpfs');
      assert.equal(p.flags, flag, opt);
      assert.deepEqual(p.data, [], opt);
      assert.equal(p.bind, false, opt);
    }
  });

  test('the opposite option clears it again, the last one wins', () => {
    const pairs: [string, string][] = [
      ['ro', 'rw'],
      ['nosuid', 'suid'],
      ['nodev', 'dev'],
      ['noexec', 'exec'],
      ['sync', 'async'],
      ['mand', 'nomand'],
      ['noatime', 'atime'],
      ['nodiratime', 'diratime'],
      ['silent', 'loud'],
      ['relatime', 'norelatime'],
      ['iversion', 'noiversion'],
      ['strictatime', 'nostrictatime'],
      ['lazytime', 'nolazytime'],
    ];
    for (const [set, clear] of pairs) {
      assert.equal(parseMountOptions([set, clear], undefined).flags, 0, `${set},${clear}`);
      assert.notEqual(parseMountOptions([clear, set], undefined).flags, 0, `${clear},${set}`);
    }
    assert.equal(parseMountOptions(['ro', 'defaults'], undefined).flags, MS.RDONLY);
  });

  test('bind and rbind, by option or by type', () => {
    assert.deepEqual(parseMountOptions(['bind'], 'none'), { flags: MS.BIND, propagation: [], data: [], bind: true, recursive: false, copyUp: false });
    assert.deepEqual(parseMountOptions(['rbind', 'ro'], undefined), { flags: MS.BIND | MS.REC | MS.RDONLY, propagation: [], data: [], bind: true, recursive: true, copyUp: false });
    assert.deepEqual(parseMountOptions([], 'bind'), { flags: MS.BIND, propagation: [], data: [], bind: true, recursive: false, copyUp: false });
  });

  test('propagation options are kept apart, in order', () => {
    const p = parseMountOptions(['rprivate', 'shared', 'slave', 'rslave', 'unbindable', 'runbindable', 'private', 'rshared'], 'tmpfs');
    assert.equal(p.flags, 0);
    assert.deepEqual(p.propagation, [
      MS.PRIVATE | MS.REC,
      MS.SHARED,
      MS.SLAVE,
      MS.SLAVE | MS.REC,
      MS.UNBINDABLE,
      MS.UNBINDABLE | MS.REC,
      MS.PRIVATE,
      MS.SHARED | MS.REC,
    ]);
  });

  test('anything else is filesystem data, in order; tmpcopyup asks for a copy, not data', () => {
    const p = parseMountOptions(['nosuid', 'size=65536k', 'tmpcopyup', 'mode=0755', 'uid=5'], 'tmpfs');
    assert.equal(p.flags, MS.NOSUID);
    assert.deepEqual(p.data, ['size=65536k', 'mode=0755', 'uid=5']);
    assert.equal(p.copyUp, true);
    assert.equal(parseMountOptions(['size=1m'], 'tmpfs').copyUp, false);
  });

  test('the known options, the refused recursive attributes and the flags a bind needs a remount for', () => {
    assert.deepEqual(KNOWN_MOUNT_OPTIONS, [...KNOWN_MOUNT_OPTIONS].sort());
    for (const o of ['ro', 'rw', 'bind', 'rbind', 'rslave', 'defaults', 'nosymfollow']) assert.ok(KNOWN_MOUNT_OPTIONS.includes(o), o);
    for (const o of ['rro', 'rnoexec', 'idmap', 'ridmap']) assert.ok(UNSUPPORTED_OPTIONS.has(o), o);
    assert.equal(UNSUPPORTED_OPTIONS.has('ro'), false);
    assert.equal(BIND_REMOUNT_FLAGS & (MS.BIND | MS.REC | MS.REMOUNT), 0);
    for (const f of [MS.RDONLY, MS.NOSUID, MS.NODEV, MS.NOEXEC]) assert.equal(BIND_REMOUNT_FLAGS & f, f);
  });
});
