/**
 * What the resident command line decides before it serves anything
 * (src/cli/berth-runtime/resident.ts, resident-start.ts): the front's hello
 * read exactly, the command found past runc's global flags, the environment
 * compared by the variables a command reads.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { environmentDifference, parseHello } from '../../../src/cli/resident/caller.ts';
import { commandName, idleSeconds, relevantEnvironment, SERVED } from '../../../src/cli/berth-runtime/resident-start.ts';

/** A hello as native/common/resident.c lays it out. */
function hello(cwd: string, args: string[], env: string[], version = 2, ttys = 0b010, columns = 120, rows = 40): Buffer {
  const head = Buffer.alloc(24);
  head.writeUInt32LE(version, 0);
  head.writeUInt32LE(args.length, 4);
  head.writeUInt32LE(env.length, 8);
  head.writeUInt32LE(ttys, 12);
  head.writeUInt32LE(columns, 16);
  head.writeUInt32LE(rows, 20);
  return Buffer.concat([head, Buffer.from([cwd, ...args, ...env].map((s) => `${s}\0`).join(''), 'utf8')]);
}

test("a hello gives the working directory, the arguments (empty ones kept), the environment and the caller's terminals", () => {
  assert.deepEqual(parseHello(hello('/srv/b', ['--root', '/r', 'run', '', 'id'], ['PATH=/bin', 'EMPTY=', 'A=b=c'])), {
    cwd: '/srv/b',
    args: ['--root', '/r', 'run', '', 'id'],
    env: [['PATH', '/bin'], ['EMPTY', ''], ['A', 'b=c']],
    terminals: [false, true, false],
    columns: 120,
    rows: 40,
  });
});

test('a hello of another protocol version, too short, or whose counts do not match its strings is refused', () => {
  assert.match(parseHello(hello('/', ['state', 'x'], [], 1)) as string, /protocol 1/);
  assert.equal(parseHello(Buffer.alloc(20)), 'short hello');
  const wrong = hello('/', ['state', 'x'], []);
  wrong.writeUInt32LE(3, 4);
  assert.equal(parseHello(wrong), 'malformed hello');
  // The last string without its NUL.
  assert.equal(parseHello(hello('/', ['state', 'x'], []).subarray(0, -1)), 'malformed hello');
});

test("the command is the first word past runc's global flags and their values", () => {
  assert.equal(commandName(['--root', '/run/x', '--log', 'l', '--debug', 'state', 'id']), 'state');
  assert.equal(commandName(['--root=/run/x', 'create', '--bundle', '.', 'id']), 'create');
  assert.equal(commandName(['--log-format', 'json', '--', 'delete', 'x']), 'delete');
  assert.equal(commandName(['--version']), '');
  // A global flag's value is not the command, even when it names one.
  assert.equal(commandName(['--root', 'run', 'state', 'x']), 'state');
});

test('only commands whose effects all go through the front or the state directory are served', () => {
  for (const c of ['state', 'create', 'start', 'run', 'exec', 'kill', 'delete']) assert.ok(SERVED.has(c), c);
  for (const c of ['update', 'events', 'spec', 'ps', 'features', 'checkpoint', '']) assert.equal(SERVED.has(c), false, c);
});

test("the environments are compared by what a command reads, not by the front's own variables", () => {
  const mine = relevantEnvironment([['PATH', '/bin'], ['HOME', '/root'], ['BERTH_EXECUTOR', '/x'], ['NODE_OPTIONS', '--a']]);
  assert.deepEqual(environmentDifference(mine, relevantEnvironment([['BERTH_EXECUTOR', '/x'], ['PATH', '/bin'], ['NODE_OPTIONS', '--a'], ['HOME', '/home/u'], ['BERTH_FRONT_FD', '5'], ['NODE_TEST_CONTEXT', 'child']])), []);
  assert.deepEqual(environmentDifference(mine, relevantEnvironment([['PATH', '/usr/bin'], ['NODE_OPTIONS', '--b'], ['BERTH_TRACE', '1'], ['NOTIFY_SOCKET', '/run/n']])), ['BERTH_EXECUTOR', 'BERTH_TRACE', 'NODE_OPTIONS', 'NOTIFY_SOCKET']);
});

test('BERTH_RUNTIME_RESIDENT is the idle time in seconds: 0 turns the resident off, nonsense keeps the default', () => {
  assert.equal(idleSeconds({}), 60);
  assert.equal(idleSeconds({ BERTH_RUNTIME_RESIDENT: '0' }), 0);
  assert.equal(idleSeconds({ BERTH_RUNTIME_RESIDENT: '2.5' }), 2.5);
  assert.equal(idleSeconds({ BERTH_RUNTIME_RESIDENT: 'soon' }), 60);
  assert.equal(idleSeconds({ BERTH_RUNTIME_RESIDENT: '-1' }), 60);
});
