import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isBerthError } from '../../../../src/errors.ts';
import { parseStoredJson, parseStoredLabels, storedInt, storedOptionalInt, storedOptionalString, storedString } from '../../../../src/sqlite-row.ts';

const corrupt = (part: string) => (err: unknown) => isBerthError(err, 'engine_record_corrupt') && err.message.includes(part);

test('stored JSON and labels are read back, or refused naming the record', () => {
  assert.deepEqual(parseStoredJson('{"cmd":["true"]}', 'c1 options'), { cmd: ['true'] });
  assert.deepEqual(parseStoredLabels('{"a":"1"}', 'c1 labels'), { a: '1' });
  assert.throws(() => parseStoredJson('{', 'c1 options'), corrupt('c1 options: stored JSON is unreadable'));
  assert.throws(() => parseStoredJson(5, 'c1 options'), corrupt('c1 options: not stored as text'));
  assert.throws(() => parseStoredLabels('[]', 'c1 labels'), corrupt('labels are not an object'));
  assert.throws(() => parseStoredLabels('{"a":1}', 'c1 labels'), corrupt('label "a" is not a string'));
});

test('stored scalars are checked by type', () => {
  assert.equal(storedString('x', 'w'), 'x');
  assert.equal(storedOptionalString(null, 'w'), null);
  assert.equal(storedInt(3n, 'w'), 3);
  assert.equal(storedOptionalInt(null, 'w'), null);
  assert.throws(() => storedString(1, 'c1 name'), corrupt('c1 name: not a string'));
  assert.throws(() => storedInt(null, 'c1 pid'), corrupt('c1 pid: missing'));
  assert.throws(() => storedOptionalInt('7', 'c1 pid'), corrupt('c1 pid: not a number'));
});
