/**
 * `inspect` output (src/cli/berth/format/inspect.ts) against docker's
 * inspector tests (cli/command/inspect/inspector_test.go): the indented
 * array, the empty array, a template per object, the error of a template
 * that fails on one object while the others print.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { renderInspect } from '../../../src/cli/berth/format/inspect.ts';
import { isBerthError } from '../../../src/errors.ts';

test('without --format: a JSON array indented by four spaces, [] when empty', () => {
  assert.deepEqual(renderInspect([{ Dns: '0.0.0.0', Node: '0' }, { Dns: '1.1.1.1', Node: '1' }], undefined), {
    out: '[\n    {\n        "Dns": "0.0.0.0",\n        "Node": "0"\n    },\n    {\n        "Dns": "1.1.1.1",\n        "Node": "1"\n    }\n]\n',
    errors: [],
  });
  assert.deepEqual(renderInspect([], undefined), { out: '[]\n', errors: [] });
  assert.equal(renderInspect([{ Cmd: ['sh', '-c', 'a > b && c < d'] }], undefined).out, '[\n    {\n        "Cmd": [\n            "sh",\n            "-c",\n            "a \\u003e b \\u0026\\u0026 c \\u003c d"\n        ]\n    }\n]\n', 'HTML characters escaped as the daemon\'s encoder leaves them');
  assert.equal(renderInspect([{ A: 1 }, { A: 2 }], 'json').out, '[{"A":1},{"A":2}]\n');
});

test('--format: the template once per object; nothing rendered prints one empty line', () => {
  assert.deepEqual(renderInspect([{ DNS: '0.0.0.0' }, { DNS: '1.1.1.1' }], '{{.DNS}}'), { out: '0.0.0.0\n1.1.1.1\n', errors: [] });
  assert.deepEqual(renderInspect([], '{{.DNS}}'), { out: '\n', errors: [] });
  const ctr = { Id: 'ad3', Size: 53317, State: { Status: 'running', Health: { Status: 'healthy' } }, Config: { Labels: { a: 'b' }, Env: ['A=1'] }, NetworkSettings: { Networks: { none: { IPAddress: '' } } } };
  assert.equal(renderInspect([ctr], '{{.Size}} {{.Id}}').out, '53317 ad3\n');
  assert.equal(renderInspect([ctr], '{{.State.Health.Status}} {{.Config.Labels.a}} {{.Config.Labels.nope}} {{index .Config.Labels "a"}}').out, 'healthy b <no value> b\n', 'Labels is a map: a missing key is <no value>');
  assert.equal(renderInspect([ctr], '{{range $k, $v := .NetworkSettings.Networks}}{{$k}}{{end}} {{json .Config}}').out, 'none {"Labels":{"a":"b"},"Env":["A=1"]}\n');
  assert.equal(renderInspect([ctr], '{{join .Config.Env ","}}').out, 'A=1\n');
});

test('a template failing on one object: the others still print, the error names the format and the key', () => {
  const { out, errors } = renderInspect([{ Name: 'a', Foo: 'x' }, { Name: 'b' }], '{{.Foo}}');
  assert.equal(out, 'x\n');
  assert.equal(errors.length, 1);
  assert.ok(isBerthError(errors[0], 'invalid_format'));
  assert.equal(errors[0]?.message, '--format "{{.Foo}}": template parsing error: template: :1:2: executing "" at <.Foo>: map has no entry for key "Foo"');
  assert.throws(() => renderInspect([{}], '{{.Foo'), (err) => isBerthError(err, 'invalid_format') && /unclosed action/.test(err.message), 'a template that does not parse fails before any object');
});
