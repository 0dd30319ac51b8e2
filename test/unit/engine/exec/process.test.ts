import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isBerthError } from '../../../../src/errors.ts';
import { parseExecConfig } from '../../../../src/engine/exec/config.ts';
import { execProcess } from '../../../../src/engine/exec/process.ts';
import type { Process } from '../../../../src/oci/runtime-spec.ts';

const CAPS = ['CAP_CHOWN', 'CAP_KILL'];
const CONTAINER: Process = {
  terminal: false,
  user: { uid: 1000, gid: 1000, additionalGids: [10], umask: 0o22 },
  args: ['server'],
  env: ['PATH=/usr/bin:/bin', 'HOSTNAME=abc', 'KEEP=1', 'DROP=1'],
  cwd: '/app',
  capabilities: { bounding: CAPS, effective: CAPS, permitted: CAPS },
  rlimits: [{ type: 'RLIMIT_NOFILE', hard: 1024, soft: 1024 }],
  noNewPrivileges: true,
};
const DB = {
  passwd: 'root:x:0:0:root:/root:/bin/sh\nweb:x:33:33:web:/var/www:/bin/sh\n',
  group: 'root:x:0:\nweb:x:33:\nstaff:x:50:web\n',
};
const noDb = (): never => assert.fail('the user database is read only for a User');

test('an exec starts from the container\'s process: its user, cwd, environment, capabilities and limits', () => {
  const p = execProcess(CONTAINER, parseExecConfig({ Cmd: ['ls', '-l'] }), 'web', noDb);
  assert.deepEqual(p, { ...CONTAINER, args: ['ls', '-l'] });
});

test('-e replaces or adds by name, a bare name removes; a terminal gets TERM=xterm unless set', () => {
  const p = execProcess(CONTAINER, parseExecConfig({ Cmd: ['env'], Env: ['KEEP=2', 'NEW=a=b', 'DROP'], Tty: true, ConsoleSize: [30, 120] }), 'web', noDb);
  assert.deepEqual(p.env, ['PATH=/usr/bin:/bin', 'HOSTNAME=abc', 'KEEP=2', 'TERM=xterm', 'NEW=a=b']);
  assert.equal(p.terminal, true);
  assert.deepEqual(p.consoleSize, { height: 30, width: 120 });
  const own = execProcess(CONTAINER, parseExecConfig({ Cmd: ['env'], Env: ['TERM=vt100'], Tty: true }), 'web', noDb);
  assert.deepEqual(own.env?.filter((e) => e.startsWith('TERM=')), ['TERM=vt100']);
});

test('-w replaces the cwd; -u is resolved in the container\'s user database, with its groups', () => {
  const p = execProcess(CONTAINER, parseExecConfig({ Cmd: ['id'], WorkingDir: '/tmp', User: 'web' }), 'web', () => DB);
  assert.equal(p.cwd, '/tmp');
  assert.deepEqual(p.user, { umask: 0o22, uid: 33, gid: 33, additionalGids: [50] });
  assert.deepEqual(execProcess(CONTAINER, parseExecConfig({ Cmd: ['id'], User: '5:7' }), 'web', () => DB).user, { umask: 0o22, uid: 5, gid: 7 });
  assert.throws(() => execProcess(CONTAINER, parseExecConfig({ Cmd: ['id'], User: 'ghost' }), 'web', () => DB), (err: Error) =>
    isBerthError(err, 'exec_config_invalid') && err.message === 'container "web": exec config User "ghost": no user "ghost" in the container\'s /etc/passwd');
});

test('Privileged gives every capability', () => {
  const p = execProcess(CONTAINER, parseExecConfig({ Cmd: ['id'], Privileged: true }), 'web', noDb);
  assert.ok((p.capabilities?.effective?.length ?? 0) > 30);
  assert.ok(p.capabilities?.bounding?.includes('CAP_SYS_ADMIN'));
});
