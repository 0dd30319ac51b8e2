/**
 * `events` lines (src/cli/berth/format/events.ts) as docker's CLI prints
 * them (prettyPrintEvent, RFC3339NanoFixed), and --format over docker's
 * events.Message.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { asEventMessage, eventLine, eventsTemplate, renderEvent, rfc3339NanoFixed } from '../../../src/cli/berth/format/events.ts';
import { isBerthError } from '../../../src/errors.ts';

const ID = '4386fb97867d1d4f8e4d6b1d4b3f4f0f81d0eb1ea2d4e0d36a1f1ed3d6bca1d0';
const START = { status: 'start', id: ID, from: 'busybox', Type: 'container', Action: 'start', Actor: { ID, Attributes: { name: 'web', image: 'busybox' } }, scope: 'local', time: 1_765_065_541, timeNano: 1_765_065_541_000_000_000n };

const utc = new Date(0).getTimezoneOffset() === 0;

test('docker\'s line: local time with nine fraction digits, type, action, ID, attributes sorted', { skip: utc ? false : 'the expected line is written in UTC' }, () => {
  assert.equal(eventLine(asEventMessage(START)), `2025-12-06T23:59:01.000000000Z container start ${ID} (image=busybox, name=web)`);
  assert.equal(eventLine(asEventMessage({ Type: 'volume', Action: 'create', Actor: { ID: 'data', Attributes: {} }, time: 1, timeNano: 1_000_000_123 })), '1970-01-01T00:00:01.000000123Z volume create data');
  assert.equal(rfc3339NanoFixed(1_765_065_541_123_456_789n), '2025-12-06T23:59:01.123456789Z');
});

test('a number past 2^53 keeps its whole seconds from time', { skip: utc ? false : 'the expected line is written in UTC' }, () => {
  const e = asEventMessage({ ...START, timeNano: 1_765_065_541_500_000_000 });
  assert.match(eventLine(e), /^2025-12-06T23:59:01\.5\d{8}Z /);
});

test('--format over events.Message: Go field names, json with the API\'s tags', () => {
  const e = asEventMessage(START);
  const t = eventsTemplate('{{.Type}} {{.Action}} {{.Actor.ID}} {{.Actor.Attributes.name}} {{.Status}}');
  assert.equal(renderEvent(e, t), `container start ${ID} web start\n`);
  assert.equal(
    renderEvent(e, eventsTemplate('json')),
    `{"status":"start","id":"${ID}","from":"busybox","Type":"container","Action":"start","Actor":{"ID":"${ID}","Attributes":{"image":"busybox","name":"web"}},"scope":"local","time":1765065541,"timeNano":1765065541000000000}\n`,
  );
  assert.equal(eventsTemplate(undefined), undefined);
  assert.equal(renderEvent(e, undefined).endsWith('(image=busybox, name=web)\n'), true);
});

test('a bad --format fails before any event arrives, naming the format', () => {
  assert.throws(() => eventsTemplate('{{.Bogus}}'), (err) => isBerthError(err, 'invalid_format') && err.message === '--format "{{.Bogus}}": template parsing error: template: :1:2: executing "" at <.Bogus>: can\'t evaluate field Bogus in type struct');
  assert.throws(() => asEventMessage({ Type: 1 }), (err) => isBerthError(err, 'daemon_response_invalid'));
});
