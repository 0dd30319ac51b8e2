/**
 * `top`'s parsing of ps output as dockerd does it (rows of the container's
 * pids only, the command line joined back, thread rows after their process)
 * and its check on ps_args; against real procps output where it matters.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parsePsOutput, top, validatePsArgs } from '../../../../src/engine/ops/top.ts';
import { isBerthError } from '../../../../src/errors.ts';

const EF = `UID          PID    PPID  C STIME TTY          TIME CMD
root           1       0  0 21:14 ?        00:00:13 /sbin/init splash
root        4242       1  0 21:15 ?        00:00:00 sleep 1000
nobody      4243    4242  0 21:15 pts/0    00:00:00 /bin/sh -c echo  two   spaces
`;

test('only the container\'s pids are kept, the command line joined with single spaces', () => {
  const r = parsePsOutput(EF, [4242, 4243]);
  assert.deepEqual(r.Titles, ['UID', 'PID', 'PPID', 'C', 'STIME', 'TTY', 'TIME', 'CMD']);
  assert.deepEqual(r.Processes, [
    ['root', '4242', '1', '0', '21:15', '?', '00:00:00', 'sleep 1000'],
    ['nobody', '4243', '4242', '0', '21:15', 'pts/0', '00:00:00', '/bin/sh -c echo two spaces'],
  ]);
  assert.deepEqual(parsePsOutput(EF, []).Processes, []);
});

test('thread rows (PID "-") follow the process they belong to, only when it is the container\'s', () => {
  const out = `USER PID %CPU COMMAND\nroot 10 0.0 app\nroot - 0.0 -\nroot 11 0.0 other\nroot - 0.0 -\n`;
  assert.deepEqual(parsePsOutput(out, [10]).Processes, [['root', '10', '0.0', 'app'], ['root', '-', '0.0', '-']]);
});

test('output without a PID column, or with a bad pid, is refused by name', () => {
  assert.throws(() => parsePsOutput('CMD\nsleep\n', [1]), (e: unknown) => isBerthError(e, 'top_no_pid_column'));
  assert.throws(() => parsePsOutput('PID CMD\nxx sleep\n', [1]), (e: unknown) => isBerthError(e, 'top_ps_output'));
});

test("ps_args may not rename a column to PID (dockerd's rule), pid=PID is fine", () => {
  assert.throws(() => validatePsArgs('-o user=PID'), (e: unknown) => isBerthError(e, 'top_ps_args') && /user=PID/.test((e as Error).message));
  validatePsArgs('-o pid=PID,comm');
  validatePsArgs('aux');
});

test('the real ps: this process found by its pid with the default -ef and with aux; a bad option is named', async () => {
  const ef = await top([process.pid]);
  assert.equal(ef.Titles[1], 'PID');
  assert.deepEqual(ef.Processes.map((p) => p[1]), [String(process.pid)]);
  const aux = await top([process.pid], 'aux');
  assert.equal(aux.Titles.at(-1), 'COMMAND');
  assert.equal(aux.Processes.length, 1);
  await assert.rejects(top([process.pid], '--no-such-option'), (e: unknown) => isBerthError(e, 'top_ps_failed'));
});
