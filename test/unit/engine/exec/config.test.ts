import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isBerthError } from '../../../../src/errors.ts';
import { parseExecConfig } from '../../../../src/engine/exec/config.ts';

test('a docker CLI exec config is read with its fields; unknown ones (Detach, DetachKeys) are ignored as dockerd does', () => {
  const config = parseExecConfig({
    User: 'nobody', Privileged: false, Tty: true, ConsoleSize: [24, 80], AttachStdin: true, AttachStderr: true, AttachStdout: true,
    Detach: false, DetachKeys: 'ctrl-p,ctrl-q', Env: ['A=1'], WorkingDir: '/srv', Cmd: ['sh'],
  });
  assert.deepEqual(config, {
    Cmd: ['sh'], Env: ['A=1'], User: 'nobody', WorkingDir: '/srv', Tty: true, AttachStdin: true, AttachStdout: true, AttachStderr: true,
    Privileged: false, ConsoleSize: [24, 80],
  });
  assert.deepEqual(parseExecConfig({ Cmd: ['true'], Env: null, ConsoleSize: null }), {
    Cmd: ['true'], Env: [], User: '', WorkingDir: '', Tty: false, AttachStdin: false, AttachStdout: false, AttachStderr: false, Privileged: false,
  });
});

test('bad configs are refused naming the field', () => {
  const cases: [unknown, string][] = [
    [null, 'exec config : must be a JSON object'],
    [{ Cmd: ['x', 1] }, 'exec config Cmd: must be an array of strings'],
    [{ Cmd: [''] }, 'exec config Cmd: no command specified'],
    [{ Cmd: ['x\0y'] }, 'exec config Cmd: contains a NUL byte'],
    [{ Cmd: ['x'], User: 0 }, 'exec config User: must be a string'],
    [{ Cmd: ['x'], Env: ['=1'] }, 'exec config Env: "=1": not NAME=value'],
    [{ Cmd: ['x'], Privileged: 1 }, 'exec config Privileged: must be true or false'],
    [{ Cmd: ['x'], ConsoleSize: [-1, 80] }, 'exec config ConsoleSize: must be [height, width]'],
  ];
  for (const [raw, message] of cases) {
    assert.throws(() => parseExecConfig(raw), (err: Error) => isBerthError(err, 'exec_config_invalid') && err.message === message, message);
  }
});
