import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseQueueArgs, runQueue, type QueueGatewayClient } from '../../../src/cli/berth/commands/fn/queue.ts';
import { isBerthError } from '../../../src/errors.ts';

/** A gateway that records what it was asked and answers from a table. */
function fakeGateway(answers: Record<string, { status: number; text: string }>): QueueGatewayClient & { asked: string[] } {
  const asked: string[] = [];
  return {
    asked,
    request(method, path, body) {
      asked.push(`${method} ${path}${body === undefined ? '' : ` ${JSON.stringify(body)}`}`);
      return Promise.resolve(answers[`${method} ${path}`] ?? { status: 404, text: 'page not found' });
    },
  };
}

const CALLS = [
  { id: 'c1', function: 'fn', state: 'queued', attempts: 1, acceptedAt: '2026-01-01T00:00:00.000Z', nextAt: '2026-01-01T00:00:10.000Z', lastStatus: 503 },
  { id: 'c2', function: 'fn', state: 'dead', attempts: 3, acceptedAt: '2026-01-01T00:00:01.000Z', nextAt: '2026-01-01T00:00:01.000Z', lastStatus: 503, lastError: '3 tries spent; last: status 503', deadAt: '2026-01-01T00:01:00.000Z' },
];

test('fn queue: arguments parsed, bad ones refused naming the problem', () => {
  assert.deepEqual(parseQueueArgs(['ls']), { verb: 'ls', json: false });
  assert.deepEqual(parseQueueArgs(['dead', 'fn', '--json']), { verb: 'dead', json: true, function: 'fn' });
  assert.deepEqual(parseQueueArgs(['replay', 'c2']), { verb: 'replay', id: 'c2' });
  assert.deepEqual(parseQueueArgs(['replay', '--function', 'fn']), { verb: 'replay', function: 'fn' });
  assert.deepEqual(parseQueueArgs(['replay', '--function=fn']), { verb: 'replay', function: 'fn' });
  assert.deepEqual(parseQueueArgs(['rm', 'c1']), { verb: 'rm', id: 'c1' });
  for (const [argv, why] of [[[], /a command is needed/], [['nope'], /unknown command "nope"/], [['ls', '--all'], /unknown flag --all/], [['dead', 'Bad_Name'], /not a function name/], [['replay'], /a call ID, or --function FN/], [['replay', 'c1', '--function', 'fn'], /either a call ID or --function/], [['inspect'], /one call ID/]] as const) {
    assert.throws(() => parseQueueArgs(argv), (err: unknown) => isBerthError(err, 'faas_async_usage') && why.test(err.message), JSON.stringify(argv));
  }
});

test('fn queue ls and dead: tables of the calls owed and of the dead letters, filtered by function', async () => {
  const gw = fakeGateway({ 'GET /system/async-calls': { status: 200, text: JSON.stringify(CALLS) }, 'GET /system/async-calls?function=fn&state=dead': { status: 200, text: JSON.stringify([CALLS[1]]) } });
  let text = '';
  assert.equal(await runQueue(parseQueueArgs(['ls']), gw, (s) => (text += s)), 0);
  const lines = text.trimEnd().split('\n');
  assert.match(lines[0] ?? '', /^CALL ID\s+FUNCTION\s+STATE\s+TRIES\s+LAST\s+NEXT TRY\s+ACCEPTED$/);
  assert.equal(lines.length, 2, 'the dead letter is not in ls');
  assert.match(lines[1] ?? '', /^c1\s+fn\s+queued\s+1\s+503\s+2026-01-01T00:00:10.000Z/);
  text = '';
  await runQueue(parseQueueArgs(['dead', 'fn']), gw, (s) => (text += s));
  assert.match(text, /^c2\s+fn\s+3\s+503\s+2026-01-01T00:01:00.000Z\s+3 tries spent; last: status 503$/m);
  text = '';
  await runQueue(parseQueueArgs(['dead', 'fn', '--json']), gw, (s) => (text += s));
  assert.deepEqual(JSON.parse(text), [CALLS[1]]);
  assert.deepEqual(gw.asked, ['GET /system/async-calls', 'GET /system/async-calls?function=fn&state=dead', 'GET /system/async-calls?function=fn&state=dead']);
});

test('fn queue replay (one, or a function\'s), rm; a refusal of the gateway is an error carrying its message', async () => {
  const gw = fakeGateway({
    'POST /system/async-calls/c2/replay': { status: 202, text: '' },
    'POST /system/async-calls/replay': { status: 202, text: '{"replayed":2}' },
    'DELETE /system/async-calls/c1': { status: 200, text: '' },
    'POST /system/async-calls/c1/replay': { status: 409, text: 'async call "c1": is queued, only a dead call can be replayed\n' },
  });
  let text = '';
  const out = (s: string): void => void (text += s);
  await runQueue(parseQueueArgs(['replay', 'c2']), gw, out);
  await runQueue(parseQueueArgs(['replay', '--function', 'fn']), gw, out);
  await runQueue(parseQueueArgs(['rm', 'c1']), gw, out);
  assert.equal(text, 'c2 queued again\n2 dead letters of fn queued again\nc1\n');
  assert.deepEqual(gw.asked, ['POST /system/async-calls/c2/replay', 'POST /system/async-calls/replay {"function":"fn"}', 'DELETE /system/async-calls/c1']);
  await assert.rejects(runQueue(parseQueueArgs(['replay', 'c1']), gw, out), (err: unknown) => isBerthError(err, 'faas_async_call_busy') && /only a dead call can be replayed/.test(err.message));
  await assert.rejects(runQueue(parseQueueArgs(['inspect', 'gone']), gw, out), (err: unknown) => isBerthError(err, 'faas_async_call_not_found'));
});
