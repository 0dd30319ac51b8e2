/**
 * The Go text/template subset of --format (src/cli/berth/format/template.ts):
 * docker's own template tests (templates_test.go, the formatter tests'
 * error strings), Go's semantics for maps, structs, methods, variables,
 * control structures and trim markers, and the list renderer (list.ts)
 * with its table header row.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { renderList } from '../../../src/cli/berth/format/list.ts';
import { HEADER_FUNCS, parseTemplate, TemplateError, TYPE_NAME } from '../../../src/cli/berth/format/template.ts';
import { isBerthError } from '../../../src/errors.ts';

const run = (source: string, data: unknown): string => parseTemplate(source).execute(data);

function fails(source: string, data: unknown, message: string): void {
  assert.throws(() => run(source, data), (err) => {
    assert.ok(err instanceof TemplateError, String(err));
    assert.equal(err.message, message);
    return true;
  });
}

test('docker\'s templates_test.go: json, split/join, truncate, pad, header functions', () => {
  assert.equal(run('{{json .Ports}}', new Map([['Ports', '0.0.0.0:2->8/udp']])), '"0.0.0.0:2->8/udp"', 'GitHub #32120: no HTML escaping');
  assert.equal(run('{{join (split . ":") "/"}}', 'text:with:colon'), 'text/with/colon');
  assert.equal(run('this is a {{ . }}', 'string'), 'this is a string');
  const source = 'tupx5xzf6hvsrhnruz5cr8gwp';
  assert.equal(run('{{truncate . 5}}', source), 'tupx5');
  assert.equal(run('{{truncate . 25}}', source), source);
  assert.equal(run('{{truncate . 30}}', source), source);
  assert.equal(run('{{pad . 3 3}}', source), `   ${source}   `);
  assert.equal(run('{{pad . 3 3}}', ''), '', 'pad leaves an empty string empty');
  for (const t of ['{{ json .}}', '{{ split . ","}}', '{{ join . ","}}', '{{ title .}}', '{{ lower .}}', '{{ upper .}}', '{{ truncate . 2}}']) {
    assert.equal(parseTemplate(t).execute('hello world', { funcs: HEADER_FUNCS }), 'hello world', `header function in ${t}`);
  }
});

test('fields, nested fields, methods with arguments, index, maps and structs', () => {
  const ctr = {
    [TYPE_NAME]: '*formatter.ContainerContext',
    ID: 'abc',
    State: { Status: 'running', Running: true, ExitCode: 0 },
    Labels: new Map([['b', '2'], ['a', '1']]),
    Names: ['web', 'alias'],
    Label: (k: unknown) => (k === 'a' ? '1' : ''),
  };
  assert.equal(run('{{.ID}} {{.State.Status}} {{.State.ExitCode}}', ctr), 'abc running 0');
  assert.equal(run('{{.Label "a"}}|{{.Label "zz"}}', ctr), '1|');
  assert.equal(run('{{index .Labels "a"}}|{{index .Labels "zz"}}|{{index .Names 1}}', ctr), '1||alias');
  assert.equal(run('{{.Labels}} {{.Names}} {{.State}}', ctr), 'map[a:1 b:2] [web alias] {running true 0}', 'Go\'s %v of a map (sorted), a slice and a struct');
  assert.equal(run('{{.Labels.a}}{{.Labels.zz}}', ctr), '1<no value>', 'a missing map key prints <no value>');
  assert.equal(run('{{json .}}', ctr), '{"ID":"abc","State":{"Status":"running","Running":true,"ExitCode":0},"Labels":{"a":"1","b":"2"},"Names":["web","alias"]}');
  assert.equal(run('{{json .Labels}}', ctr), '{"a":"1","b":"2"}', 'map keys sorted, as encoding/json');
  assert.equal(run('{{len .Names}} {{len .ID}} {{len "é"}}', ctr), '2 3 2', 'len of a string counts bytes');
});

test('if/else if/else, range over lists and maps with variables and else, with, break/continue', () => {
  const d = { S: 'exited', M: new Map([['x', '1'], ['a', '2']]), L: ['p', 'q', 'r'], E: [], Z: 0, Obj: { N: 'n' } };
  assert.equal(run('{{if eq .S "running"}}up{{else if eq .S "exited"}}down{{else}}?{{end}}', d), 'down');
  assert.equal(run('{{if .E}}x{{else}}empty{{end}}{{if .Z}}x{{else}}zero{{end}}', d), 'emptyzero', 'empty lists and 0 are false');
  assert.equal(run('{{range $k, $v := .M}}{{$k}}={{$v}};{{end}}', d), 'a=2;x=1;', 'maps in key order');
  assert.equal(run('{{range $i, $e := .L}}{{$i}}{{$e}}{{end}}', d), '0p1q2r');
  assert.equal(run('{{range .E}}x{{else}}none{{end}}', d), 'none');
  assert.equal(run('{{range .L}}{{if eq . "q"}}{{continue}}{{end}}{{if eq . "r"}}{{break}}{{end}}{{.}}{{end}}', d), 'p');
  assert.equal(run('{{with .Obj}}{{.N}}{{end}}{{with .E}}x{{else}}no{{end}}', d), 'nno');
  assert.equal(run('{{range .L}}{{$.S}}{{end}}', d), 'exitedexitedexited', '$ is the data at the top');
  assert.equal(run('{{$x := .S}}{{$x = "y"}}{{$x}}', d), 'y');
});

test('pipelines, parentheses, printf, print, println, comparisons, and/or/not', () => {
  const d = { ID: 'abc', N: 3, Names: ['a', 'b'] };
  assert.equal(run('{{.ID | upper | printf "%s!"}}', d), 'ABC!');
  assert.equal(run('{{printf "%-5s|%3d|%.2f|%q|%v" .ID .N 1.5 "x" .Names}}', d), 'abc  |  3|1.50|"x"|[a b]');
  assert.equal(run('{{print .ID .N 4}}|{{println .ID .N}}', d), 'abc3 4|abc 3\n', 'Sprint spaces between non-strings only, Sprintln always');
  assert.equal(run('{{if and (gt .N 2) (lt .N 5) (ne .ID "x") (not false)}}ok{{end}}', d), 'ok');
  assert.equal(run('{{or "" .ID}} {{and .ID ""}}|', d), 'abc |');
  assert.equal(run('{{eq .N 1 2 3}}', d), 'true', 'eq with several values: any of them');
  assert.equal(run('{{if and .H .H.Status}}y{{else}}n{{end}}|{{or .ID .H.Status}}', { ...d, H: null }), 'n|abc', 'and/or stop at the argument that decides, as Go 1.18');
  assert.equal(run('{{.F}} {{.G}} {{.S}} {{.I}}', { F: 1.5, G: 1234567.5, S: 0.00001, I: 9_007_199_254_740_992 }), '1.5 1.2345675e+06 1e-05 9007199254740992', 'Go\'s %v of floats and integers');
  assert.equal(run('{{lower "ABC"}} {{upper .ID}} {{title "hello world"}}', d), 'abc ABC Hello World');
});

test('trim markers and comments', () => {
  assert.equal(run('a  {{- .}} -\n {{- "b" -}}  \n c', 'x'), 'ax -bc');
  assert.equal(run('{{/* a comment */}}z{{- /* trimmed */ -}}  y', null), 'zy');
});

test('errors read as Go\'s (docker\'s formatter tests)', () => {
  const ctr = { [TYPE_NAME]: '*formatter.ContainerContext', ID: 'abc', State: { Status: 'x' } };
  fails('{{InvalidFunction}}', ctr, 'template: :1: function "InvalidFunction" not defined');
  fails('{{nil}}', ctr, 'template: :1:2: executing "" at <nil>: nil is not a command');
  fails('{{.Foo}}', ctr, 'template: :1:2: executing "" at <.Foo>: can\'t evaluate field Foo in type *formatter.ContainerContext');
  fails('ID\n  {{.State.Foo}}', ctr, 'template: :2:4: executing "" at <.State.Foo>: can\'t evaluate field Foo in type struct');
  fails('{{.ID', ctr, 'template: :1: unclosed action');
  fails('{{if .ID}}x', ctr, 'template: :1: unexpected EOF');
  fails('{{end}}', ctr, 'template: :1: unexpected {{end}}');
  fails('{{$nope}}', ctr, 'template: :1:2: executing "" at <$nope>: undefined variable: $nope');
  fails('{{range .ID}}{{end}}', ctr, 'template: :1:8: executing "" at <{{range .ID}}>: range can\'t iterate over abc');
  fails('{{.State.Health.Status.X}}', ctr, 'template: :1:2: executing "" at <.State.Health.Status...>: can\'t evaluate field Health in type struct');
});

test('renderList: table with docker\'s header names, custom formats, \\t typed as two characters, json', () => {
  const header = { ID: 'CONTAINER ID', Image: 'IMAGE', Size: 'SIZE', Label: (n: unknown) => String(n) };
  const items = [
    { ID: 'containerID1', Image: 'ubuntu', Size: '0B', Label: () => 'v1' },
    { ID: 'containerID2', Image: 'ubuntu', Size: '0B', Label: () => 'v2' },
  ];
  assert.equal(renderList('table {{.Image}}', items, header), 'IMAGE\nubuntu\nubuntu\n');
  assert.equal(renderList('table {{.Image}}\\t{{.Size}}', [], header), 'IMAGE     SIZE\n', 'docker: a table without rows still has its header');
  assert.equal(renderList('{{.Image}}', [], header), '');
  assert.equal(renderList('{{.ID}}\\t{{.Image}}', items, header), 'containerID1\tubuntu\ncontainerID2\tubuntu\n');
  assert.equal(renderList('table {{.ID}}\t{{.Label "com.example.app"}}', items, header), 'CONTAINER ID   com.example.app\ncontainerID1   v1\ncontainerID2   v2\n');
  assert.equal(renderList('json', items.slice(0, 1), header), '{"ID":"containerID1","Image":"ubuntu","Size":"0B"}\n');
  assert.throws(() => renderList('table {{.Nope}}', items, header), (err) => {
    assert.ok(isBerthError(err, 'invalid_format'));
    assert.equal(err.message, '--format "table {{.Nope}}": template parsing error: template: :1:2: executing "" at <.Nope>: can\'t evaluate field Nope in type struct');
    return true;
  });
  assert.throws(() => renderList('{{bogus}}', items, header, '--format'), (err) => isBerthError(err, 'invalid_format') && err.message === '--format "{{bogus}}": template parsing error: template: :1: function "bogus" not defined');
});
